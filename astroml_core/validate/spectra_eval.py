"""Score the spectra classifier on the foreign test set and on its own simulator's held-out set (issue 31).

``python -m astroml_core.validate spectra-foreign [--n 2600] [--own 13000] [--card] [-o FILE.json]`` makes the
first ``n`` spectra of :mod:`.spectra_foreign` (a generator written apart from ``astroml_core.sim``; BOSS, DESI,
LAMOST and 4MOST grids placed on the classifier's grid by the project's resampler), classifies them through the
public API (:func:`astroml_core.tasks.spectra.classify.classify_arrays`, the shipped ``spectra_net`` unless a
model is given) and does the same for ``own`` spectra of the training simulator's held-out seed (``HELD_OUT_SEED``
of ``train/spectra.py``, the seed the card's held-out numbers use). **The foreign set is for testing only**:
nothing here may train or tune anything.

Reported per set, overall, by S/N bin and by survey grid: accuracy and macro accuracy (the mean over the true
classes of each class's recall), ECE (15 equal-width bins of the maximum probability, top-label, Guo+2017), and
the stars' spectral letter (A/F/G/K) accuracy at S/N ≥ 10; a confusion matrix and its largest off-diagonal cells.
Any predicted label outside the 13 classes (the ``UNKNOWN`` answer, once the classifier gives one) is its own
column: ``unknown_rate`` is its share; ``accuracy`` / ``macro_accuracy`` count it as wrong, while
``accuracy_answered`` / ``macro_accuracy_answered`` are over the answered spectra only. ECE is always that of
the 13-class probabilities (the argmax class against its probability), whatever was answered; the
``argmax_*`` figures score that argmax class alone (what the classifier would say if it never withheld).

S/N: on the foreign set, the median S/N per classifier pixel of the noiseless spectrum over the covered pixels
(``ForeignSpectra.snr``); on the own set, the simulator's asked-for median S/N per pixel. Bins 2–5, 5–10, 10–20,
20–50 (the first takes anything below 5, the last anything from 20).
"""
from __future__ import annotations

import hashlib
import time
from typing import Callable

import numpy as np

from ..metrics.spectra import calibration_error
from .json_out import write_json

__all__ = ["CLASS_NAMES", "SNR_BINS", "spectral_letter", "TARGETS", "metrics", "confusion", "summarise",
           "predicted_labels", "run", "markdown_tables", "write_json"]

CLASS_NAMES = ("GALAXY_AGN", "GALAXY_STARBURST", "GALAXY_STARFORMING", "GALAXY_nan", "QSO_BROADLINE", "QSO_nan",
               "STAR_A0", "STAR_F5", "STAR_F9", "STAR_G2", "STAR_K1", "STAR_K3", "STAR_K5")
SNR_BINS = (("2–5", -np.inf, 5.0), ("5–10", 5.0, 10.0), ("10–20", 10.0, 20.0), ("20–50", 20.0, np.inf))
LETTER_SNR_MIN = 10.0
N_ECE_BINS = 15
TARGETS = dict(macro_accuracy=0.93, ece=0.05, star_letter_snr10=0.90)   # issue 31's Must-show, foreign set


def spectral_letter(label: str) -> str | None:
    """The spectral letter of a stellar class (STAR_F9 → F), None for anything else."""
    label = str(label)
    return label[5] if label.startswith("STAR_") and len(label) > 5 else None


def _ece(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_ECE_BINS) -> float:
    """Top-label ECE over equal-width confidence bins (the card's metric)."""
    return calibration_error(conf, correct, n_bins)


def _macro(true: np.ndarray, ok: np.ndarray) -> float:
    """Mean over the true classes present of the share of each class's spectra with ``ok``."""
    classes = [c for c in CLASS_NAMES if (true == c).any()]
    return float(np.mean([ok[true == c].mean() for c in classes])) if classes else float("nan")


