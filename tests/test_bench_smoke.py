"""The benchmarks run at a tiny size and agree with hand-written numpy, so ``make bench`` cannot rot.

Nothing here is timed: the smoke run checks that every workload runs and that the engine's (and
PyTorch's) outputs and gradients match the hand-written numpy ones.
"""
import json

import pytest

from benchmarks import report, runner
from conftest import skip_unless_ci

COMPARED = ("A", "B", "C", "C'", "D", "E", "G", "G'", "H", "J")


@pytest.fixture(scope="module")
def smoke():
    return runner.run(smoke=True, log=lambda message: None)


def workload(result, wid):
    (entry,) = [w for w in result["workloads"] if w["id"] == wid]
    return entry


def checks_of(entry):
    """{label: check} for a workload, flattening D's per-size checks."""
    checks = entry["checks"]
    if all("agrees" not in c for c in checks.values()):
        return {f"{name} at {size}": c for size, per in checks.items() for name, c in per.items()}
    return checks


def test_every_workload_is_reported(smoke):
    assert [w["id"] for w in smoke["workloads"]] == list(runner.ORDER)


@pytest.mark.parametrize("wid", COMPARED)
def test_engine_matches_hand_written_numpy(smoke, wid):
    entry = workload(smoke, wid)
    assert entry["status"] == "ok", entry.get("traceback")
    checks = checks_of(entry)
    assert any(label.startswith("engine") for label in checks)
    for label, check in checks.items():
        assert check["gradients"] >= 1, label
        assert check["agrees"], f"{wid} {label}: max abs error {check['max_abs_error']}"


@pytest.mark.torch
@pytest.mark.parametrize("wid", COMPARED)
def test_pytorch_baseline_runs_and_matches_numpy(smoke, torch, wid):
    assert "torch" in workload(smoke, wid)["implementations"]


def test_chain_memory_returns_to_start_once_the_output_is_dropped(smoke):
    memory = workload(smoke, "D")["memory"]["engine"]
    assert memory["peak"] > 0
    assert memory["after_output_dropped"] <= max(64 * 1024, 0.01 * memory["peak"])


def test_drawing_workload_produces_svg(smoke):
    entry = workload(smoke, "F")
    if entry["status"] == "not available":
        skip_unless_ci(entry["note"])
    assert entry["status"] == "ok", entry.get("traceback")
    assert all(row["svg_chars"] > 0 for row in entry["rows"])


def test_chapter_workload_runs(smoke):
    entry = workload(smoke, "K")
    if entry["status"] == "not available":
        skip_unless_ci(entry["note"])
    assert entry["status"] == "ok", entry.get("traceback")
    assert entry["rows"][0]["times"]["engine"] > 0


def test_smoke_report_and_json(smoke):
    text = report.to_text(smoke)
    for wid in runner.ORDER:
        assert f"| {wid} " in text
    assert json.loads(report.to_json(smoke))["mode"] == "smoke"


def test_timed_table_at_a_tiny_size():
    """The timing and the full table, exercised on the smoke sizes in a few milliseconds."""
    result = runner.run(only=["A", "D", "F"], tiny=True, repeats=2, min_time=0.001, log=lambda message: None)
    a, d = workload(result, "A"), workload(result, "D")
    assert a["rows"][0]["times"]["engine"] > 0
    assert a["rows"][0]["target"]["met"] in (True, False)
    assert [row["label"] for row in d["rows"]] == ["D 100 per op", "D 1k per op", "D per-op 1k/100",
                                                   "D memory 1k"]
    text = report.to_text(result)
    assert "| A " in text and "| D per-op 1k/100 " in text
