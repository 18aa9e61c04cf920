"""The composition and the command line: `mash-broker web` builds without touching
Kafka (it connects in the app's lifespan), `mash-broker demo` prints events."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from broker.cli.main import build_parser, main
from broker.settings import Settings
from broker.web.server import build_app


def test_the_page_is_built_without_connecting_to_kafka() -> None:
    settings = Settings(kafka_bootstrap="127.0.0.1:1", web_session_secret=SecretStr("s" * 40))
    app = build_app(settings)
    assert isinstance(app, Starlette)
    assert app.state.ctx.is_ready() is False  # nothing read yet


def test_the_commands_are_known() -> None:
    assert build_parser().parse_args(["web"]).command == "web"
    assert build_parser().parse_args(["demo"]).command == "demo"


def test_mash_broker_demo_prints_valid_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) > 20
    assert all(json.loads(line)["event_id"].startswith("demo-") for line in lines)
