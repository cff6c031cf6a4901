"""Runs benchmarks/imports.py at toy size so that it cannot rot."""

import importlib.util
from pathlib import Path

import pytest

from kizuna.customers.models import Contact

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "imports.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("imports_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_import_benchmark_at_toy_size(bench, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    text = bench.run(existing=300, rows=200, vendor="sqlite")
    assert "end to end" in text and "cp932" in text
    assert "final status done" in text
    # The import was undone at the end: only the seeded contacts are left.
    assert Contact.objects.count() == 300
