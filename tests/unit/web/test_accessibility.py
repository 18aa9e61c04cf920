"""Accessible basics, checked on the rendered pages: a language, one h1, landmarks, a
skip link, a label for every field, captions and header cells on tables, legends on
fieldsets; and the contrast of the page's colour pairs (WCAG 2.2 AA: 4.5:1 for text)."""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from broker.models import RuleId
from tests.unit.web.world import World


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.labels: set[str] = set()
        self.h1 = 0
        self.fieldsets = 0
        self.legends = 0
        self.tables = 0
        self.captions = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag == "label" and "for" in found:
            self.labels.add(found["for"])
        self.h1 += tag == "h1"
        self.fieldsets += tag == "fieldset"
        self.legends += tag == "legend"
        self.tables += tag == "table"
        self.captions += tag == "caption"


def parsed(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page


def check(html: str) -> None:
    page = parsed(html)
    html_tag = next(attrs for tag, attrs in page.tags if tag == "html")
    assert html_tag.get("lang") == "en-GB"
    assert page.h1 == 1
    names = {tag for tag, _ in page.tags}
    assert {"header", "main", "footer", "title"} <= names
    assert any(tag == "a" and attrs.get("href") == "#main" for tag, attrs in page.tags)
    for tag, attrs in page.tags:
        if tag in ("input", "select", "textarea") and attrs.get("type") not in ("hidden", "submit"):
            assert attrs.get("id") in page.labels, f"{tag} {attrs.get('name')} has no label"
        if tag == "img":
            assert "alt" in attrs
    assert page.legends == page.fieldsets
    assert page.captions == page.tables


def test_the_login_page(client: TestClient) -> None:
    check(client.get("/login").text)


def test_the_pages_of_the_queue_an_alert_a_child(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    as_user("priya")
    alert = world.alert("UNSHARED_RISK", "Lily")
    review = next(a for a in world.alerts if a.rule_id == RuleId.IDENTITY_REVIEW)
    for path in (
        "/queue",
        f"/alerts/{alert.alert_id}",
        f"/alerts/{review.alert_id}",
        f"/children/{alert.child.child_id}",
    ):
        check(client.get(path).text)


def test_a_refused_form_links_each_error_to_its_field(
    client: TestClient, as_user: Callable[[str], str], world: World
) -> None:
    token = as_user("sam")
    alert = world.alert("UNSHARED_RISK", "Lily")
    html = client.post(
        f"/alerts/{alert.alert_id}/decision", data={"csrf_token": token, "rationale": ""}
    ).text
    check(html)
    page = parsed(html)
    targets = [
        attrs["href"][1:]
        for tag, attrs in page.tags
        if tag == "a" and attrs.get("href", "").startswith("#field-")
    ]
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert targets
    assert all(t in ids for t in targets)


def luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    ("text", "background", "what"),
    [
        ("#0b0c0c", "#ffffff", "body text"),
        ("#1d5a99", "#ffffff", "links"),
        ("#4c2c92", "#ffffff", "visited links"),
        ("#484949", "#ffffff", "hints and muted text"),
        ("#484949", "#f3f2f1", "hints on grey panels"),
        ("#a4121c", "#ffffff", "overdue and errors"),
        ("#a4121c", "#fbeaea", "overdue on an overdue row"),
        ("#1d5a99", "#fbeaea", "links on an overdue row"),
        ("#ffffff", "#a4121c", "high severity tag, RED"),
        ("#0b0c0c", "#ffd966", "medium severity tag"),
        ("#0b0c0c", "#d2e2f1", "low severity tag"),
        ("#0b0c0c", "#ffbf47", "AMBER"),
        ("#ffffff", "#00703c", "GREEN, the main button"),
        ("#0b0c0c", "#ffdd00", "focus"),
        ("#ffffff", "#0b0c0c", "the banner"),
        ("#dcdcdc", "#0b0c0c", "the role in the banner"),
        ("#0b0c0c", "#fff7bf", "evidence rows"),
    ],
)
def test_colours_meet_aa_contrast(text: str, background: str, what: str) -> None:
    assert contrast(text, background) >= 4.5, what


def test_the_stylesheet_uses_only_the_checked_colours(client: TestClient) -> None:
    import re

    css = client.get("/static/mash.css").text.lower()
    used = set(re.findall(r"#[0-9a-f]{6}\b", css))
    checked = {
        "#0b0c0c",
        "#ffffff",
        "#fff",
        "#1d5a99",
        "#4c2c92",
        "#484949",
        "#f3f2f1",
        "#a4121c",
        "#fbeaea",
        "#ffd966",
        "#d2e2f1",
        "#ffbf47",
        "#00703c",
        "#ffdd00",
        "#dcdcdc",
        "#fff7bf",
    }
    borders_only = {"#1d70b8", "#b1b4b6", "#e5e5e5", "#002d18", "#005a30", "#929191", "#dbdad9"}
    assert used <= checked | borders_only, used - checked - borders_only
