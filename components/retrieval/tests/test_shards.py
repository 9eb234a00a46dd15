"""Sharded search: identical to one exact scan, in this process and on a real LocalCluster of 2 worker processes,
and never a wrong answer when a worker dies mid-query."""
import os
import signal
import threading
import time

import numpy as np
import pytest

from embeddenator import io, vsa
from embeddenator.retrieval import Index
from embeddenator.retrieval.shards import ShardedIndex, is_sharded, save_shards

distributed = pytest.importorskip('dask.distributed')


@pytest.fixture(scope='module')
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host='127.0.0.1',
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


@pytest.fixture(scope='module')
def book():
    return vsa.PackedMatrix.from_vectors([vsa.random(seed=i) for i in range(3001)])


def queries(n, seed=0):
    return [vsa.random(seed=10**7 + seed * n + i) for i in range(n)]


@pytest.mark.parametrize('shards', [1, 2, 5])
def test_in_process_shards_equal_one_exact_scan(tmp_path, book, shards):
    qs = queries(12)
    want = book.top_k_batch(qs, 10)
    with ShardedIndex(save_shards(tmp_path, book, shards=shards), scheduler=None) as index:
        got = index.query_batch(qs, 10)
        assert len(index) == len(book) and len(index.shards) == shards
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_a_cluster_of_two_processes_gives_identical_ids_and_scores(tmp_path, book, client):
    qs = queries(16, seed=1) + [book.row(17), book.row(2999)]
    want = book.top_k_batch(qs, 25)
    with ShardedIndex(save_shards(tmp_path, book, shards=4), scheduler=client) as index:
        got = index.query_batch(qs, 25)
        ids, scores = index.query(book.row(1234), 3)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert int(ids[0]) == 1234 and int(scores[0]) == vsa.DEFAULT_NNZ
    assert len(set(client.run(os.getpid).values())) == 2


def test_ids_of_an_index_and_their_tie_order_survive_sharding(tmp_path, client):
    rows = [vsa.SparseVec(64, [i % 8], []) for i in range(40)]          # many exact ties
    ids = np.random.default_rng(0).permutation(1000)[:40]
    index = Index.from_vectors(rows, ids=ids)
    q = vsa.SparseVec(64, [3], [])
    with ShardedIndex(save_shards(tmp_path, index, shards=3), scheduler=client) as sharded:
        got = sharded.query(q, 7)
    want = index.query(q, 7)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_a_worker_killed_mid_query_gives_a_retried_answer_or_an_error(tmp_path, client):
    book = vsa.PackedMatrix.from_vectors([vsa.random(seed=i) for i in range(12_000)])
    qs = queries(48, seed=2)
    want = book.top_k_batch(qs, 10)
    pids = client.run(os.getpid)
    out = {}
    with ShardedIndex(save_shards(tmp_path, book, shards=6), scheduler=client) as index:
        def run():
            try:
                out['answer'] = index.query_batch(qs, 10)
            except Exception as err:            # an error is acceptable; a wrong answer is not
                out['error'] = err
        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 30
        busy = {}
        while not busy and time.monotonic() < deadline:
            busy = {w: keys for w, keys in client.processing().items() if keys}
            time.sleep(0.005)
        assert busy, 'no shard task started'
        os.kill(pids[next(iter(busy))], signal.SIGKILL)
        thread.join(120)
    assert not thread.is_alive()
    if 'answer' in out:
        np.testing.assert_array_equal(out['answer'][0], want[0])
        np.testing.assert_array_equal(out['answer'][1], want[1])
    else:
        assert 'error' in out


def test_files_from_another_save_are_refused(tmp_path, book):
    save_shards(tmp_path / 'a', book, shards=2)
    save_shards(tmp_path / 'b', book, shards=2)
    (tmp_path / 'a' / 'shard-00001.edn').write_bytes((tmp_path / 'b' / 'shard-00001.edn').read_bytes())
    index = ShardedIndex(tmp_path / 'a', scheduler=None)
    with pytest.raises(io.FormatError, match='another save'):
        index.query(book.row(0), 2)
    assert is_sharded(tmp_path / 'a') and not is_sharded(tmp_path)


def test_a_damaged_shard_is_a_format_error(tmp_path, book):
    folder = save_shards(tmp_path, book, shards=2)
    data = bytearray((folder / 'shard-00000.edn').read_bytes())
    data[-3] ^= 0xFF
    (folder / 'shard-00000.edn').write_bytes(bytes(data))
    with pytest.raises(io.FormatError, match='checksum'):
        ShardedIndex(folder, scheduler=None).query(book.row(0), 2)


def test_settings_are_checked(tmp_path, book):
    with pytest.raises(ValueError, match='shards must be'):
        save_shards(tmp_path, book, shards=0)
    with pytest.raises(ValueError, match='distinct'):
        save_shards(tmp_path, book, ids=np.zeros(len(book)))
    index = ShardedIndex(save_shards(tmp_path, book), scheduler=None)
    with pytest.raises(ValueError, match='dim'):
        index.query(vsa.random(64, 4, seed=1))
    assert index.query_batch([], 5)[0].shape == (0, 5)