def metrics(true: np.ndarray, pred: np.ndarray, probs: np.ndarray, snr: np.ndarray) -> dict:
    """Scores of one set of spectra.

    Parameters
    ----------
    true, pred : (N,) str
        True classes (from CLASS_NAMES) and the answers (a class, or anything else such as "UNKNOWN").
    probs : (N, 13) float
        The 13 class probabilities in CLASS_NAMES order (for ECE).
    snr : (N,) float
        S/N per pixel (for the stars' letter accuracy at S/N ≥ 10).
    """
    true, pred = np.asarray(true).astype(str), np.asarray(pred).astype(str)
    probs, snr = np.asarray(probs, float), np.asarray(snr, float)
    n = len(true)
    answered = np.isin(pred, CLASS_NAMES)
    right = pred == true
    argmax = np.asarray(CLASS_NAMES)[probs.argmax(axis=1)] if n else np.array([], str)
    conf = probs.max(axis=1) if n else np.array([])
    stars = np.char.startswith(true, "STAR_") & (snr >= LETTER_SNR_MIN)

    def same_letter(answers: np.ndarray) -> np.ndarray:
        return np.array([spectral_letter(p) is not None and spectral_letter(p) == spectral_letter(t)
                         for t, p in zip(true[stars], answers[stars])], bool)

    letter_ok, letter_argmax = same_letter(pred), same_letter(argmax)
    out = dict(n=int(n), accuracy=float(right.mean()) if n else float("nan"), macro_accuracy=_macro(true, right),
               unknown_rate=float((~answered).mean()) if n else float("nan"),
               accuracy_answered=float(right[answered].mean()) if answered.any() else float("nan"),
               macro_accuracy_answered=_macro(true[answered], right[answered]),
               ece=_ece(conf, argmax == true),
               n_star_snr10=int(stars.sum()),
               star_letter_snr10=float(letter_ok.mean()) if stars.any() else float("nan"),
               argmax_accuracy=float((argmax == true).mean()) if n else float("nan"),
               argmax_macro_accuracy=_macro(true, argmax == true),
               argmax_star_letter_snr10=float(letter_argmax.mean()) if stars.any() else float("nan"))
    return out


def confusion(true: np.ndarray, pred: np.ndarray) -> dict:
    """Counts with the true classes as rows; columns the 13 classes, then any other answer seen (e.g. UNKNOWN)."""
    true, pred = np.asarray(true).astype(str), np.asarray(pred).astype(str)
    extra = sorted(set(pred) - set(CLASS_NAMES))
    cols = list(CLASS_NAMES) + extra
    counts = np.zeros((len(CLASS_NAMES), len(cols)), int)
    ci = {c: j for j, c in enumerate(cols)}
    for t, p in zip(true, pred):
        counts[CLASS_NAMES.index(t), ci[p]] += 1
    return dict(rows=list(CLASS_NAMES), columns=cols, counts=counts.tolist())


def _highlights(cm: dict, k: int = 10) -> list[dict]:
    counts = np.asarray(cm["counts"])
    rows = counts.sum(axis=1)
    cells = [(counts[i, j], i, j) for i in range(counts.shape[0]) for j in range(counts.shape[1])
             if cm["columns"][j] != cm["rows"][i] and counts[i, j] > 0]
    cells.sort(key=lambda c: -c[0])
    return [dict(true=cm["rows"][i], pred=cm["columns"][j], n=int(c), share_of_true=float(c / rows[i]))
            for c, i, j in cells[:k]]


