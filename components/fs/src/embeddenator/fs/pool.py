"""A small process pool with one private pipe per worker, so a dying worker can never wedge the others.

`concurrent.futures.ProcessPoolExecutor` shares one task queue (and its lock) between workers: a worker killed
while holding that lock can leave the pool hanging on shutdown. Here each worker has its own duplex pipe and
works on one unit at a time; the parent waits on every pipe *and* every process sentinel, so a death is seen at
once, the ingest fails with an `FsError`, and the remaining workers are terminated. Work that has not been
handed out yet simply stays in the parent.
"""
from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from multiprocessing.connection import wait
from typing import Callable, Iterable

from embeddenator.fs.errors import FsError

_STOP = None


def _serve(conn, fn: Callable, args: tuple) -> None:
    """Worker loop: receive a unit, reply ('ok', result) or ('error', message); stop on None.

    Ctrl-C reaches the whole process group; the parent alone answers it (it stops the workers), so a worker
    ignores SIGINT instead of printing a KeyboardInterrupt traceback of its own.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while (unit := conn.recv()) is not _STOP:
        try:
            conn.send(('ok', fn(*args, unit)))
        except FsError as err:
            conn.send(('error', str(err)))
        except Exception as err:    # noqa: BLE001 - reported to the parent, which fails the whole run
            conn.send(('error', f'{type(err).__name__}: {err}'))


def _context():
    # fork where the OS has it: workers start in milliseconds and never re-import the caller's __main__ (spawn and
    # forkserver do, which breaks scripts without a main guard). Workers only read files and run numpy.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context('fork' if 'fork' in methods else 'spawn')


def run_units(units: Iterable, fn: Callable, args: tuple, workers: int,
              done: Callable[[object, object], None]) -> None:
    """Call fn(*args, unit) for every unit in `workers` processes; `done(unit, result)` in the parent as each ends."""
    ctx = _context()
    todo = deque(units)
    procs, conns, busy = [], [], {}
    try:
        for _ in range(min(workers, len(todo))):
            parent, child = ctx.Pipe(duplex=True)
            proc = ctx.Process(target=_serve, args=(child, fn, args), daemon=True)
            proc.start()
            child.close()
            procs.append(proc)
            conns.append(parent)
        for proc, conn in zip(procs, conns):
            _hand_out(busy, conn, proc, todo.popleft())
        while busy:
            _step(busy, todo, done)
        for conn in conns:
            conn.send(_STOP)
        for proc in procs:
            proc.join(timeout=5)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for conn in conns:
            conn.close()


def _died(proc) -> FsError:
    proc.join(timeout=1)
    return FsError(f'a worker process died (pid {proc.pid}, exit code {proc.exitcode}); the ingest was abandoned '
                   'and nothing was written')


def _step(busy: dict, todo: deque, done: Callable) -> None:
    sentinels = {proc.sentinel: proc for proc, _ in busy.values()}
    for ready in wait([*busy, *sentinels]):
        if ready in sentinels:          # only busy workers are watched: a death always loses work
            proc = sentinels[ready]
            raise _died(proc)
        proc, unit = busy.pop(ready)
        try:
            status, payload = ready.recv()
        except (EOFError, OSError):
            raise _died(proc) from None
        if status != 'ok':
            raise FsError(payload)
        done(unit, payload)
        if todo:
            _hand_out(busy, ready, proc, todo.popleft())


def _hand_out(busy: dict, conn, proc, unit) -> None:
    busy[conn] = (proc, unit)
    try:
        conn.send(unit)
    except OSError:                 # BrokenPipeError: the worker is already gone
        raise _died(proc) from None
