"""What-if benchmark: how long `mash-broker what-if` takes to print its summary over a
council's synthetic year.

    python -m bench.what_if [--events 40000] [--seed 0] [--html]

It writes the year (bench/council.py) to a temporary file, then runs the command as a
person would (`mash-broker what-if --config try.toml YEAR`, a fresh process, its output
thrown away) with a configuration that changes two thresholds, and prints the wall and
CPU seconds of that process, the events a second, and the machine's load average
before and after (the machine is shared: a figure without its load means little).
Issue 15's target: the summary in under a minute.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHANGES = """# What if one concern of neglect were enough, and Operation Encompass
# told the nursery of a three-year-old?
[thresholds]
cumulative_neglect_every = 1
encompass_min_age = 3
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--html", action="store_true", help="also write the HTML report")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        year, config = Path(folder) / "year.jsonl", Path(folder) / "try.toml"
        config.write_text(CHANGES)
        with year.open("wb") as out:
            generator = [sys.executable, "-m", "bench.council", "--events", str(args.events)]
            subprocess.run([*generator, "--seed", str(args.seed)], stdout=out, check=True, cwd=ROOT)
        command = [sys.executable, "-m", "broker.cli", "what-if", "--config", str(config)]
        command += [str(year)] + (
            ["--html", str(Path(folder) / "what-if.html")] if args.html else []
        )
        load_before = os.getloadavg()[0]
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)
        wall = time.perf_counter() - started
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    print(f"events               {args.events:,}")
    print(f"wall seconds         {wall:,.1f}   (target: under 60)")
    print(f"CPU seconds          {cpu:,.1f}")
    print(f"events/s (wall)      {args.events / wall:,.0f}")
    print(f"load average         {load_before:.1f} before, {os.getloadavg()[0]:.1f} after")
    return 0 if wall < 60 else 1


if __name__ == "__main__":
    sys.exit(main())
