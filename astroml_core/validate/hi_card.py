"""hi_unet's card sections for the foreign test set and the real-file corpus, beside its own held-out numbers."""
from __future__ import annotations

from ..train.card_sections import put_section

__all__ = ["write_sections", "foreign_front"]

COMMAND = "python -m astroml_core.validate hi-foreign --cubes 8 --noise --card --real <corpus cubes>"


def foreign_front(summary: dict) -> dict:
    """Headline numbers per method: pooled purity, completeness above S/N 10, score, cubes won, noise rate."""
    out = dict(seeds=summary["seeds"], size=summary["size"], command=COMMAND)
    for m in summary["methods"]:
        cubes = summary["cubes"]
        det, match = sum(c[m]["n_det"] for c in cubes), sum(c[m]["n_match"] for c in cubes)
        bright = [r for r in summary["pooled"][m]["by_snr"] if r["bin"] in ("10–20", "20+")]
        n_true = sum(r["n_true"] for r in bright)
        noise = summary.get("noise") or []
        voxels = sum(r["n_voxels"] for r in noise)
        out[m] = dict(sdc2_score=round(sum(c[m]["score"] or 0 for c in cubes), 2), detections=det, matched=match,
                      purity=round(match / det, 3) if det else None,
                      completeness_snr10=round(sum(r["n_found"] for r in bright) / n_true, 3) if n_true else None,
                      false_per_1e8_noise_voxels=round(sum(r[m]["n_false"] for r in noise) / voxels * 1e8, 2)
                      if voxels else None)
    if {"model", "baseline"} <= set(summary["methods"]):
        out["cubes_model_beats_baseline"] = sum((c["model"]["score"] or 0) > (c["baseline"]["score"] or 0)
                                                for c in summary["cubes"])
    return out


def write_sections(summary: dict, real: list[dict] | None = None) -> None:
    """Put the foreign-set (and, when given, real-file) results into hi_unet's card."""
    text = f"""## Foreign test set (never used in training or tuning)

`astroml_core.validate.hi_foreign`, written apart from our simulator: Gaussian random-field noise with an
autocorrelation of 0.7, 1.0 or 1.5 beams (made in Fourier space), Hanning-smoothed channels, noisier and
blanked channels, 18.5–36.6 kHz channels, beams of 2.5–5 px, 4-D FITS with a Stokes axis, exponential
discs with central depressions and Polyex rotation curves. Seeds {summary['seeds'][0]}–{summary['seeds'][-1]};
command `{COMMAND}`.

{summary['markdown']}"""
    put_section("hi_unet", "foreign_test", foreign_front(summary), text)
    if real is not None:
        from .hi_real import real_markdown

        put_section("hi_unet", "real_files", dict(files=real), "## Real files (the real-file corpus)\n\n"
                    "No truth: what each finder accepts on real cubes, and what the model says about them.\n\n"
                    + real_markdown(real))
