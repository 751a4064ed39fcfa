"""Benchmarks run by `make bench`; each `bench_*.py` runs alone too (`python -m bench.bench_submit`)."""
