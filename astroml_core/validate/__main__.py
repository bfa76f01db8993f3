"""``python -m astroml_core.validate lightcone|hi-foreign ...``: our simulators and finders against outside references.

``lightcone [--python PY] [-o DIR]`` compares our lightcone simulator with 21cmFAST; ``hi-foreign [--cubes N]
[--noise] [-o FILE.json] [--size small|full] [--methods model,baseline]`` scores the HI finder and baseline on
the foreign test set (issue 29); ``deblend-foreign [--fields N] [--own N] [--card] [--real FILES...] [-o FILE.json]``
scores the deblender, sep and the noise floor by blendedness on the foreign blend fields and the training
simulator's held-out fields, and runs the real images given (issue 30); ``spectra-foreign [--n N] [--own N]
[--card] [-o FILE.json]`` scores spectra_net on the foreign spectra (four survey grids) and on its own
simulator's held-out spectra (issue 31); ``lightcone-foreign [--folder DIR] [--card] [-o FILE.json]`` scores the
lightcone posterior on the 21cmFAST test lightcones in DIR/test and our held-out set, whole and cut at z = 12 (issue 32);
``galaxy-foreign [--n N] [--card] [-o FILE.json]`` scores galaxy_flow on the foreign galaxies and its held-out set.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m astroml_core.validate")
    parser.add_argument("name", choices=("lightcone", "hi-foreign", "deblend-foreign", "spectra-foreign",
                                                 "lightcone-foreign", "galaxy-foreign"))
    parser.add_argument("--python", help="lightcone: an interpreter with py21cmfast installed (default: this one)")
    parser.add_argument("-o", "--output", type=Path, default=None,
                        help="lightcone: folder for plot and JSON (default validation/); "
                             "hi-foreign: JSON file (default validation/hi_foreign.json); "
                             "deblend-foreign: JSON file (default validation/deblend_foreign.json); "
                             "spectra-foreign: JSON file (default validation/spectra_foreign.json)")
    parser.add_argument("--cubes", type=int, default=8, help="hi-foreign: how many foreign cubes (1–8)")
    parser.add_argument("--noise", action="store_true", help="hi-foreign: also the pure-noise cubes")
    parser.add_argument("--size", choices=("small", "full"), default="full",
                        help="hi-foreign: 64×64×96 (quick look) or 256×256×512 cubes")
    parser.add_argument("--methods", default="model,baseline", help="hi-foreign: comma-separated detect methods")
    parser.add_argument("--card", action="store_true", help="hi-foreign: write the results into hi_unet's model card; "
                        "deblend-foreign: into deblend_unet's; spectra-foreign: into spectra_net's")
    parser.add_argument("--real", nargs="*", default=(), type=Path,
                        help="hi-foreign: real cubes to search too (the real-file corpus), reported in the card; "
                             "deblend-foreign: real images to deblend")
    parser.add_argument("--fields", type=int, default=40, help="deblend-foreign: how many foreign fields (1–40)")
    parser.add_argument("--own", type=int, default=None,
                        help="deblend-foreign: how many of the training simulator's held-out fields (default 40; "
                             "0 for none); spectra-foreign: held-out spectra of seed HELD_OUT_SEED (default 13000)")
    parser.add_argument("--n", type=int, default=None,
                        help="spectra-foreign: how many foreign spectra (1–26000; a multiple of 52 is balanced; "
                             "default 2600); galaxy-foreign: foreign and own galaxies each (default 2000)")
    parser.add_argument("--folder", type=Path, default=Path("validation/21cmfast"),
                        help="lightcone-foreign: folder whose test/ holds the 21cmFAST test lightcones")
    args = parser.parse_args(argv)
    if args.name == "lightcone-foreign":
        return _lightcone_foreign(args)
    if args.name == "galaxy-foreign":
        args.n = args.n or 2000
        return _galaxy_foreign(args)
    args.n = args.n or 2600
    if args.own is None:
        args.own = 13000 if args.name == "spectra-foreign" else 40
    if args.name == "spectra-foreign":
        return _spectra_foreign(args)
    if args.name == "deblend-foreign":
        return _deblend_foreign(args)
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


def _lightcone_foreign(args: argparse.Namespace) -> int:
    """Issue 32's run: the 21cmFAST test lightcones and our held-out set; JSON, Markdown, the card."""
    from .lightcone_foreign import markdown, run, write_card

    summary = run(args.folder, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    return _report(args, summary, "lightcone_foreign", markdown, write_card,
                   "the foreign-test section of assets/models/lightcone_flow/card.md")


def _report(args: argparse.Namespace, summary: dict, name: str, markdown, write_card, card_what: str) -> int:
    """The JSON (``-o``, default validation/NAME.json), the Markdown on stdout, and with ``--card`` the card sections."""
    import json

    out = args.output or Path("validation") / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    print(markdown(summary))
    if args.card:
        write_card(summary)
        print(f"wrote {card_what}", file=sys.stderr)
    print(f"JSON in {out}", file=sys.stderr)
    return 0


def _galaxy_foreign(args: argparse.Namespace) -> int:
    """Issue 43's run: the foreign galaxies and the own held-out galaxies; JSON, Markdown, the card."""
    from .galaxy_eval import markdown, run, write_card

    summary = run(args.n, progress=lambda msg: print(msg, file=sys.stderr, flush=True))
    return _report(args, summary, "galaxy_foreign", markdown, write_card,
                   "the foreign-test and real-file sections of assets/models/galaxy_flow/card.md")


def _deblend_foreign(args: argparse.Namespace) -> int:
    """Issue 30's run: the foreign fields, the own held-out fields, the real images; JSON, Markdown, the card."""
    from ..registry import load_model
    from ..train.deblend import HELD_OUT_SEEDS
    from .deblend_eval import run, write_json
    from .deblend_foreign import FOREIGN_SEEDS

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    model = load_model("deblend_unet")
    foreign = run(FOREIGN_SEEDS[:args.fields], source="foreign", model=model, progress=say)
    own = run(HELD_OUT_SEEDS[:args.own], source="own", model=model, progress=say) if args.own > 0 else None
    real = None
    if args.real:
        from .deblend_real import real_image_rows, real_markdown

        real = real_image_rows(args.real)
    out = write_json(dict(foreign=foreign, own=own, real=real),
                     args.output or Path("validation") / "deblend_foreign.json")
    print("# Foreign fields\n\n" + foreign["markdown"])
    if own is not None:
        print("# Own held-out fields\n\n" + own["markdown"])
    if real is not None:
        print("# Real files\n\n" + real_markdown(real))
    if args.card:
        from .deblend_card import write_sections

        write_sections(foreign, own, real)
        say("wrote the foreign, own-by-blendedness (and real-file) sections of assets/models/deblend_unet/card.md")
    say(f"JSON in {out}")
    return 0


def _spectra_foreign(args: argparse.Namespace) -> int:
    """Issue 31's run: the foreign spectra and the own held-out spectra; JSON, Markdown, the card."""
    import time

    from .spectra_eval import run, write_json

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    summary = run(args.n, own=args.own, progress=say)
    summary["seconds"] = round(time.perf_counter() - t0, 1)
    out = write_json(summary, args.output or Path("validation") / "spectra_foreign.json")
    print(summary["markdown"])
    if args.card:
        from .spectra_card import write_sections

        write_sections(summary)
        say("wrote the foreign (and own-by-S/N) sections of assets/models/spectra_net/card.md")
    say(f"JSON in {out} ({summary['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