def summarise(true, pred, probs, snr, survey=None) -> dict:
    """Overall, by S/N bin, by survey grid (when given) and per class; the confusion matrix and its highlights."""
    true, pred = np.asarray(true).astype(str), np.asarray(pred).astype(str)
    probs, snr = np.asarray(probs, float), np.asarray(snr, float)
    out = dict(overall=metrics(true, pred, probs, snr), by_snr=[], by_survey=[], by_class=[])
    for name, lo, hi in SNR_BINS:
        sel = (snr >= lo) & (snr < hi)
        out["by_snr"].append(dict(bin=name, **metrics(true[sel], pred[sel], probs[sel], snr[sel])))
    if survey is not None:
        survey = np.asarray(survey).astype(str)
        for s in dict.fromkeys(survey):
            sel = survey == s
            out["by_survey"].append(dict(survey=s, **metrics(true[sel], pred[sel], probs[sel], snr[sel])))
    for c in CLASS_NAMES:
        sel = true == c
        if sel.any():
            answered = np.isin(pred[sel], CLASS_NAMES)
            out["by_class"].append(dict(cls=c, n=int(sel.sum()), recall=float((pred[sel] == c).mean()),
                                        unknown_rate=float((~answered).mean())))
    out["confusion"] = confusion(true, pred)
    out["highlights"] = _highlights(out["confusion"])
    return out


def predicted_labels(result) -> np.ndarray:
    """The answers of a :class:`~astroml_core.tasks.spectra.classify.Classification`: its ``label`` (a class or
    UNKNOWN) where the classifier gives one, else the argmax class ``pred_class``."""
    label = getattr(result, "label", None)
    return np.asarray(label if label is not None else result.pred_class).astype(str)


def _probs13(result) -> np.ndarray:
    """The 13 class probabilities in CLASS_NAMES order (dropping any extra column a classifier adds)."""
    cols = [list(result.classes).index(c) for c in CLASS_NAMES]
    return np.asarray(result.probs, float)[:, cols]


def _classify(flux, ivar, model):
    from ..tasks.spectra.classify import classify_arrays

    r = classify_arrays(flux, ivar, model)
    return predicted_labels(r), _probs13(r)


def _weights_sha() -> str | None:
    from ..registry import MODEL_DIR
    from ..tasks.spectra.model import NAME

    path = MODEL_DIR / NAME / "weights.pt"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def run(n: int = 2600, *, own: int = 13000, model=None, progress: Callable[[str], None] | None = None) -> dict:
    """Foreign and own held-out summaries (see the module docstring), with timings; ``model`` defaults to the
    shipped spectra_net."""
    from ..sim.spectra import loglam_grid
    from .spectra_foreign import BLOCK, FOREIGN_SEEDS, simulate_foreign

    say = progress or (lambda msg: None)
    if model is None:
        from ..tasks.spectra.model import load

        model = load("cpu")
    t0 = time.perf_counter()
    fs = simulate_foreign(n, loglam=loglam_grid(), progress=say)
    t_sim = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred, probs = _classify(fs.flux, fs.ivar, model)
    t_cls = time.perf_counter() - t0
    say(f"foreign: {n} spectra simulated in {t_sim:.0f} s, classified in {t_cls:.1f} s")
    n_blocks = (n + BLOCK - 1) // BLOCK
    foreign = dict(summarise(fs.label, pred, probs, fs.snr, fs.survey), n=n,
                   seeds=[FOREIGN_SEEDS[0], FOREIGN_SEEDS[n_blocks - 1]],
                   timing=dict(simulate_s=round(t_sim, 1), classify_s=round(t_cls, 2)))
    foreign["must_show"] = dict(
        macro_accuracy=dict(value=foreign["overall"]["macro_accuracy"], target=TARGETS["macro_accuracy"],
                            passed=bool(foreign["overall"]["macro_accuracy"] >= TARGETS["macro_accuracy"])),
        ece=dict(value=foreign["overall"]["ece"], target=TARGETS["ece"],
                 passed=bool(foreign["overall"]["ece"] <= TARGETS["ece"])),
        star_letter_snr10=dict(value=foreign["overall"]["star_letter_snr10"], target=TARGETS["star_letter_snr10"],
                               passed=bool(foreign["overall"]["star_letter_snr10"] >= TARGETS["star_letter_snr10"])))
    own_summary = None
    if own > 0:
        from ..sim.spectra import iter_spectra
        from ..train.spectra import HELD_OUT_SEED

        t0 = time.perf_counter()
        labels, preds, ps, snrs = [], [], [], []
        t_cls_own = 0.0
        for chunk in iter_spectra(HELD_OUT_SEED, own):
            t1 = time.perf_counter()
            p, pr = _classify(chunk.flux, chunk.ivar, model)
            t_cls_own += time.perf_counter() - t1
            labels.append(chunk.label)
            preds.append(p)
            ps.append(pr)
            snrs.append(chunk.snr)
        t_own = time.perf_counter() - t0
        own_summary = dict(summarise(np.concatenate(labels), np.concatenate(preds), np.concatenate(ps),
                                     np.concatenate(snrs)), n=own, seed=HELD_OUT_SEED,
                           timing=dict(total_s=round(t_own, 1), classify_s=round(t_cls_own, 2)))
        say(f"own held-out: {own} spectra (seed {HELD_OUT_SEED}) in {t_own:.0f} s")
    summary = dict(foreign=foreign, own=own_summary, weights_sha256=_weights_sha(), notes=list(fs.notes))
    summary["markdown"] = markdown_tables(summary)
    return summary


