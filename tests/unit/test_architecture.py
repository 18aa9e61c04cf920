"""The layers of docs/architecture.md hold, and `lint-imports` would notice if not.

The contracts live in pyproject.toml (`[tool.importlinter]`); `./dev test` runs
`lint-imports` on the tree. These tests show that the check has teeth: on a copy of the
tree, one wrong import (a rule reaching into the pipeline, as rules once did for
`OutRecord`) breaks the contract that says rules decide and never route.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT.exists(), reason="import-linter is not installed")


def lint(tree: Path, *contracts: str) -> subprocess.CompletedProcess[str]:
    args = [str(LINT), "--no-cache", "--no-logo", *(f"--contract={c}" for c in contracts)]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        args, cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def copy_tree(tmp: Path) -> Path:
    for name in ("broker", "agents"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp / "pyproject.toml")
    return tmp


def test_the_tree_keeps_every_contract() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


def test_a_rule_importing_the_pipeline_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    rule = tree / "broker" / "rules" / "cumulative.py"
    text = rule.read_text("utf-8")
    rule.write_text(
        text.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nfrom broker.pipeline.records import OutRecord\n",
            1,
        ),
        "utf-8",
    )
    result = lint(tree, "rules-decide", "layers")
    assert result.returncode != 0
    assert "broker.rules.cumulative -> broker.pipeline.records" in result.stdout
    assert "2 broken" in result.stdout


def test_the_domain_importing_kafka_breaks_the_contract(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    model = tree / "broker" / "picture" / "model.py"
    text = model.read_text("utf-8")
    model.write_text(
        text.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport aiokafka  # noqa: F401\n",
            1,
        ),
        "utf-8",
    )
    result = lint(tree, "pure-domain")
    assert result.returncode != 0
    assert "broker.picture.model -> aiokafka" in result.stdout
