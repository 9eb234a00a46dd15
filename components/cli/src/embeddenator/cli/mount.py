"""`embeddenator mount ENGRAM MOUNTPOINT`: serve an engram's tree read-only through FUSE.

It stays in the foreground (as `rclone mount` or `sshfs -f`), so Ctrl-C ends it and a service manager can run
it; `--background` starts the same command detached and returns once the mount is ready. Exit codes: 0 after
an unmount (`umount`, `fusermount3 -u`) or SIGTERM/SIGHUP, 130 after Ctrl-C (the mount is removed first), 1 for a
bad mountpoint or a mount libfuse refused, 2 for a corrupt engram.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

DESCRIPTION = ('Serve the tree held by ENGRAM read-only at MOUNTPOINT (an existing empty folder) through FUSE '
               '3: files decode chunk by chunk as they are read, stat shows the stored modes, owners and mtimes. '
               'Runs in the foreground until unmounted (umount MOUNTPOINT or fusermount3 -u MOUNTPOINT) or '
               'Ctrl-C; --background returns once mounted. Needs fuse3 and the mount extra '
               "(pip install 'embeddenator-fs[mount]').")
READY_TIMEOUT_S = 60.0


def add_parser(sub, common) -> None:
    """Register `mount` on the subcommand parsers `sub`."""
    p = sub.add_parser('mount', parents=[common], help='serve an engram read-only through FUSE',
                       description=DESCRIPTION,
                       epilog='exit codes: 0 unmounted, 1 user error, 2 corrupt engram, 130 Ctrl-C')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('mountpoint', metavar='MOUNTPOINT', help='an empty folder')
    p.add_argument('--background', action='store_true',
                   help='detach once mounted (stop it with fusermount3 -u MOUNTPOINT)')
    p.set_defaults(run=mount)


def mount(args, show: bool) -> tuple[dict, list[str]]:
    """Mount and serve until unmounted; KeyboardInterrupt (exit 130) after Ctrl-C, once the mount is gone."""
    from embeddenator.fs.mount import serve
    if args.background:
        return _background(args)

    def ready():
        print(f'embeddenator mount: {args.engram} mounted read-only at {args.mountpoint}; stop with '
              f'fusermount3 -u {args.mountpoint} (or umount) or Ctrl-C', file=sys.stderr, flush=True)

    stats = serve(args.engram, args.mountpoint, on_ready=ready)     # mountpoint, binding, then the engram
    if stats['signal'] == 'SIGINT':
        raise KeyboardInterrupt
    result = {'engram': args.engram, 'mountpoint': args.mountpoint, **stats}
    return result, [f'unmounted {args.mountpoint}: {stats["reads"]} reads, {stats["bytes_read"] / 1e6:.2f} MB, '
                    f'{stats["chunks_decoded"]} chunks decoded in {stats["seconds"]:.1f} s']


def _background(args) -> tuple[dict, list[str]]:
    """Start `mount` detached (its own session, output to a log) and return when the mount is up; FsError with
    the child's message if it ends first."""
    from embeddenator.fs import FsError
    from embeddenator.fs.mount import check_mountpoint
    where = check_mountpoint(args.mountpoint)
    log = tempfile.TemporaryFile()
    command = [sys.executable, '-m', 'embeddenator.cli', 'mount', args.engram, args.mountpoint]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log,
                             start_new_session=True)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not os.path.ismount(where):
        if child.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            said = log.read().decode(errors='replace').strip().splitlines()
            raise FsError(said[-1].removeprefix('embeddenator mount: ') if said else
                          f'{args.mountpoint}: the mount did not come up')
        time.sleep(0.05)
    result = {'engram': args.engram, 'mountpoint': args.mountpoint, 'pid': child.pid, 'background': True}
    return result, [f'{args.engram} mounted read-only at {args.mountpoint} (pid {child.pid}); stop with '
                    f'fusermount3 -u {args.mountpoint}']
