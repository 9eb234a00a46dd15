"""A reinstall changes no task input: the tests depend on the build's record of the kernels, not on the binary
that `pip install -e` recompiles, and never on what Cython generates beside its sources."""
import json
import shutil

from test_everyday_loop import doit, executed, make_toy

from tasks.core import files as test_stage


def test_recompiling_the_module_elsewhere_reruns_nothing_but_a_source_change_does(tmp_path):
    make_toy(tmp_path)
    doit(tmp_path)
    module = next(tmp_path.glob('components/kern/src/embeddenator/toykern/_ext*.so'))
    # what `pip install -e` does: the same sources compiled again into the same place, other bytes
    module.write_bytes(module.read_bytes() + b'\0')
    (tmp_path / 'pyx' / '_ext.c').write_text('/* what cythonize writes beside the source */\n')
    assert executed(doit(tmp_path)) == set()
    record = json.loads((tmp_path / 'build' / 'kern' / 'kernels.json').read_text())
    assert set(record) == {'config', 'sources'} and any(s.endswith('ext.h') for s in record['sources'])
    header = tmp_path / 'pyx' / 'ext.h'
    header.write_text(header.read_text().replace('42', '42 + 0'))
    assert {'build:kern', 'test:kern', 'test:app'} <= executed(doit(tmp_path))


def test_cython_outputs_beside_their_source_are_not_inputs(tmp_path):
    for name in ('_k.pyx', '_k.c', '_k.html', 'k.h', 'other.c'):
        (tmp_path / name).write_text('x')
    assert sorted(p.name for p in test_stage.source_files([tmp_path])) == ['_k.pyx', 'k.h', 'other.c']
    shutil.rmtree(tmp_path)
