"""bench: the benchmark suite (bench/suite/) against the built kernels, per-machine baselines, the regression gate.
Reads the built extensions and the baseline file (benchmarks/baselines.json); writes reports/bench/results.json,
gate.json (read by publish), report.md and chart.svg; the baseline file only from `doit bench_baseline`, by name."""
