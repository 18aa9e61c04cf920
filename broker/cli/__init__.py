"""`mash-broker`: the command line, one module per command (as faust does).

`main` parses, builds the one `Settings` and hands over to the command's module.
"""

from broker.cli.main import main

__all__ = ["main"]
