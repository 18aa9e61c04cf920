"""The sharing policy of rules.md: who is told what without anyone deciding, on what
lawful basis and with what consent, minimised for each recipient and audited.

- `broker.policy.consent`: when consent stops an automatic share, what a disclosure
  records as its consent status.
- `broker.policy.minimisation`: the minimisation table (data) and how it is applied.
- `broker.policy.shares`: the automatic shares and a MASH `share` decision's shares.
- `broker.policy.disclose`: one notification and one audit record per share.

Submodules are imported by name (this package imports nothing itself), because the
configuration (broker.config.partnership) reads the minimisation table from here.
"""
