"""``python -m astroml_core.validate lightcone [--python PY] [-o DIR]``: compare our simulator with 21cmFAST."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m astroml_core.validate")
    parser.add_argument("name", choices=("lightcone",))
    parser.add_argument("--python", help="an interpreter with py21cmfast installed (default: this one)")
    parser.add_argument("-o", "--output", type=Path, default=Path("validation"), help="folder for plot and JSON")
    args = parser.parse_args(argv)
    from .lightcone import run

    summary = run(args.output, args.python)
    print(summary["summary_markdown"])
    print(f"plot and JSON in {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
