"""core: what every stage shares: the plugin settings (setup.cfg), the workspace model read from the manifests,
report rendering and atomic writes, and the lazy `uptodate` helpers.
Writes nothing itself; the stages write through `reporting`."""
