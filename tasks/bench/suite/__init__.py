"""The benchmark suite `bench` runs: kernel microbenchmarks counted under callgrind or timed against numpy.
Imports the components it measures, never the plugin; `python -m tasks.bench.suite.run` runs it alone."""
