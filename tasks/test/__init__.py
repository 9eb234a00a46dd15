"""test: `test:<component>`, `integration` and `test:summary`: pytest runs whose inputs are what the tests observe.
Reads the components' files and their built extensions; writes reports/tests/<name>.xml (JUnit), the integration
suite's per-area reports/tests/integration.md|json and the summary reports/tests/summary.md|json."""
