"""``python -m astroml_core.bench <name> [-o OUT.json]``: run one benchmark and write its JSON."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BENCHES = ("cube", "hi", "deblend", "spectra", "vetting", "inference", "browse")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m astroml_core.bench")
    parser.add_argument("name", choices=BENCHES)
    parser.add_argument("-o", "--output", type=Path, help="JSON file (default bench-results/<name>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the large synthetic files for the next run")
    parser.add_argument("--pg", help="vetting: also load this PostgreSQL URL (default $ASTROML_TEST_PG_URL)")
    parser.add_argument("--big", action="store_true", help="hi: also search the ≥4 GB synthetic cube in tiles")
    parser.add_argument("--big-method", default="model", choices=("model", "baseline"),
                        help="hi: the method searched on the big cube (default model)")
    parser.add_argument("--sofia", type=Path, metavar="PATH",
                        help="hi: a SoFiA-2 binary, timed on the same cube(s) in the same run")
    args = parser.parse_args(argv)
    out = args.output or Path("bench-results") / f"{args.name}.json"
    if args.name == "cube":
        from .cube import run

        results = run(out, keep_big=args.keep)
    elif args.name == "hi":
        from .hi import run

        results = run(out, big=args.big, sofia=args.sofia, big_method=args.big_method)
    elif args.name == "deblend":
        from .deblend import run as run_deblend

        results = run_deblend(out)
    elif args.name == "inference":
        from .inference import run as run_inference

        results = run_inference(out)
    elif args.name == "browse":
        from .browse import run as run_browse

        results = run_browse(out, keep=args.keep)
    elif args.name == "vetting":
        from .vetting import run as run_vetting

        results = run_vetting(out, args.pg)
    else:
        from .spectra import run as run_spectra

        results = run_spectra(out)
    print(json.dumps(results, indent=2))
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
