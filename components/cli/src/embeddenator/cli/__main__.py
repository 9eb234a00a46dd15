"""Entry point of the `embeddenator` command.

Exit codes: 0 success; 1 a user error (bad arguments, a missing or unreadable path, an output that cannot be
written, a failed ingest); 2 a data error (an engram that is corrupt or fails its checks). Errors are one
message on stderr (and an {"error": ...} object on stdout with --json), never a traceback.
"""
from __future__ import annotations

import argparse
import sys
import warnings

from embeddenator.cli import __version__, commands, mount, update
from embeddenator.cli.output import emit

OK, USER_ERROR, DATA_ERROR = 0, 1, 2


MAX_WORKERS = 256
MAX_K = 1_000_000


class ArgumentsError(Exception):
    """Bad command-line arguments: `main` prints one line (and the JSON error with --json) and returns 1."""

    def __init__(self, prog: str, message: str):
        super().__init__(f'{prog}: error: {message} (see {prog} --help)')


class Parser(argparse.ArgumentParser):
    """argparse with the documented exit code for bad arguments (1, not argparse's 2, which means bad data)."""

    def error(self, message):
        """Raise ArgumentsError: `main` reports it in one line, as JSON too when asked, and returns USER_ERROR."""
        raise ArgumentsError(self.prog, message)


def bounded(low: int, high: int):
    """An argparse `type` for an integer in [low, high]; anything else is one clear line, never OverflowError.

    >>> from embeddenator.cli.__main__ import bounded
    >>> bounded(1, 256)('4')
    4
    >>> bounded(1, 256)('0')
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be between 1 and 256, got 0
    """
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            raise argparse.ArgumentTypeError(f'must be a whole number between {low} and {high}, got {text!r}') \
                from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f'must be between {low} and {high}, got {text}')
        return value
    parse.__name__ = 'integer'
    return parse


