"""One error hierarchy, whose classes say what the caller should do.

`retriable` is the question every handler asks: retry the operation (Kafka away, a
timeout) or give up on this input and reject it (it will never get better). Messages
never carry a child's personal data: they name fields and rules, not values.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: the field (a dotted path) and what is wrong."""

    field: str
    message: str


class BrokerError(Exception):
    """Base of every error the broker raises on purpose."""

    retriable: bool = False


class ConfigurationError(BrokerError):
    """The configuration is invalid; the process must not start. Fix and restart."""


class InfrastructureError(BrokerError):
    """Kafka, the registry or the disk is unavailable: retry with backoff."""

    retriable = True


class StateUnwritable(InfrastructureError):
    """The worker's state directory (its RocksDB tables) cannot be written: a full disk,
    a read-only filesystem. Never the message's fault, so never a rejection: the worker
    stops and its supervisor starts it again (broker/ops/state_dir.py)."""


class Fenced(BrokerError):
    """Another process has taken over this one's transactional id (the link loop's
    partition moved, or a second worker started with the same one): this one must stop
    without writing anything more (broker/kafka/link_loop.py)."""


class NotAuthorized(BrokerError):
    """Kafka refused this process: wrong credentials, or no ACL for a topic or group.

    Retrying changes nothing: the operators fix the credentials or grant the ACL
    (`mash-broker kafka acls`, deploy/README.md "ACLs"). The message names the topic
    and the operation, never a password.
    """


class InvalidInput(BrokerError):
    """An input can never be accepted as it is: reject it, with every problem found.

    The problems are carried as data so that the rejection record and the sender's
    feedback can list each field and reason. The exception's own text lists only the
    field names, never the values, so it is safe to log.
    """

    retriable = False

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        fields = ", ".join(sorted({p.field for p in self.problems})) or "(none)"
        super().__init__(f"invalid input: {len(self.problems)} problem(s) in {fields}")


class CodecError(InvalidInput):
    """Bytes could not be decoded in the wire format (or encoded: a bug, not input)."""


class UnknownSchema(CodecError):
    """The bytes name a writer schema this broker does not hold."""
