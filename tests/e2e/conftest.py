"""End-to-end: Debian's chromium, driven by Playwright, against `mash-broker web` (and
the real worker) on the session's real Kafka.

The Kafka fixtures are the integration layer's (one Kafka per session, started here if
the integration tests did not run first); every test here is marked `e2e` and
`integration` (it needs Kafka). The browser is /usr/bin/chromium: `./dev` installs it
from Debian, and Playwright never downloads one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from broker.web.feed import pictures_changelog
from tests.e2e.mash_page import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MashPage,
    ensure_topic,
    wait_for_ok,
    web_env,
)
from tests.integration.conftest import _kafka_running, free_ports, kafka, kafka_bootstrap
from tests.integration.worker import WorkerProcess, worker_env

__all__ = ["_kafka_running", "kafka", "kafka_bootstrap"]

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Per module, never per session: Playwright's sync API keeps an event loop running
    on this thread while it is open, and the tests after these use asyncio.run."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: ./dev install puts Debian's chromium there")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-GB")
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    yield tab
    context.close()


@pytest.fixture
def app_id() -> str:
    return f"mash-e2e-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def changelog(kafka_bootstrap: str, app_id: str) -> str:
    """The worker's child-pictures changelog, there before the page starts (as it is
    once a worker has run): the page finds a topic created later only at its next
    metadata refresh."""
    name = pictures_changelog(app_id)
    ensure_topic(kafka_bootstrap, name, compacted=True)
    return name


@pytest.fixture
def mash_page(kafka_bootstrap: str, changelog: str, tmp_path: Path) -> Iterator[MashPage]:
    app_id = changelog.removesuffix("-child-pictures-changelog")
    web = MashPage(web_env(kafka_bootstrap, app_id), tmp_path / "web.log")
    web.start()
    yield web
    web.stop()


@pytest.fixture
def worker(kafka_bootstrap: str, app_id: str, tmp_path: Path) -> Iterator[WorkerProcess]:
    """The real worker, ready (partitions assigned, tables recovered) before the test
    publishes anything."""
    env = worker_env(kafka_bootstrap, tmp_path / "state", app_id)
    env["MASH_WORKER_WEB_PORT"] = str(free_ports(1)[0])
    process = WorkerProcess(env, tmp_path / "worker.log")
    process.start()
    ready = f"http://127.0.0.1:{env['MASH_WORKER_WEB_PORT']}/health/ready"
    if not wait_for_ok(ready, 120, alive=process.alive):
        process.stop()
        pytest.fail(f"the worker did not become ready:\n{process.tail()}")
    yield process
    process.stop()
