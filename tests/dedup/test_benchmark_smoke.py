"""Runs the Japanese/Korean part of benchmarks/dedup.py so that it cannot rot."""

import importlib.util
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "dedup.py"


def test_benchmark_runs_the_command_and_scores_it(tmp_path):
    spec = importlib.util.spec_from_file_location("dedup_benchmark", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.kizuna_japanese(tmp_path, repeat=1)
    assert result.records > 500 and result.true_pairs > 0
    assert result.f1 >= 0.98
    assert "| Japanese/Korean (generated) | kizuna dedup |" in module.report([result], 1)
