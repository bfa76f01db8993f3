"""``python -m astroml_core.validate lightcone|hi-foreign ...``: our simulators and finders against outside references.

``lightcone [--python PY] [-o DIR]`` compares our lightcone simulator with 21cmFAST; ``hi-foreign [--cubes N]
[--noise] [-o FILE.json] [--size small|full] [--methods model,baseline]`` scores the HI finder and baseline on
the foreign test set (issue 29).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m astroml_core.validate")
    parser.add_argument("name", choices=("lightcone", "hi-foreign"))
    parser.add_argument("--python", help="lightcone: an interpreter with py21cmfast installed (default: this one)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="lightcone: folder for plot and JSON (default validation/); "
                             "hi-foreign: JSON file (default validation/hi_foreign.json)")
    parser.add_argument("--cubes", type=int, default=8, help="hi-foreign: how many foreign cubes (1–8)")
    parser.add_argument("--noise", action="store_true", help="hi-foreign: also the pure-noise cubes")
    parser.add_argument("--size", choices=("small", "full"), default="full",
                        help="hi-foreign: 64×64×96 (quick look) or 256×256×512 cubes")
    parser.add_argument("--methods", default="model,baseline", help="hi-foreign: comma-separated detect methods")
    parser.add_argument("--card", action="store_true", help="hi-foreign: write the results into hi_unet's model card")
    parser.add_argument("--real", nargs="*", default=(), type=Path,
                        help="hi-foreign: real cubes to search too (the real-file corpus), reported in the card")
    args = parser.parse_args(argv)
    if args.name == "hi-foreign":
        from .hi_eval import run, write_json

        summary = run(args.cubes, noise=args.noise, size=args.size, methods=tuple(args.methods.split(",")),
                      progress=lambda msg: print(msg, file=sys.stderr, flush=True))
        out = write_json(summary, args.output or Path("validation") / "hi_foreign.json")
        print(summary["markdown"])
        real = None
        if args.real:
            from .hi_real import real_cube_rows, real_markdown

            real = real_cube_rows(args.real)
            print(real_markdown(real))
        if args.card:
            from .hi_card import write_sections

            write_sections(summary, real)
            print("wrote the foreign (and real-file) sections of assets/models/hi_unet/card.md", file=sys.stderr)
        print(f"JSON in {out}", file=sys.stderr)
        return 0
    from .lightcone import run

    output = args.output or Path("validation")
    summary = run(output, args.python)
    print(summary["summary_markdown"])
    print(f"plot and JSON in {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
