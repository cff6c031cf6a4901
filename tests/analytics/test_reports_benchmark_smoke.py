"""Runs benchmarks/reports.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "reports.py"


@pytest.mark.django_db
def test_seed_and_run_reports_at_toy_size():
    spec = importlib.util.spec_from_file_location("reports_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sales = module.siblings.load("sales")
    result = sales.seed(open_deals=30, closed_deals=200, companies=40, teams=2, users=6, batch=100)
    timings = module.measure(org=result.org, runs=1, warmup=0)
    assert {t.user for t in timings} == {"admin", "rep"}
    assert all(t.samples_ms and t.queries for t in timings)
    assert any(t.rows for t in timings)
    text = module.report({"deals": 230}, 1.0, timings, "python benchmarks/reports.py")
    assert "| won amount by industry and fiscal quarter (all time) | admin |" in text
