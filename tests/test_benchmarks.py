"""Smoke test of the benchmark harness: it runs on tiny trees and writes its report.

No timing is asserted: times depend on the machine; benchmarks/README.md holds real runs.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import synth  # noqa: E402


def test_synthetic_tree_is_deterministic_and_about_ten_percent_celery(tmp_path):
    first = synth.generate(tmp_path / "a", 200, seed=3)
    second = synth.generate(tmp_path / "b", 200, seed=3)
    assert len(first) == 200
    assert [p.relative_to(tmp_path / "a") for p in first] == [
        p.relative_to(tmp_path / "b") for p in second
    ]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second))
    celery = [p for p in first if "celery" in p.read_text() or ".delay(" in p.read_text()
              or "apply_async" in p.read_text()]
    assert 15 <= len(celery) <= 25


@pytest.mark.slow
def test_quick_run_writes_a_report(tmp_path):
    output = tmp_path / "results.md"
    run = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "run.py"),
            "--work",
            str(tmp_path / "work"),
            "--quick",
            "--tools",
            "",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    text = output.read_text()
    assert text == run.stdout
    for heading in (
        "## Machine",
        "## Trees",
        "## Times",
        "## Growth with size",
        "## Targets (issue 5)",
    ):
        assert heading in text
    for label in ("celerylint cold --no-cache", "celerylint cold, cache on", "celerylint warm",
                  "celerylint 1 file changed"):
        assert f"| synth-200 | {label} |" in text
    assert "exit code" not in text, text  # every celerylint run finished cleanly
    # The edited file is restored and the cache removed after the runs.
    tree = tmp_path / "work" / "trees" / "synth-200"
    assert "benchmark edit" not in (tree / "app0" / "tasks0.py").read_text()
    assert not (tree / ".celerylint_cache").exists()
