"""Benchmarks of mm_cyclegan (scripts, not part of the installed package)."""
