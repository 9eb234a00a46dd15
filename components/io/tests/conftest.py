import numpy as np
import pytest

from embeddenator import io


@pytest.fixture(params=io.available_codecs())
def codec(request):
    return request.param


@pytest.fixture
def packed_file(tmp_path):
    path = tmp_path / 'codebook.edn'
    io.write_packed(path, 130, np.arange(12, dtype='<u8'), n=2, row_words=6)
    return path
