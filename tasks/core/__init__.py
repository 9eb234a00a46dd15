"""core: what more than one stage needs: settings, the workspace model, files and atomic writes, the kernels and
their one build definition, JUnit reading, tool runs, PluginError and reports (tasks/README.md lists them).
Writes nothing itself; the stages write through `files` and `reporting`."""
