"""``python -m astroml_core.train <name> [--quick]``: train a shipped model, write weights and card;
``python -m astroml_core.train spectra --labels votes.ecsv``: fine-tune the spectra classifier on vetted labels;
``python -m astroml_core.train spectra --domains --output DIR``: train it on the randomised observing domains into DIR;
``python -m astroml_core.train lightcone-applicability [--calibration DIR]``: the lightcone posterior's applicability
check and summary heads, from our simulator and the 21cmFAST calibration lightcones in DIR (issue 32);
``python -m astroml_core.train galaxy-applicability``: galaxy_flow's applicability reference."""
from __future__ import annotations

import argparse
import sys

TASKS = ("hi", "deblend", "spectra", "inference", "lightcone-applicability", "galaxy-applicability")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m astroml_core.train")
    parser.add_argument("name", choices=TASKS)
    parser.add_argument("--quick", action="store_true", help="a tiny run to check the pipeline (not shipped)")
    parser.add_argument("--keep-weights", action="store_true",
                        help="reuse the shipped network weights; redo the decision stage, evaluation and card")
    parser.add_argument("--labels", help="spectra: fine-tune the shipped weights on a vetting export (ECSV/CSV/VOTable)")
    parser.add_argument("--only", choices=("lightcone", "galaxy"), help="inference: train one of the two models")
    parser.add_argument("--output", help="with --labels: folder for the fine-tuned model (default <data root>/models); "
                                         "spectra: folder to write spectra_net/ into instead of assets/models")
    parser.add_argument("--domains", action="store_true",
                        help="spectra: train on the randomised observing domains (issue 31) beside the default simulator")
    parser.add_argument("--warm-start", action="store_true",
                        help="spectra: fine-tune the shipped members briefly instead of training from nothing")
    parser.add_argument("--calibration", default="validation/21cmfast",
                        help="lightcone-applicability: folder whose calibration/ holds the 21cmFAST lightcones")
    args = parser.parse_args(argv)
    if args.labels:
        if args.name != "spectra":
            parser.error("--labels fine-tunes the spectra classifier only")
        from ..config import settings
        from .spectra_labels import run_labels

        run_labels(args.labels, args.output or settings().data_root / "models")
        return 0
    if args.name == "lightcone-applicability":
        from pathlib import Path

        from ..config import settings
        from .lightcone_applicability import run as run_applicability

        print(run_applicability(Path(args.calibration), settings().cache_dir))
        return 0
    if args.name == "galaxy-applicability":
        from .galaxy_applicability import run as run_galaxy_applicability

        print(run_galaxy_applicability())
        return 0
    if args.name == "hi":
        from .hi_card import run

        run(quick=args.quick, keep_weights=args.keep_weights)
    elif args.name == "deblend":
        from .deblend_card import run as run_deblend

        run_deblend(quick=args.quick, keep_weights=args.keep_weights)
    elif args.name == "inference":
        from .inference_card import run as run_inference

        run_inference(quick=args.quick, keep_weights=args.keep_weights, only=args.only)
    elif args.name == "spectra":
        from .spectra_card import run as run_spectra

        run_spectra(quick=args.quick, keep_weights=args.keep_weights, domains=args.domains, output=args.output,
                    warm_start=args.warm_start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
