"""`python -m benchmarks [--quick]`: run every benchmark and print its numbers."""

from __future__ import annotations

import argparse

from benchmarks import scoring


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = parser.parse_args()
    print("scoring:")
    scoring.run(quick=args.quick)


if __name__ == "__main__":
    main()
