"""Kafka's refusals become NotAuthorized (not retriable, says what to ask for); nothing
else is touched."""

from __future__ import annotations

import pytest
from aiokafka import errors

from broker.errors import InfrastructureError, NotAuthorized
from broker.kafka.admin import refusals_as_not_authorized


@pytest.mark.parametrize(
    "refusal",
    [
        errors.TopicAuthorizationFailedError,
        errors.GroupAuthorizationFailedError,
        errors.SaslAuthenticationFailed,
    ],
)
def test_a_refusal_says_what_was_refused_and_what_to_do(refusal: type[Exception]) -> None:
    with pytest.raises(NotAuthorized) as caught, refusals_as_not_authorized("reading x.v1"):
        raise refusal()
    assert not caught.value.retriable
    assert str(caught.value).startswith("Kafka refused reading x.v1")
    assert "ask the operators for the ACL" in str(caught.value)
    assert caught.value.__cause__ is None  # aiokafka's text is not repeated


def test_anything_else_passes_through() -> None:
    with pytest.raises(InfrastructureError), refusals_as_not_authorized("reading x.v1"):
        raise InfrastructureError("Kafka away")
    with pytest.raises(errors.KafkaConnectionError), refusals_as_not_authorized("writing"):
        raise errors.KafkaConnectionError()
