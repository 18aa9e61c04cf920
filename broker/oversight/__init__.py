"""Oversight: what managers, inspectors and auditors read back from what the broker did
(the timeliness report). Pure functions over the records the broker publishes and the
pictures the worker keeps, so that replay and the live views give the same answers."""
