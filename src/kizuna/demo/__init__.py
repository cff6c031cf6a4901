"""Realistic Japanese and Korean demo data (``kizuna demo``, the benchmarks)."""
