"""deblend_unet's card sections for the foreign test set, its own simulator's held-out fields by blendedness,
and the real-file corpus (issue 30), beside the training-time numbers."""
from __future__ import annotations

from ..registry import MODEL_DIR
from ..train.card_sections import put_section

__all__ = ["write_sections", "summary_front", "COMMAND"]

NAME = "deblend_unet"
COMMAND = "python -m astroml_core.validate deblend-foreign --fields 40 --own 40 --card --real <corpus images>"


def _rounded(x):
    """Floats to 4 decimals, recursively (a readable front matter)."""
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v) for v in x]
    return round(x, 4) if isinstance(x, float) else x


def summary_front(summary: dict) -> dict:
    """Plain headline values: seeds, S/N cut, the verdict, completeness and flux figures by bin, timing, notes."""
    rows = [dict(bin=r["bin"], n=r["n"], completeness=r["completeness"],
                 flux={m: {b: dict(median_abs=s["median_abs"], bias=s["bias"], mape=s["mape"])
                           for b, s in per.items()} for m, per in r["flux"].items()})
            for r in summary["tables"]]
    return _rounded(dict(seeds=[summary["seeds"][0], summary["seeds"][-1]], n_fields=len(summary["seeds"]),
                         snr_r_min=summary["snr_min"], match_px=summary["match_px"], sigma=summary["sigma"],
                         command=COMMAND, verdict=summary["verdict"], by_blendedness=rows, timing=summary["timing"],
                         notes=summary["notes"]))


def write_sections(summary_foreign: dict, summary_own: dict | None = None, real_rows: list[dict] | None = None,
                   model_dir=MODEL_DIR) -> None:
    """Put the foreign-set, own held-out (by blendedness) and, when given, real-file results into the card."""
    seeds = summary_foreign["seeds"]
    text = f"""## Foreign test set (never used in training or tuning)

`astroml_core.validate.deblend_foreign`, written apart from our simulator (other profiles, noise texture and
instrument conventions); fields {seeds[0]}–{seeds[-1]}; every method measures the sky σ from the pixels;
the noise floor fits every galaxy's true shape. Command `{COMMAND}`.

{summary_foreign['markdown']}"""
    put_section(NAME, "foreign_test", summary_front(summary_foreign), text, model_dir=model_dir)
    if summary_own is not None:
        own = summary_own["seeds"]
        put_section(NAME, "own_by_blendedness", summary_front(summary_own),
                    f"## Own simulator's held-out fields by blendedness\n\nHeld-out seeds {own[0]}–{own[-1]} of "
                    "`astroml_core.sim.blends`, scored like the foreign set (σ measured, snr_r ≥ 20).\n\n"
                    + summary_own["markdown"], model_dir=model_dir)
    if real_rows is not None:
        from .deblend_real import real_markdown

        put_section(NAME, "real_files", dict(files=real_rows), "## Real files (the real-file corpus)\n\n"
                    "No truth: what each method finds on real images, and the refusals and notes the user sees.\n\n"
                    + real_markdown(real_rows), model_dir=model_dir)
