"""Candidates for a campaign from what a page has found: spectra of a selection (HI sources and
deblended galaxies follow the same pattern). Each carries a reference back to its data, the model's
label, score and uncertainty, and a small preview with units."""
from __future__ import annotations

import numpy as np

from .previews import encode_preview
from .store import CandidateIn

__all__ = ["spectra_candidates", "spectra_labels", "model_provenance"]

UNEXPECTED_LABEL = "UNEXPECTED"


def model_provenance(name: str) -> dict[str, str]:
    """A shipped model's name, version (its weights' sha256, short) and its card's sha256, for a campaign."""
    from ..registry import MODEL_DIR, read_card, sha256

    front, _ = read_card(name)
    return {"model_name": name, "model_version": f"weights {str(front.get('weights_sha256', ''))[:12]}",
            "card_sha256": sha256(MODEL_DIR / name / "card.md")}


def spectra_labels(classes) -> list[str]:
    """A spectra campaign's labels: the classifier's classes, and one for what fits none of them."""
    return [*classes, UNEXPECTED_LABEL]


def _bin(flux: np.ndarray, ivar: np.ndarray, factor: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Inverse-variance weighted mean flux over ``factor`` pixels, and its inverse variance."""
    n = flux.shape[-1] // factor * factor
    f = flux[..., :n].reshape(*flux.shape[:-1], -1, factor)
    w = ivar[..., :n].reshape(*ivar.shape[:-1], -1, factor)
    wsum = w.sum(-1)
    mean = np.divide((f * w).sum(-1), wsum, out=np.full(wsum.shape, np.nan), where=wsum > 0)
    return mean, wsum


def spectra_candidates(survey, rows) -> list[CandidateIn]:
    """One candidate per spectrum row of ``survey`` (tasks.spectra.Survey): preview = 4-pixel-binned
    flux (1e-17 erg/s/cm²/Å) on its wavelength grid (Å, observed frame)."""
    rows = np.asarray(rows, dtype=int)
    spectra, result = survey.spectra, survey.result
    wave = spectra.wavelength[: spectra.wavelength.size // 4 * 4].reshape(-1, 4).mean(1)
    flux, ivar = spectra.rows(np.sort(rows))
    order = np.argsort(np.argsort(rows))  # rows() wants sorted indices; put them back in the caller's order
    flux, ivar = flux[order], ivar[order]
    binned, bivar = _bin(flux, np.where(np.isfinite(flux), ivar, 0.0))
    z = spectra.meta.get("z")
    out = []
    for k, i in enumerate(rows):
        meta = {"anomaly": float(result.anomaly[i])}
        if z is not None and np.isfinite(z[i]):
            meta["z"] = float(z[i])
        out.append(CandidateIn(
            name=str(spectra.ids[i]), ref={"file": str(spectra.path or ""), "row": int(i), "id": str(spectra.ids[i])},
            model_label=str(result.pred_class[i]), score=float(result.probs[i].max()),
            uncertainty=float(result.uncertainty[i]), meta=meta,
            preview=encode_preview(wavelength=wave, flux=binned[k], ivar=bivar[k])))
    return out
