"""Scale benchmarks: generated groups and timed runs, reported — never asserted (docs/benchmarks.md)."""
