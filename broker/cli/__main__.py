"""`python -m broker.cli`: the same as `mash-broker`."""

import sys

from broker.cli.main import main

sys.exit(main())
