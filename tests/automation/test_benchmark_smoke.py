"""Runs benchmarks/jobs.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

from kizuna.automation.jobs import huey
from kizuna.automation.models import Notification

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "jobs.py"


@pytest.mark.django_db(transaction=True)
def test_jobs_benchmark_at_toy_size():
    spec = importlib.util.spec_from_file_location("jobs_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # One worker: the test database is SQLite in memory, one writer at a time.
    results = module.benchmark(jobs=5, workers=1, redis_url="redis://127.0.0.1:6379/0")
    assert huey.immediate
    assert [(r.storage, r.workload) for r in results] == [
        (storage, workload)
        for storage in ("SQLite", "Redis")
        for workload in ("no-op, with job log", "no-op, without job log", "notify one user")
    ]
    assert all(r.run_per_s > 0 and r.enqueue_per_s > 0 for r in results)
    assert Notification.objects.filter(kind="bench").count() == 10
    assert "| Redis | notify one user | 5 |" in module.report(results, jobs=5, workers=1)
