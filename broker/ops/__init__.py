"""Operations: watch the streams without seeing a child.

`figures` computes what the operations team sees (counts by topic, agency, reason field,
rule and partition; readiness); `views` serves it from the worker's web server as
`/ops` and `/ops.json` beside `/health/*` and `/metrics`; `terminal` shows it in a
terminal (`mash-broker status`); `faust_state` reads the running faust worker for the
metrics and health checks. See docs/operations.md.
"""
