"""Runs benchmarks/rules.py at toy size so that it cannot rot."""

import argparse
import importlib.util
from pathlib import Path

import pytest

from kizuna.activities.models import Activity
from kizuna.automation.jobs import huey

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "rules.py"


@pytest.mark.django_db(transaction=True)
def test_rules_benchmark_at_toy_size():
    spec = importlib.util.spec_from_file_location("rules_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    over = module.overhead(writes=5, rule_count=6)
    assert over.event_ms > 0 and over.queue_ms > 0 and over.job_rules == 4
    # One worker: the test database is SQLite in memory, one writer at a time.
    through = module.throughput(jobs=3, workers=1, redis_url="redis://127.0.0.1:6379/0")
    assert huey.immediate
    assert [t.storage for t in through] == ["SQLite", "Redis"]
    # Three jobs per storage (plus the rule firing for the lead itself here).
    assert Activity.objects.filter(kind="task", subject="初回連絡").count() >= 6
    args = argparse.Namespace(writes=5, rules=6, jobs=3, workers=1)
    text = module.report(over, through, vendor="SQLite", args=args)
    assert "| Redis | 3 | 1 |" in text and "overhead per write" in text
