"""Suite-wide order: the browser tests run last.

Playwright's sync API keeps an asyncio event loop marked as running on the main thread
while it is open; a test after it that calls `asyncio.run` (or a pytest-asyncio runner)
would fail with "cannot be called from a running event loop". Running tests/e2e at the
end keeps every other layer independent of how the browser fixtures are scoped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

E2E = Path(__file__).resolve().parent / "e2e"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: E2E in item.path.resolve().parents)  # stable: order kept
