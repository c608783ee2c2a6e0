"""Minimal apps the benchmarks measure the project against."""
