"""A client for a Confluent-compatible schema registry (Confluent, Karapace).

Only the two calls the Confluent framing needs: register a schema under a subject (its
id goes in every message) and fetch a schema by id (to read a message). Both answers
never change for a given input, so they are cached for the life of the process; the
HTTP client is stdlib `urllib`, one call per schema and id, on first use.

Errors say what to do: the registry unreachable or failing is an `InfrastructureError`
(retry); an id it does not hold is `UnknownSchema` (reject the message); a schema it
refuses (incompatible with the subject's history) is a `ConfigurationError` (fix the
schema or the subject's compatibility setting, then restart).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Protocol

from broker.errors import ConfigurationError, InfrastructureError, Problem, UnknownSchema

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistry(Protocol):
    def register(self, subject: str, schema_json: str) -> int:
        """The id of `schema_json` under `subject`, registering it if it is new."""
        ...

    def get(self, schema_id: int) -> str:
        """The schema (JSON text) with this id; `UnknownSchema` if there is none."""
        ...


class InMemorySchemaRegistry:
    """The fake, for tests: ids from 1, one id per distinct schema text, as Confluent's."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._schemas: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}

    def register(self, subject: str, schema_json: str) -> int:
        schema_id = self._ids.setdefault(schema_json, len(self._ids) + 1)
        self._schemas[schema_id] = schema_json
        versions = self.subjects.setdefault(subject, [])
        if schema_id not in versions:
            versions.append(schema_id)
        return schema_id

    def get(self, schema_id: int) -> str:
        if schema_id not in self._schemas:
            raise UnknownSchema([Problem("payload", f"names schema id {schema_id}, unknown")])
        return self._schemas[schema_id]


class CachingSchemaRegistry:
    """Any registry, with both answers remembered (a registered id never changes)."""

    def __init__(self, inner: SchemaRegistry) -> None:
        self.inner = inner
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, str] = {}

    def register(self, subject: str, schema_json: str) -> int:
        key = (subject, schema_json)
        if key not in self._ids:
            self._ids[key] = self.inner.register(subject, schema_json)
            self._schemas[self._ids[key]] = schema_json
        return self._ids[key]

    def get(self, schema_id: int) -> str:
        if schema_id not in self._schemas:
            self._schemas[schema_id] = self.inner.get(schema_id)
        return self._schemas[schema_id]


class HttpSchemaRegistry:
    """The registry's REST API over HTTP(S); credentials may be in the URL's userinfo."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("the schema registry URL must be http(s)://host[:port]")
        netloc = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
        self.timeout = timeout
        self._headers = {"Accept": CONTENT_TYPE, "Content-Type": CONTENT_TYPE}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            self._headers["Authorization"] = f"Basic {token}"

    def register(self, subject: str, schema_json: str) -> int:
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        answer = self._call("POST", path, {"schema": schema_json}, what=f"subject {subject}")
        return int(answer["id"])

    def get(self, schema_id: int) -> str:
        answer = self._call("GET", f"/schemas/ids/{int(schema_id)}", None, what=f"id {schema_id}")
        return str(answer["schema"])

    def _call(self, method: str, path: str, body: Any, *, what: str) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked: http(s) only)
            self.base + path, data=data, method=method, headers=self._headers
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise _http_error(exc.code, what) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            message = f"schema registry unavailable for {what}: {type(exc).__name__}"
            raise InfrastructureError(message) from None
        if not isinstance(answer, dict):
            raise InfrastructureError(f"schema registry answered nonsense for {what}")
        return answer


def _http_error(status: int, what: str) -> Exception:
    if status == 404 and what.startswith("id "):
        return UnknownSchema([Problem("payload", f"names schema {what}, which the registry lacks")])
    if status in (401, 403):
        return ConfigurationError(f"the schema registry refused our credentials ({status})")
    if status in (409, 422):
        return ConfigurationError(
            f"the schema registry refused the schema for {what} as incompatible ({status})"
        )
    if status >= 500 or status == 429:
        return InfrastructureError(f"schema registry failed for {what} (HTTP {status})")
    return ConfigurationError(f"schema registry request for {what} failed (HTTP {status})")
