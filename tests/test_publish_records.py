"""A component's record across runs: a failed or resumed rerun keeps the first run's facts and adds its own."""
from __future__ import annotations

from tasks.release.records import merge_record

FILES = [{'name': 'embeddenator_io-0.2.0-py3-none-any.whl', 'sha256': 'a' * 64}]


def _record(run, status, uploaded=None, served=None, verified=None, tag=None, error=None, files=FILES,
            version='0.2.0'):
    return {'component': 'io', 'dist': 'embeddenator-io', 'version': version, 'run': run, 'status': status,
            'files': files, 'uploaded': uploaded, 'served': served, 'verified': verified, 'tag': tag, 'error': error}


def _runs(*records):
    merged = None
    for record in records:
        merged = merge_record(merged, record)
    return merged


def test_a_failed_rerun_then_a_resume_keep_the_first_runs_times():
    first = _record('r1', 'published', 't1-up', 't1-served', 't1-verified', 'embeddenator-io-v0.2.0')
    failed = _record('r2', 'failed', error='the index is unreachable', files=[])
    resumed = _record('r3', 'already published', tag='embeddenator-io-v0.2.0')
    after_failure = _runs(first, failed)
    assert after_failure['status'] == 'failed' and after_failure['error'] == 'the index is unreachable'
    assert (after_failure['uploaded'], after_failure['served'], after_failure['verified']) == (
        't1-up', 't1-served', 't1-verified')
    assert after_failure['files'] == FILES and after_failure['tag'] == 'embeddenator-io-v0.2.0'
    final = _runs(first, failed, resumed)
    assert final['status'] == 'already published' and final['error'] is None
    assert (final['uploaded'], final['served'], final['verified']) == ('t1-up', 't1-served', 't1-verified')
    assert final['run_published'] == 'r1'
    assert [(h['run'], h['status']) for h in final['history']] == [
        ('r1', 'published'), ('r2', 'failed'), ('r3', 'already published')]
    assert final['history'][1]['error'] == 'the index is unreachable' and final['history'][2]['uploaded'] is None


def test_a_resume_adds_what_it_did_to_what_the_first_run_did():
    uploaded_only = _record('r1', 'failed', 't1-up', 't1-served', error='import failed in a fresh environment')
    resumed = _record('r2', 'resumed', None, 't2-served', 't2-verified', 'embeddenator-io-v0.2.0')
    final = _runs(uploaded_only, resumed)
    assert (final['uploaded'], final['served'], final['verified']) == ('t1-up', 't1-served', 't2-verified')
    assert final['status'] == 'resumed' and final['tag'] == 'embeddenator-io-v0.2.0'


def test_a_new_version_or_other_files_start_a_new_history():
    first = _record('r1', 'published', 't1-up', 't1-served', 't1-verified')
    bumped = merge_record(first, _record('r2', 'failed', version='0.2.1', error='x'))
    assert bumped['uploaded'] is None and len(bumped['history']) == 1
    other = merge_record(first, _record('r2', 'failed', files=[{'name': FILES[0]['name'], 'sha256': 'b' * 64}]))
    assert other['uploaded'] is None and len(other['history']) == 1


def test_the_same_run_writing_twice_is_one_attempt():
    first = _record('r1', 'published', 't1-up', 't1-served', 't1-verified')
    assert len(_runs(first, first)['history']) == 1


def test_the_tag_time_is_a_fact_a_rerun_keeps():
    first = {**_record('r1', 'published', 't1-up', 't1-served', 't1-verified', 'embeddenator-io-v0.2.0'),
             'tagged': 't1-tagged'}
    resumed = {**_record('r2', 'already published', tag='embeddenator-io-v0.2.0'), 'tagged': None}
    final = _runs(first, resumed)
    assert final['tagged'] == 't1-tagged' and final['history'][1]['tagged'] is None
