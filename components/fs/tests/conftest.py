import os

import pytest


@pytest.fixture
def tree(tmp_path):
    """A small tree with every kind of entry extraction must restore."""
    src = tmp_path / 'src'
    (src / 'a' / 'b').mkdir(parents=True)
    (src / 'empty-dir').mkdir()
    (src / 'a' / 'hello.txt').write_bytes(b'hello, world\n')
    (src / 'a' / 'empty.txt').write_bytes(b'')
    (src / 'a' / 'b' / 'blob.bin').write_bytes(os.urandom(7000))
    (src / 'a' / 'b' / 'copy.txt').write_bytes(b'hello, world\n')
    (src / 'ünïcødé ✓.txt').write_text('ü' * 900, encoding='utf-8')
    with open(os.path.join(os.fsencode(src), b'latin-\xe9\xff.bin'), 'wb') as fh:
        fh.write(b'not utf-8 name' * 10)
    os.symlink('a/hello.txt', src / 'link')
    os.chmod(src / 'a' / 'hello.txt', 0o600)
    return src
