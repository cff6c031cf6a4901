"""Runs benchmarks/analytics.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

from kizuna.activities.models import Activity
from kizuna.customers.models import Lead
from kizuna.sales.models import Deal

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "analytics.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("analytics_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_seed_and_measure_at_toy_size(bench, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    result = bench.seed(
        deals=300, activities=500, leads=200, companies=100, contacts=100, teams=3, users=12
    )
    assert Deal.objects.count() == 300
    assert Activity.objects.count() == 500
    assert Lead.objects.count() == 200
    assert Deal.objects.filter(source_lead__isnull=False).count() == 100

    timings = bench.measure(org=result.org, requests=2, warmup=1)
    assert {t.user for t in timings} == {"rep", "manager", "admin"}
    assert len(timings) == 9
    for timing in timings:
        assert timing.statuses == {200} and len(timing.samples_ms) == 2 and timing.queries
    text = bench.report(result, timings, "python benchmarks/analytics.py --deals 300")
    assert "| executive (/dashboard/executive/) | rep |" in text
