"""The MASH page: practitioners' and managers' web pages, in a process of their own
(`mash-broker web`, docs/web.md). It reads the views the worker publishes and writes
decisions and the access audit; it never sees an agency's own topics."""
