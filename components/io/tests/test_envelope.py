import hashlib
import struct

import pytest

from embeddenator import io
from embeddenator.io import codecs


def _rewrite(path, offset, fmt, value, resign=True):
    data = bytearray(path.read_bytes())
    struct.pack_into(fmt, data, offset, value)
    if resign:
        data[32:64] = hashlib.sha256(bytes(data[:32]) + bytes(data[64:])).digest()
    path.write_bytes(bytes(data))


def _error(path, reader=io.read_packed):
    with pytest.raises(io.FormatError) as info:
        reader(path)
    assert str(path) in str(info.value)
    return info.value


def test_header_layout_and_aligned_payload(packed_file):
    data = packed_file.read_bytes()
    header = io.read_envelope(packed_file).header
    assert data[:4] == b'EDN1' and struct.unpack_from('<H', data, 4)[0] == io.FORMAT_VERSION
    assert header.kind == io.Kind.PACKED and header.payload_offset % 64 == 0
    assert len(data) == header.payload_offset + header.stored_len == header.file_size


def test_envelope_round_trips_any_payload(tmp_path, codec):
    payload = bytes(range(256)) * 40
    io.write_envelope(tmp_path / 'x', io.Kind.ARRAYS, [payload], {'k': 'v'}, codec=codec)
    env = io.read_envelope(tmp_path / 'x')
    assert bytes(env.payload) == payload and env.meta == {'k': 'v'} and env.header.codec.name.lower() == codec


def test_compression_shrinks_a_repetitive_payload(tmp_path):
    io.write_envelope(tmp_path / 'z', io.Kind.ARRAYS, [bytes(100_000)], codec='zlib')
    assert (tmp_path / 'z').stat().st_size < 1_000


@pytest.mark.parametrize('cut', [0, 10, 63, 64, 100])
def test_truncated_file_names_the_offset(packed_file, cut):
    packed_file.write_bytes(packed_file.read_bytes()[:cut])
    err = _error(packed_file)
    assert 'truncated' in err.reason and err.offset == cut


def test_wrong_magic(packed_file):
    packed_file.write_bytes(b'PK\x03\x04' + packed_file.read_bytes()[4:])
    err = _error(packed_file)
    assert err.offset == 0 and 'magic' in err.reason


@pytest.mark.parametrize('offset, fmt, value, words', [
    (4, '<H', 2, 'version'), (6, '<H', 99, 'kind'), (8, '<B', 7, 'codec'), (9, '<B', 1, 'reserved'),
    (12, '<I', 1 << 30, 'metadata length'), (16, '<Q', 1 << 40, 'truncated'), (24, '<Q', 5, 'raw length')])
def test_bad_header_fields_are_named(packed_file, offset, fmt, value, words):
    _rewrite(packed_file, offset, fmt, value)
    assert words in _error(packed_file).reason


def test_length_smaller_than_file_reports_trailing_bytes(packed_file):
    with open(packed_file, 'ab') as fh:
        fh.write(b'junk')
    assert 'unexpected bytes' in _error(packed_file).reason


def test_flipped_payload_bit_fails_the_checksum(packed_file):
    data = bytearray(packed_file.read_bytes())
    data[-1] ^= 0x10
    packed_file.write_bytes(bytes(data))
    err = _error(packed_file)
    assert err.offset == 32 and 'checksum' in err.reason


def test_wrong_kind_is_refused(packed_file):
    err = _error(packed_file, io.read_json)
    assert err.offset == 6 and 'expected JSON' in err.reason


def test_zstd_file_without_zstandard_is_a_format_error(tmp_path, monkeypatch):
    pytest.importorskip('zstandard')
    io.write_json(tmp_path / 'm', {'a': 1}, codec='zstd')
    monkeypatch.setattr(codecs, 'zstandard', None)
    assert 'zstandard' in _error(tmp_path / 'm', io.read_json).reason
    with pytest.raises(ValueError, match='pip install zstandard'):
        io.write_json(tmp_path / 'n', {}, codec='zstd')


def test_decoded_length_must_match_header(tmp_path):
    io.write_json(tmp_path / 'm', {'a': list(range(100))}, codec='zlib')
    raw = io.read_envelope(tmp_path / 'm').header.raw_len
    _rewrite(tmp_path / 'm', 24, '<Q', raw - 1)
    assert 'does not end' in _error(tmp_path / 'm', io.read_json).reason
    _rewrite(tmp_path / 'm', 24, '<Q', raw + 1)
    assert 'decodes to' in _error(tmp_path / 'm', io.read_json).reason


def test_reader_limit_refuses_huge_payloads(tmp_path):
    io.write_json(tmp_path / 'm', {'a': 'x' * 5000})
    with pytest.raises(io.FormatError, match='reader limit'):
        io.read_json(tmp_path / 'm', max_bytes=100)


def test_unknown_codec_name_on_write(tmp_path):
    with pytest.raises(ValueError, match='unknown codec'):
        io.write_json(tmp_path / 'm', {}, codec='lz4')
