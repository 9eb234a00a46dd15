"""bench: the benchmark suite against the built kernels, per-machine baselines and the regression gate.
Reads the built extensions and benchmarks/; writes reports/bench/results.json, gate.json (read by publish),
report.md and chart.svg, and the baseline file (new machines only, or `doit bench_baseline`)."""
