"""The subject access record as a PDF (reportlab: pure Python, no system libraries).

Rendered from the same data as the JSON (`broker.oversight.subject_access`), so the two
never disagree. Every value a reviewer must look at is shown in full, highlighted and
labelled "FOR REVIEW" with the reason: redaction is the reviewer's decision, made on
the document, not the broker's. Every text is escaped before it reaches reportlab's
paragraph markup: an agency's narrative is data, never markup.
"""

from __future__ import annotations

import io
from typing import Any, Final
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_STYLES: Final = getSampleStyleSheet()
BODY: Final = ParagraphStyle("body", parent=_STYLES["BodyText"], fontSize=8.5, leading=10.5)
HEAD: Final = _STYLES["Heading2"]
TITLE: Final = _STYLES["Title"]
REVIEW_COLOUR: Final = "#fff2cc"


def _text(value: Any) -> str:
    """A value as escaped paragraph text; a marked value with its review label."""
    if isinstance(value, dict) and "value" in value:
        shown = _text(value["value"])
        review = value.get("review")
        if review:
            return (
                f'<font backColor="{REVIEW_COLOUR}">{shown}</font> '
                f"<b>[FOR REVIEW: {escape(str(review))}]</b>"
            )
        return shown
    if isinstance(value, dict):
        return "; ".join(f"{escape(str(k))}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if value is None:
        return "–"
    return escape(str(value))


def _para(value: Any) -> Paragraph:
    return Paragraph(_text(value), BODY)


def _table(header: list[str], rows: list[list[Any]], widths: list[float]) -> Flowable:
    if not rows:
        return Paragraph("None.", BODY)
    data = [[Paragraph(f"<b>{escape(h)}</b>", BODY) for h in header]]
    data += [[_para(cell) for cell in row] for row in rows]
    table = Table(data, colWidths=[w * mm for w in widths], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _facts(facts: dict[str, Any] | None) -> Flowable:
    if not facts:
        return Paragraph("Not held.", BODY)
    return _table(["", ""], [[k.replace("_", " "), v] for k, v in facts.items()], [45, 130])


def subject_access_pdf(record: dict[str, Any]) -> bytes:
    about = record["about"]
    story: list[Flowable] = [
        Paragraph("Subject access record", TITLE),
        Paragraph(
            f"Child {escape(about['child_id'])}. Generated {escape(about['generated_at'])} "
            f"for {escape(about['requested_by'])}. {record['for_review']} values are marked "
            "FOR REVIEW.",
            BODY,
        ),
        Paragraph(escape(about["note"]), BODY),
        Paragraph("Identity", HEAD),
        _facts(record["identity"]),
        Paragraph("Social care record", HEAD),
        _facts(record["social_care"]),
        Paragraph("Agencies' involvement", HEAD),
        _table(
            ["Agency", "Status", "Team", "School", "Since"],
            [
                [i["agency"], i["status"], i["team"], i["school"], i["since"]]
                for i in record["involvements"]
            ],
            [25, 18, 50, 45, 37],
        ),
        Paragraph("School moves", HEAD),
        _table(
            ["From", "To", "Left", "Started", "File", "File transferred"],
            [
                [
                    m["from_school"],
                    m["to_school"],
                    m["leave_date"],
                    m["start_date"],
                    "yes" if m["cp_file_exists"] else "no",
                    m["cp_file_transferred_at"],
                ]
                for m in record["school_moves"]
            ],
            [38, 38, 22, 22, 12, 43],
        ),
        Paragraph("Chronology", HEAD),
        _table(
            ["When", "Agency", "What"],
            [[r["occurred_at"], r["agency"], r["what"]] for r in record["chronology"]],
            [40, 22, 113],
        ),
        Paragraph("Records held, as the agencies sent them", HEAD),
    ]
    for r in record["records"]:
        story += [
            Paragraph(
                f"<b>{escape(r['event_type'])}</b> from {escape(r['from'])}, occurred "
                f"{escape(r['occurred_at'])}, recorded {escape(r['recorded_at'])} "
                f"({escape(r['event_id'])})",
                BODY,
            ),
            _table(["Field", "Value"], [[k, v] for k, v in r["fields"].items()], [40, 135]),
            Spacer(1, 2 * mm),
        ]
    story += [
        Paragraph("Alerts raised for the MASH", HEAD),
        _table(
            ["Raised", "Rule", "Severity", "Summary"],
            [[a["raised_at"], a["rule_id"], a["severity"], a["summary"]] for a in record["alerts"]],
            [35, 35, 15, 90],
        ),
        Paragraph("Disclosures: who was told what, and why", HEAD),
        _table(
            ["When", "To", "Fields shared", "Lawful basis", "Consent", "Decided by"],
            [
                [
                    d["disclosed_at"],
                    d["to_agency"],
                    d["fields"],
                    d["lawful_basis"],
                    d["consent"],
                    d["decided_by"],
                ]
                for d in record["disclosures"]
            ],
            [27, 18, 35, 55, 15, 25],
        ),
        Paragraph("Who looked at the record on the MASH page", HEAD),
        _table(
            ["When", "Who", "Role", "What"],
            [[a["accessed_at"], a["by"], a["role"], a["what"]] for a in record["accesses"]],
            [40, 75, 25, 35],
        ),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"Subject access record: child {about['child_id']}",
        author="mash-broker",
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    document.build(story)
    return out.getvalue()
