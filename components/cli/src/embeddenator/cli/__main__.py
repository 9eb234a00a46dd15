"""Entry point of the `embeddenator` command."""
import argparse
import sys

from embeddenator.cli import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='embeddenator', description='Holographic filesystem and ternary VSA tools.')
    parser.add_argument('--version', action='version', version=f'%(prog)s {__version__}')
    return parser


def main(argv=None) -> int:
    build_parser().parse_args(argv)
    return 0


if __name__ == '__main__':
    sys.exit(main())
