"""Whatever strings an alert carries, the MASH page renders them as text, never markup.

Ingest refuses markup in a child's name (broker.models.text), but a narrative, a team or
a school's name may hold `<`, quotes and the like, and they reach alerts' words. The page's
Jinja environment autoescapes every template (broker/web/http.py) and no template marks
anything safe; this shows it for the strings a hostile sender would try.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from tests.unit.web.world import World

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "' onmouseover='alert(3)",
    "javascript:alert(4)//</a>",
)


@pytest.fixture
def world(world: World) -> World:
    """The demo world with one alert's every word replaced by hostile strings."""
    alerts = list(world.alerts)
    index = next(i for i, a in enumerate(alerts) if a.child.given_name == "Lily")
    alert = alerts[index]
    child = alert.child.model_copy(update={"given_name": HOSTILE[0], "family_name": HOSTILE[1]})
    alerts[index] = alert.model_copy(
        update={
            "child": child,
            "summary": HOSTILE[0],
            "explanation": HOSTILE[1],
            "recommended_action": HOSTILE[2],
            "identity_note": HOSTILE[3],
        }
    )
    return replace(world, alerts=alerts)


def test_the_queue_and_the_alert_page_render_hostile_strings_inert(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("sam")
    alert = next(a for a in world.alerts if a.summary == HOSTILE[0])
    pages = [client.get("/queue").text, client.get(f"/alerts/{alert.alert_id}").text]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "onmouseover='alert" not in page
    alert_page = pages[1]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in alert_page
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in alert_page
    assert "&#39; onmouseover=&#39;alert(3)" in alert_page
