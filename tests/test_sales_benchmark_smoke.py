"""Runs benchmarks/sales.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

from kizuna.sales import criteria
from kizuna.sales.models import Deal, StageChange

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "sales.py"


@pytest.fixture(scope="module")
def sales_benchmark():
    spec = importlib.util.spec_from_file_location("sales_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_seed_and_measure_at_toy_size(sales_benchmark, settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    result = sales_benchmark.seed(
        open_deals=120, closed_deals=300, companies=60, teams=2, users=6, batch=100
    )
    assert Deal.objects.filter(status=Deal.Status.OPEN).count() == 120
    assert Deal.objects.exclude(status=Deal.Status.OPEN).count() == 300
    assert not Deal.objects.filter(status=Deal.Status.OPEN, closed_at__isnull=False).exists()
    assert not Deal.objects.exclude(status=Deal.Status.OPEN).filter(closed_at=None).exists()
    # Every deal has its entry row in the stage history, and sits where its history ends.
    assert StageChange.objects.filter(from_stage=None).count() == 420
    deal = Deal.objects.filter(status=Deal.Status.OPEN).order_by("-id").first()
    assert deal.stage_changes.order_by("at", "id").last().to_stage_id == deal.stage_id
    # An open deal has captured what the stages it passed ask for.
    passed = [s for s in deal.pipeline.stages.all() if s.position < deal.stage.position]
    assert criteria.missing_items(deal, passed) == []
    # The search index was rebuilt after the load.
    assert Deal.objects.filter(search_index__contains=deal.search_index[:5]).exists()

    timings = sales_benchmark.measure(org=result.org, requests=4, warmup=1)
    assert {t.user for t in timings} == {"rep", "admin"}
    names = {t.endpoint for t in timings}
    assert {
        "board first paint",
        "stage move, backward",
        "stage move, forward (criteria met)",
        "stage move, refused (criteria missing)",
        "forecast, quarter by owner",
        "forecast, quarter by team",
    } <= names
    for timing in timings:
        assert timing.samples_ms and timing.queries, timing
        assert not timing.note, timing  # every status as expected (200, refused: 422)
    text = sales_benchmark.report(result, timings, "python benchmarks/sales.py")
    assert "| board first paint | rep |" in text
    assert "120 open deals" in text
