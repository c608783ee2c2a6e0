"""Benchmarks: measured with `make bench*`, never asserted in tests."""
