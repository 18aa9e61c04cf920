"""A stand-in for a Confluent-compatible schema registry, over real HTTP on 127.0.0.1.

Why a stand-in and not Apicurio or Karapace (issue 17): neither could be run on this
project's machines. Maven Central publishes no runnable Apicurio (no `-runner` jar of
`io.apicurio:apicurio-registry-app` 2.6.13.Final or 3.3.3); building the 2.6.13 Quarkus
app from its jars fails because `io.apicurio:apicurio-registry-schema-util-provider:
2.6.13.Final` is not on Maven Central (its pom names packages.confluent.io and
jitpack.io, which are not reachable); Apicurio 3.x needs Java 21 and Debian 12 ships 17;
Karapace is not on PyPI. So what this proves is the broker's side of the protocol on
the real Kafka (register, ids in the framing, fetch by id, an unknown id refused), not
a registry's compatibility rules.

It answers the two calls broker/codec/registry.py makes, as Confluent's API does: one
global id per distinct schema text (the same schema under two subjects has one id),
404 with error code 40403 for an unknown id, and 409 for a subject told to refuse.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class RegistryState:
    ids: dict[str, int] = field(default_factory=dict)
    subjects: dict[str, list[int]] = field(default_factory=dict)
    refused_subjects: set[str] = field(default_factory=set)
    fetched: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def schema(self, schema_id: int) -> str | None:
        return next((text for text, i in self.ids.items() if i == schema_id), None)


class RegistryHandler(BaseHTTPRequestHandler):
    """What every registry double answers with: the registry's JSON, quietly."""

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _handler(state: RegistryState) -> type[BaseHTTPRequestHandler]:
    class Handler(RegistryHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            parts = self.path.strip("/").split("/")
            if len(parts) != 3 or parts[0] != "subjects" or parts[2] != "versions":
                self._answer(404, {"error_code": 404, "message": "not found"})
                return
            subject = unquote(parts[1])
            with state.lock:
                if subject in state.refused_subjects:
                    message = "Schema being registered is incompatible with an earlier schema"
                    self._answer(409, {"error_code": 409, "message": message})
                    return
                schema_id = state.ids.setdefault(body["schema"], len(state.ids) + 1)
                versions = state.subjects.setdefault(subject, [])
                if schema_id not in versions:
                    versions.append(schema_id)
            self._answer(200, {"id": schema_id})

        def do_GET(self) -> None:
            schema_id = int(self.path.rstrip("/").rsplit("/", 1)[1])
            with state.lock:
                state.fetched.append(schema_id)
                text = state.schema(schema_id)
            if text is None:
                self._answer(404, {"error_code": 40403, "message": "Schema not found"})
            else:
                self._answer(200, {"schema": text})

    return Handler


@contextmanager
def standin_registry() -> Iterator[tuple[str, RegistryState]]:
    """(`http://127.0.0.1:PORT`, its state) for the duration of the block."""
    state = RegistryState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