def _f(x, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and not np.isfinite(x)) else f"{x:.{digits}f}"


def _table(rows: list[dict], key: str, title: str) -> str:
    head = (f"| {title} | n | macro acc. | acc. | ECE | UNKNOWN | macro acc. answered | acc. answered | "
            "star letter S/N ≥ 10 (n) | argmax macro acc. | argmax star letter |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
    lines = [f"| {r[key]} | {r['n']} | {_f(r['macro_accuracy'])} | {_f(r['accuracy'])} | {_f(r['ece'])} | "
             f"{_f(r['unknown_rate'])} | {_f(r['macro_accuracy_answered'])} | {_f(r['accuracy_answered'])} | "
             f"{_f(r['star_letter_snr10'])} ({r['n_star_snr10']}) | {_f(r['argmax_macro_accuracy'])} | "
             f"{_f(r['argmax_star_letter_snr10'])} |" for r in rows]
    return head + "\n".join(lines) + "\n"


def _set_markdown(s: dict, name: str) -> str:
    rows = [dict(set=name, **s["overall"])]
    text = _table(rows, "set", "set")
    if s["by_survey"]:
        text += "\nBy survey grid:\n\n" + _table(s["by_survey"], "survey", "survey grid")
    text += "\nBy S/N per pixel:\n\n" + _table(s["by_snr"], "bin", "S/N")
    text += ("\nRecall per class:\n\n| class | n | recall | UNKNOWN |\n| --- | --- | --- | --- |\n"
             + "\n".join(f"| {r['cls']} | {r['n']} | {_f(r['recall'])} | {_f(r['unknown_rate'])} |"
                         for r in s["by_class"]) + "\n")
    if s["highlights"]:
        text += ("\nLargest confusions:\n\n| true | answered | n | share of the true class |\n"
                 "| --- | --- | --- | --- |\n"
                 + "\n".join(f"| {h['true']} | {h['pred']} | {h['n']} | {_f(h['share_of_true'])} |"
                             for h in s["highlights"]) + "\n")
    return text


def markdown_tables(summary: dict) -> str:
    """The foreign set's tables (and the own held-out set's, for comparison) as Markdown."""
    f = summary["foreign"]
    ms = f["must_show"]
    text = (f"Foreign set: {f['n']} spectra (blocks of seeds {f['seeds'][0]}–{f['seeds'][1]}). Accuracies count "
            "UNKNOWN as wrong; the 'answered' columns are over the answered spectra only.\n\n"
            + _set_markdown(f, "foreign")
            + "\nIssue 31's Must-show on the foreign set: "
            + "; ".join(f"{k} {_f(v['value'])} (target {'≤' if k == 'ece' else '≥'} {v['target']}: "
                        f"{'met' if v['passed'] else 'not met'})" for k, v in ms.items()) + ".\n")
    if summary.get("own"):
        o = summary["own"]
        text += f"\nOwn simulator's held-out set: {o['n']} spectra, seed {o['seed']}.\n\n" + _set_markdown(o, "own")
    return text
