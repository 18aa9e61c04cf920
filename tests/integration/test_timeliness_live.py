"""The timeliness report from the live worker on the real Kafka is the report replay
gives: a month of known timings (tests/data/timeliness_may_2026.jsonl) published one
event at a time to a worker on the event clock, then the report computed from what the
worker left on the topics (alerts, the disclosure audit) and in its child-pictures
table, as the MASH page computes it; and `mash-broker report timeliness --live` reads
the same from the topics."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from broker.cli.main import main
from broker.cli.report import replay_report
from broker.config.partnership import load_config
from broker.kafka.local import LocalKafka
from broker.kafka.pictures import live_pictures
from broker.models import Alert, AuditDisclosure
from broker.oversight.timeliness import timeliness
from broker.settings import Settings
from tests.integration.test_live_equals_replay import LiveWorker, _live_records
from tests.unit.test_timeliness import AS_OF, FILE, JULY, MAY


@pytest.mark.parametrize("child_stage", ["faust", "loop"])
def test_the_live_worker_gives_the_report_replay_gives(
    child_stage: str,
    own_kafka: LocalKafka,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = [json.loads(line) for line in FILE.read_text().splitlines() if line.strip()]
    worker = LiveWorker(own_kafka.bootstrap, tmp_path)
    worker.process.env["MASH_CHILD_STAGE"] = child_stage  # the loop writes the same changelog
    worker.process.start()
    try:
        outputs = [json.loads(r) for r in _live_records(own_kafka.bootstrap, worker, events, AS_OF)]
        settings = Settings(
            kafka_bootstrap=own_kafka.bootstrap, app_id=worker.process.env["MASH_APP_ID"]
        )
        pictures = asyncio.run(live_pictures(settings))
    finally:
        worker.process.stop()
    alerts = [Alert.model_validate(r["value"]) for r in outputs if r["topic"] == "mash.alert.v1"]
    disclosures = [
        AuditDisclosure.model_validate(r["value"])
        for r in outputs
        if r["topic"] == "audit.disclosure.v1"
    ]
    live = timeliness(
        pictures.values(), alerts, disclosures, load_config(), start=MAY, end=JULY, as_of=AS_OF
    )
    replayed = replay_report(FILE, MAY, JULY, AS_OF)
    assert len(pictures) == 4  # Ava, Ben, Cara, Dan
    assert live.to_csv() == replayed.to_csv()
    assert live.totals("decision_day").in_time == 2  # the figures are the unit test's

    # and the command reads the same from the running broker's topics
    monkeypatch.setenv("MASH_KAFKA_BOOTSTRAP", own_kafka.bootstrap)
    monkeypatch.setenv("MASH_APP_ID", settings.app_id)
    window = ["--from", MAY.isoformat(), "--to", JULY.isoformat(), "--until", AS_OF.isoformat()]
    assert main(["report", "timeliness", "--live", *window, "--csv"]) == 0
    assert capsys.readouterr().out == replayed.to_csv()
