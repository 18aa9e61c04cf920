"""`python -m broker.codec freeze [SCHEMAS_DIR]`: add the current schemas to history.

Run it after changing a schema, and commit the new history files with the change (see
docs/contract.md, "Evolving a schema").
"""

from __future__ import annotations

import sys
from pathlib import Path

from broker.codec.schemas import freeze_history
from broker.settings import Settings


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "freeze":
        sys.stderr.write("usage: python -m broker.codec freeze [SCHEMAS_DIR]\n")
        return 2
    directory = Path(argv[1]) if len(argv) > 1 else Settings().schemas_dir
    for path in freeze_history(directory):
        sys.stdout.write(f"{path}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
