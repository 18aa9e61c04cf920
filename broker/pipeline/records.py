"""What a stage asks to be published, before any wire format is chosen; and where each
thing the rules and the policy decide is published.

The domain (broker.rules, broker.policy) returns what it decided: alerts, disclosures,
feedback. Which topic and key each goes to is decided here, once, so that the
dependency runs one way (pipeline -> rules), never back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from broker.models import Alert, Feedback
from broker.policy.disclose import Disclosure
from broker.rules import Output
from broker.topics import ALERTS, AUDIT_DISCLOSURE, feedback_topic, notification_topic


@dataclass(frozen=True, slots=True)
class OutRecord:
    """One record to publish: the topic, its key and a model for the value.

    Stages return these; the sink (Kafka in the worker, stdout in replay, a list in
    tests) decides how they are encoded.
    """

    topic: str
    key: str | None
    value: BaseModel

    def to_json(self) -> dict[str, Any]:
        """The replay/`tail` form: `{"topic", "key", "value"}` with the value's JSON form."""
        return {
            "topic": self.topic,
            "key": self.key,
            "value": self.value.model_dump(mode="json"),
        }


def records_for(outputs: Iterable[Output]) -> list[OutRecord]:
    """The records for what was decided, in the order decided.

    An alert goes to the MASH's topic and a disclosure's notification to the agency's,
    both keyed by the child so that one child's records stay in order; the audit record
    follows its notification. Feedback goes to the sending agency, keyed by its event.
    """
    records: list[OutRecord] = []
    for output in outputs:
        if isinstance(output, Alert):
            records.append(OutRecord(ALERTS.name, output.child.child_id, output))
        elif isinstance(output, Disclosure):
            agency = output.notification.to_agency.value
            records.append(
                OutRecord(notification_topic(agency), output.child_id, output.notification)
            )
            records.append(OutRecord(AUDIT_DISCLOSURE.name, output.child_id, output.audit))
        elif isinstance(output, Feedback):
            records.append(
                OutRecord(feedback_topic(output.to_agency.value), output.event_id, output)
            )
        else:  # pragma: no cover - the union is closed; mypy checks it
            raise TypeError(f"not an output: {type(output).__name__}")
    return records
