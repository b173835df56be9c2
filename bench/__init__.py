"""Benchmarks for the performance targets of SPEC §9: `make bench` or `python -m bench`."""
