"""compile: the `build` task (the folder is not named build/, which git and every tool treat as output).
Compiles each component's Cython extensions in place from what its manifest declares: reads the manifests, the
.pyx/.pxd/.h sources and pyx/; writes the extension modules next to their sources, compiler scratch under build/."""
