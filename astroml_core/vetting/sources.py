"""Candidates for a campaign from what a page has found: spectra of a selection, HI sources of a
catalogue, galaxies of a deblending. Each carries a reference back to its data, the model's label,
score and uncertainty, and a small preview with units."""
from __future__ import annotations

import numpy as np

from ..registry import model_provenance
from .previews import encode_preview
from .store import CandidateIn

__all__ = ["spectra_candidates", "spectra_labels", "model_provenance", "hi_candidates", "deblend_candidates",
           "HI_LABELS", "DEBLEND_LABELS"]

HI_LABELS = ("real", "false", "unsure")
DEBLEND_LABELS = ("correct", "shredded", "merged", "spurious")

UNEXPECTED_LABEL = "UNEXPECTED"


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


def hi_candidates(cube, table) -> list[CandidateIn]:
    """One candidate per HI catalogue row (SDC2 columns + score): moment-0 map (Jy/beam Hz) over its W20
    channels and its spectrum (mJy); most uncertain = score nearest 0.5."""
    from ..tasks.hi.cutouts import moment0, source_spectrum, source_window

    pixel_arcsec = cube.pixel_scale.to_value("arcsec") if cube.pixel_scale is not None else None
    out = []
    for row in table:
        w = source_window(cube, row)
        radius = max(3.0, 0.5 * row["hi_size"].to_value("arcsec") / pixel_arcsec) if pixel_arcsec else 4.0
        freq, spec = source_spectrum(cube, w, radius_px=radius)
        score = float(row["score"])
        out.append(CandidateIn(
            name=f"HI {int(row['id'])} @ {row['central_freq'].to_value('MHz'):.3f} MHz",
            ref={"file": str(cube.path), "row": int(row["id"]), "ra": float(row["ra"].value),
                 "dec": float(row["dec"].value), "central_freq_hz": float(row["central_freq"].value)},
            model_label="real" if bool(row["accepted"]) else "false", score=score,
            uncertainty=1.0 - abs(2.0 * score - 1.0),
            meta={"S (Jy Hz)": float(row["line_flux_integral"].value), "W20 (km/s)": float(row["w20"].value),
                  "S/N": float(row["snr"])},
            preview=encode_preview(moment0=moment0(cube, w), frequency_mhz=freq, spectrum_mjy=spec)))
    return out


def neighbour_share(cut: np.ndarray, segment: np.ndarray, k: int) -> float:
    """The share of the segmented light near a galaxy (within twice its own segment's radius of the stamp
    centre) that belongs to other segments: 0 when isolated, towards 1 when a brighter neighbour dominates."""
    own = segment == k + 1
    radius = 2.0 * np.sqrt(max(own.sum(), 1) / np.pi)
    yy, xx = np.indices(cut.shape)
    c = cut.shape[0] // 2
    near = ((yy - c) ** 2 + (xx - c) ** 2 <= radius**2) & (segment > 0)
    light = np.clip(cut, 0.0, None)
    total = light[near].sum()
    return float(light[near & ~own].sum() / total) if total > 0 else 0.0


def deblend_candidates(image, result, band: str) -> list[CandidateIn]:
    """One candidate per deblended galaxy: the ``band`` image around it with its segment outlined and
    its deblended image; most uncertain = most blended (the largest share of neighbours' light)."""
    from ..tasks.deblend.model import cut_stamp

    b = list(image.bands).index(band)
    data = np.nan_to_num(np.asarray(image.data[b], np.float32))
    method = str(result.catalogue.meta.get("method", ""))
    out = []
    for k, row in enumerate(result.catalogue):
        x, y = float(row["x"]), float(row["y"])
        cut, _ = cut_stamp(data, x, y)
        segment, _ = cut_stamp(result.segmap, x, y)
        mine = result.stamps[k, b]
        blend = neighbour_share(cut, segment, k)
        flux = f"flux_{band}"
        out.append(CandidateIn(
            name=f"galaxy {int(row['id'])} ({method})", model_label="correct", score=1.0 - blend, uncertainty=blend,
            ref={"file": str(image.path or ""), "row": int(row["id"]), "x": x, "y": y, "method": method},
            meta={"neighbour share": blend, **({f"{band} flux": float(row[flux])} if flux in row.colnames else {})},
            preview=encode_preview(stamp=cut, mask=(segment == k + 1), others=(segment > 0) & (segment != k + 1),
                                   model=mine, unit=np.asarray(band + " flux"))))
    return out
