"""spectra_net's card sections for the foreign test set (issue 31) and, for comparison, its own simulator's
held-out set scored the same way (by S/N, UNKNOWN as its own column), beside the training-time numbers."""
from __future__ import annotations

from ..registry import MODEL_DIR
from ..tasks.spectra.model import NAME
from ..train.card_sections import put_section

__all__ = ["write_sections", "summary_front", "COMMAND"]

COMMAND = "python -m astroml_core.validate spectra-foreign --n 2600 --card -o validation/spectra_foreign.json"
_KEYS = ("n", "macro_accuracy", "accuracy", "ece", "unknown_rate", "macro_accuracy_answered", "accuracy_answered",
         "star_letter_snr10", "n_star_snr10", "argmax_macro_accuracy", "argmax_star_letter_snr10")


def _rounded(x):
    """Floats to 4 decimals, recursively (a readable front matter); NaN as None."""
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_rounded(v) for v in x]
    if isinstance(x, float):
        return round(x, 4) if x == x else None
    return x


def summary_front(s: dict) -> dict:
    """Plain headline values of one set: overall, by S/N bin, by survey grid, the largest confusions."""
    pick = lambda r: {k: r[k] for k in _KEYS if k in r}  # noqa: E731
    out = dict(overall=pick(s["overall"]), by_snr={r["bin"]: pick(r) for r in s["by_snr"]},
               highlights=s["highlights"][:5])
    if s.get("by_survey"):
        out["by_survey"] = {r["survey"]: pick(r) for r in s["by_survey"]}
    for key in ("seeds", "seed", "must_show", "timing"):
        if key in s:
            out[key] = s[key]
    return _rounded(out)


def write_sections(summary: dict, model_dir=MODEL_DIR) -> None:
    """Put the foreign-set (and, when run, the own held-out) tables into spectra_net's card."""
    from .spectra_eval import _set_markdown

    f = summary["foreign"]
    front = dict(summary_front(f), command=COMMAND, weights_sha256=summary.get("weights_sha256"))
    text = f"""## Foreign test set (never used in training or tuning)

`astroml_core.validate.spectra_foreign`, written apart from our simulator: its own stellar line tables and
blanketing, composite galaxy populations with BPT-placed emission, quasars with Lorentzian-winged broad lines and
Fe II, observed through BOSS, DESI, LAMOST and 4MOST instrument models (their own grids, resolutions, Poisson +
sky + read noise, telluric bands, sky residuals, calibration tilts, masks) and placed on the classifier's grid by
the project's flux-conserving resampler. {f['n']} spectra, balanced over the 13 classes and the four grids;
blocks of seeds {f['seeds'][0]}–{f['seeds'][1]}. S/N is the median per classifier pixel of the noiseless
spectrum. Accuracies count UNKNOWN as wrong; "answered" columns are over the answered spectra; "argmax" columns
score the most probable class alone. Command `{COMMAND}`.

{_set_markdown(f, "foreign")}"""
    put_section(NAME, "foreign_test", front, text, model_dir=model_dir)
    if summary.get("own"):
        o = summary["own"]
        put_section(NAME, "own_by_snr", summary_front(o),
                    f"## Own simulator's held-out set, scored like the foreign set\n\nSeed {o['seed']} of "
                    f"`astroml_core.sim.spectra`, {o['n']} spectra; S/N is the simulator's asked-for median per "
                    "pixel.\n\n" + _set_markdown(o, "own"), model_dir=model_dir)


REAL_COMMAND = "python -m tests.corpus.spectra_truth --card"


def write_real_section(rows: list[dict], model_dir=MODEL_DIR) -> None:
    """Put the real-corpus table (each real spectrum beside its survey pipeline's class) into the card."""
    from .spectra_real import real_markdown

    counts: dict[str, int] = {}
    for r in rows:
        key = r["verdict"].split(" (", 1)[0]
        counts[key] = counts.get(key, 0) + 1
    front = dict(counts=counts, command=REAL_COMMAND,
                 files=[{k: r[k] for k in ("file", "target", "pipeline_class", "source", "label", "p_max", "verdict")}
                        for r in rows])
    text = ("## Real files (the real-file corpus)\n\nEvery real optical spectrum that ships inside a pinned package "
            "(`tests/corpus/files.py`), opened as `astroml` opens it and classified, beside its survey pipeline's "
            "own CLASS (SDSS SPECOBJ, DESI redrock SPECTYPE) or, where no pipeline class ships, DESI's targeting "
            "bits (not a classification) or the literature. Command `" + REAL_COMMAND + "`.\n\n" + real_markdown(rows))
    put_section(NAME, "real_files", _rounded(front), text, model_dir=model_dir)