def build_parser() -> argparse.ArgumentParser:
    """The `embeddenator` parser: one subcommand per function of `commands`, each with `--json`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--json', action='store_true', help='print one JSON object for scripts')
    parser = Parser(prog='embeddenator', description='Holographic filesystem and ternary VSA tools.',
                    epilog='exit codes: 0 ok, 1 user error, 2 data error (corrupt engram)')
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND', parser_class=Parser, required=True)

    p = sub.add_parser('ingest', parents=[common], help='encode files and folders into an engram',
                       description='Encode SRC (a folder: its contents; several: each under its name) into ENGRAM.')
    p.add_argument('sources', nargs='+', metavar='SRC', help='files or folders to ingest')
    p.add_argument('-o', '--output', required=True, metavar='ENGRAM', help='engram file to write (atomically)')
    p.add_argument('--workers', type=bounded(1, MAX_WORKERS), default=None, metavar='N',
                   help=f'worker processes, 1 to {MAX_WORKERS} (default: CPUs, max 4)')
    p.add_argument('--skip-special', action='store_true', help='leave out fifos, devices and sockets')
    p.set_defaults(run=commands.ingest)

    p = sub.add_parser('extract', parents=[common], help='recreate the tree held by an engram',
                       description='Recreate the tree in DIR; every file is checked against its SHA-256.')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('-o', '--output', required=True, metavar='DIR', help='folder to extract into (created)')
    p.add_argument('--force', action='store_true', help='replace what is in the way in DIR (symlinks are removed, '
                   'never followed)')
    p.add_argument('-p', '--same-permissions', action='store_true',
                   help='restore modes whole even when not root (no umask; setuid/setgid kept), as tar -p')
    p.add_argument('--no-same-owner', dest='same_owner', action='store_false', default=None,
                   help='do not restore owners (as tar; the default when not root)')
    p.set_defaults(run=commands.extract)

    p = sub.add_parser('query', parents=[common], help='find the stored files and chunks most like a file',
                       description='Rank stored files and chunks by similarity to QUERY_FILE.')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('query', metavar='QUERY_FILE')
    p.add_argument('-k', type=bounded(1, MAX_K), default=5, metavar='N',
                   help=f'results of each kind, 1 to {MAX_K:,} (default 5)')
    p.add_argument('--scheduler', default='auto', metavar='WHERE',
                   help='for a sharded index (ENGRAM a folder, QUERY_FILE a .npy of vectors): auto, inline, local '
                        'or a Dask scheduler address (default auto: a local cluster when dask is installed)')
    p.set_defaults(run=commands.query)

    p = sub.add_parser('info', parents=[common], help='what an engram holds',
                       description='Summarise ENGRAM: codec, counts, sizes, storage overhead.')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('--verify', action='store_true',
                   help='also check every byte against the stored checksums, like zstd -t (reads the whole '
                        'engram; loading alone leaves chunk rows to be checked as they are decoded)')
    p.set_defaults(run=commands.info)

    p = sub.add_parser('export', parents=[common], help='write an engram\'s vectors as .npz, .json or .npy',
                       description='Export the vectors of ENGRAM for other tools; the format follows FILE\'s suffix.')
    p.add_argument('engram', metavar='ENGRAM')
    p.add_argument('-o', '--output', required=True, metavar='FILE', help='.npz, .json or .npy')
    p.set_defaults(run=commands.export)

    p = sub.add_parser('bench', parents=[common], help='measure ingest and extract speed on your own files',
                       description='Ingest SRC into a temporary engram, extract it again, and report MB/s, '
                                   'storage overhead and verification; nothing is kept.')
    p.add_argument('sources', nargs='+', metavar='SRC', help='files or folders to measure')
    p.add_argument('--workers', type=bounded(1, MAX_WORKERS), default=None, metavar='N',
                   help=f'worker processes, 1 to {MAX_WORKERS} (default: CPUs, max 4)')
    p.set_defaults(run=commands.bench)

    mount.add_parser(sub, common)
    update.add_parser(sub, common, bounded(1, MAX_WORKERS))
    return parser


def classify(err: BaseException) -> int | None:
    """Exit code for an expected error, None for a bug (which keeps its traceback)."""
    from embeddenator.fs import FsError, IntegrityError
    from embeddenator.interop import InteropError
    from embeddenator.io import FormatError
    if isinstance(err, (FormatError, IntegrityError)):
        return DATA_ERROR
    if isinstance(err, (FsError, InteropError, OSError)):
        return USER_ERROR
    return None


def _run_warning(args, show: bool) -> tuple[dict, list[str]]:
    """Run the command; each FsWarning (a socket skipped, a device not made) is one line on stderr as it comes,
    and the list of them is in the JSON result."""
    from embeddenator.fs import FsWarning
    said: list[str] = []

    def show_warning(message, category, *rest, **kw):
        if not issubclass(category, FsWarning):
            return previous(message, category, *rest, **kw)
        said.append(str(message))
        print(f'embeddenator {args.command}: warning: {message}', file=sys.stderr)

    with warnings.catch_warnings():
        warnings.simplefilter('always', FsWarning)
        previous, warnings.showwarning = warnings.showwarning, show_warning
        result, lines = args.run(args, show)
    if said:
        result = {**result, 'warnings': said}
    return result, lines


def main(argv=None) -> int:
    """Run one command (`argv` defaults to sys.argv[1:]) and return its exit code; see the module docstring."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except ArgumentsError as err:
        print(err, file=sys.stderr)
        if '--json' in argv:
            emit({'error': str(err), 'kind': 'user'}, True, [])
        return USER_ERROR
    show = not args.json
    try:
        result, lines = _run_warning(args, show)
    except KeyboardInterrupt:
        print('embeddenator: interrupted', file=sys.stderr)
        return 130
    except Exception as err:    # noqa: BLE001 - expected errors become messages; anything else is re-raised
        code = classify(err)
        if code is None:
            raise
        message = str(err) if not isinstance(err, OSError) else \
            f'{err.filename}: {err.strerror}' if err.filename else (err.strerror or str(err))
        print(f'embeddenator {args.command}: {message}', file=sys.stderr)
        if args.json:
            emit({'error': message, 'kind': 'data' if code == DATA_ERROR else 'user'}, True, [])
        return code
    emit(result, args.json, lines)
    return OK


if __name__ == '__main__':
    sys.exit(main())
