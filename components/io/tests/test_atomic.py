import pytest

from embeddenator import io


def test_crash_mid_write_leaves_the_old_file_intact(tmp_path):
    target = tmp_path / 'engram.edn'
    io.write_json(target, {'version': 1})

    def chunks():
        yield b'half of a new file'
        raise KeyboardInterrupt('power cut')
    with pytest.raises(KeyboardInterrupt):
        io.atomic_write(target, chunks())
    assert io.read_json(target) == {'version': 1}
    assert [p.name for p in tmp_path.iterdir()] == ['engram.edn']     # no temporary file left behind


def test_successful_write_replaces_the_file(tmp_path):
    target = tmp_path / 'engram.edn'
    io.write_json(target, {'version': 1})
    io.write_json(target, {'version': 2})
    assert io.read_json(target) == {'version': 2}
    assert len(list(tmp_path.iterdir())) == 1
