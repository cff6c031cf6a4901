"""Runs benchmarks/digest.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "digest.py"


@pytest.mark.django_db
def test_digest_benchmark_at_toy_size(settings):
    spec = importlib.util.spec_from_file_location("digest_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.run(users=30)
    assert result.sent == 30
    assert result.total_s > 0 and result.queries < 30
    assert "| 30 | 30 |" in module.report(result) and result.cpu_s > 0
