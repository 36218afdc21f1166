"""Benchmarks: `make bench` runs benchmarks/run.py."""
