"""A survey as the spectra page sees it: a spectrum set, its classification and its 2-D maps.

``analyse`` classifies every spectrum and computes the fast maps (VAE latent, PCA); UMAP and t-SNE are
added by ``add_embedding`` (a minute for 40k spectra on 2 cores), so a caller can show the survey
before they finish. Results are cached on disk next to nothing else (keyed by the file's path, size,
mtime and the weights' sha256) so a restart does not redo them.
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.table import Table

from ...data.spectra import SpectrumSet
from ...display.scatter import ScatterData
from ...progress import Progress, quiet, span
from .classify import UNKNOWN, Classification, classify
from .display_names import display_name, sdss_columns
from .embed import Embedding, embed
from .preprocess import bin4
from .stacking import selection_redshifts, stack_spectra

__all__ = ["Survey", "ClassAtlas", "answers", "DISPLAY_BIN", "binned_wavelength", "display_rows", "analyse", "add_embedding", "points_in_box", "points_in_polygon", "selection_table",
           "cache_key", "save_survey", "load_survey", "scatter_data"]

DISPLAY_BIN = 4   # pixels per point of a drawn spectrum


@dataclass(frozen=True)
class ClassAtlas:
    """The median spectrum of each predicted class: ``rows[k]`` drawn at ``wavelengths[k]`` (Å), in ``frame``
    "rest" (every answered spectrum has a redshift: each moved to its rest wavelength before the median) or
    "observed" (a median across redshifts there smears the lines: the plot says so)."""

    rows: list[np.ndarray]
    wavelengths: list[np.ndarray]
    names: list[str]
    classes: list[int]
    frame: str


@dataclass
class Survey:
    """Spectra + classification + maps (method → Embedding)."""

    spectra: SpectrumSet
    result: Classification
    embeddings: dict[str, Embedding] = field(default_factory=dict)
    _atlas: ClassAtlas | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def true_class(self) -> np.ndarray | None:
        """The file's own class column (truth for simulated sets, SDSS's CLASS_SUBCLASS for SDSS files)."""
        meta = self.spectra.meta
        if "true_class" in meta:
            return np.asarray(meta["true_class"]).astype(str)
        if "sdss_class" in meta:
            sub = np.char.replace(np.asarray(meta.get("sdss_subclass", [""] * len(self.spectra))).astype(str), " ", "")
            return np.char.add(np.char.add(np.asarray(meta["sdss_class"]).astype(str), "_"),
                               np.where(sub == "", "nan", sub))
        return None

    def class_atlas(self, per_class: int = 200) -> ClassAtlas:
        """The median display row of each predicted class (up to ``per_class`` of each, seeded; UNKNOWN left out),
        in the rest frame when the file gives every answered spectrum a redshift; computed once per survey, as every
        session without a selection shows it."""
        if self._atlas is None:
            rng = np.random.default_rng(0)
            answered = answers(self.result) != UNKNOWN
            z_all = selection_redshifts(self.spectra.meta, np.flatnonzero(answered))
            rest = bool(len(z_all)) and bool(np.all(np.isfinite(z_all) & (z_all > -1)))
            lam = binned_wavelength(self.spectra.wavelength, DISPLAY_BIN)
            rows, lams, names, classes = [], [], [], []
            for k, name in enumerate(self.result.classes):
                members = np.flatnonzero((self.result.pred == k) & answered)
                if len(members) == 0:
                    continue
                pick = np.sort(rng.choice(members, min(len(members), per_class), replace=False))
                z = selection_redshifts(self.spectra.meta, pick) if rest else None
                stacked = stack_spectra(lam, display_rows(*self.spectra.rows(pick)), z,   # edges reached by few: cut
                                        min_cover=max(2, len(pick) // 4))
                rows.append(stacked.median), lams.append(stacked.wavelength)
                names.append(f"{display_name(name)}: median of {len(pick)} of {len(members):,}")
                classes.append(k)
            self._atlas = ClassAtlas(rows, lams, names, classes, "rest" if rest else "observed")
        return self._atlas


def binned_wavelength(wavelength: np.ndarray, bin_px: int = DISPLAY_BIN) -> np.ndarray:
    """The mean wavelength of each ``bin_px`` pixels: where :func:`display_rows` puts its points."""
    lam = np.asarray(wavelength, float)
    return lam[: len(lam) // bin_px * bin_px].reshape(-1, bin_px).mean(axis=1)


def display_rows(flux: np.ndarray, ivar: np.ndarray, bin_px: int = DISPLAY_BIN) -> np.ndarray:
    """Inverse-variance means of ``bin_px`` pixels, each spectrum divided by its median (NaN where no data)."""
    n, length = flux.shape
    m = length // bin_px * bin_px
    f = flux[:, :m].reshape(n, -1, bin_px)
    w = ivar[:, :m].reshape(n, -1, bin_px)
    wsum = w.sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(wsum > 0, (f * w).sum(axis=2) / wsum, np.nan)
        med = np.nanmedian(np.abs(mean), axis=1, keepdims=True)
        return mean / np.where(med > 0, med, 1.0)


def binned_flux(spectra: SpectrumSet, batch: int = 2048) -> np.ndarray:
    """Normalised 4-pixel-binned flux of every spectrum (float32), for PCA."""
    out = []
    for start in range(0, len(spectra), batch):
        flux, ivar = spectra.rows(slice(start, start + batch))
        out.append(bin4(flux, ivar)[0][..., 0])
    return np.concatenate(out)


def analyse(spectra: SpectrumSet, model=None, progress: Progress = quiet) -> Survey:
    """Classify and map a set: VAE latent and PCA now; UMAP / t-SNE through ``add_embedding``."""
    result = classify(spectra, model, progress=span(progress, 0.0, 0.8))
    progress(0.85, "PCA of the spectra")
    survey = Survey(spectra, result)
    survey.embeddings["vae"] = embed("vae", latent=result.latent)
    survey.embeddings["pca"] = embed("pca", binned=binned_flux(spectra))
    progress(1.0, f"classified and mapped {len(spectra):,} spectra")
    return survey


def add_embedding(survey: Survey, method: str, seed: int = 0, progress: Progress = quiet) -> Embedding:
    """Compute UMAP or t-SNE of the survey's features and keep it in the survey (``progress`` hears its phases)."""
    survey.embeddings[method] = embed(method, features=survey.result.features, seed=seed, progress=progress)
    return survey.embeddings[method]


def points_in_box(coords: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Indices of points inside a box (corners in any order)."""
    (xa, xb), (ya, yb) = sorted((x0, x1)), sorted((y0, y1))
    x, y = coords[:, 0], coords[:, 1]
    return np.flatnonzero((x >= xa) & (x <= xb) & (y >= ya) & (y <= yb))


def points_in_polygon(coords: np.ndarray, xs, ys) -> np.ndarray:
    """Indices of points inside a polygon (a lasso), by even-odd ray casting, bounding box first."""
    from skimage.measure import points_in_poly

    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    if len(xs) < 3:
        return np.array([], dtype=np.int64)
    near = points_in_box(coords, xs.min(), xs.max(), ys.min(), ys.max())
    inside = points_in_poly(coords[near].astype(float), np.column_stack([xs, ys]))
    return near[inside]


def answers(result) -> np.ndarray:
    """What the classifier says of each spectrum: its class, or UNKNOWN where it declined (issue 31)."""
    return result.label if result.label is not None else result.pred_class


def selection_table(survey: Survey, index: np.ndarray) -> Table:
    """The selected spectra as an export table: id, classes, probability, uncertainty, anomaly, z, S/N."""
    index = np.asarray(index, dtype=np.int64)
    r = survey.result
    t = Table()
    t["id"] = np.asarray(survey.spectra.ids)[index]
    truth = survey.true_class
    if truth is not None:
        t["true_class"] = truth[index]
    t["predicted_class"] = r.pred_class[index]
    if r.label is not None:
        t["label"] = r.label[index]                      # the class, or UNKNOWN (issue 31)
        t["reason"] = r.reason[index]                    # why UNKNOWN; empty when classified
    t["CLASS"], t["SUBCLASS"] = sdss_columns(answers(r)[index])      # as SDSS writes them
    t["probability"] = np.round(r.probs[index].max(axis=1), 4)
    t["uncertainty"] = np.round(r.uncertainty[index], 4)
    t["anomaly"] = np.round(r.anomaly[index], 3)
    for key in ("z", "snr"):
        if key in survey.spectra.meta:
            t[key] = np.round(np.asarray(survey.spectra.meta[key], float)[index], 4)
    t.meta["comments"] = ["AstroML Explorer spectra selection; probability = max class probability of the "
                          "spectra_net ensemble; anomaly = robust z-score (larger = stranger); label = "
                          "predicted_class, or UNKNOWN when the spectrum covers < 30% of the grid or is unlike "
                          "the training spectra (reason says which)"]
    return t


def scatter_data(survey: Survey, coords: np.ndarray, *, by_truth: bool) -> ScatterData:
    """The map's points for datashader: category = true (or predicted) class; uncertainty, anomaly, z values."""
    r = survey.result
    truth = survey.true_class
    values = {"uncertainty": r.uncertainty, "anomaly": r.anomaly}
    if "z" in survey.spectra.meta:
        values["z"] = np.asarray(survey.spectra.meta["z"], float)
    return ScatterData.build(coords, truth if by_truth and truth is not None else answers(r), values)


def cache_key(path: Path, weights_sha: str) -> str:
    """A name for a file's cached analysis that changes with the file or the weights."""
    st = path.stat()
    raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{weights_sha}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def save_survey(survey: Survey, folder: Path, key: str) -> Path:
    """Write the classification and maps (with their fitted transforms) to ``folder/key.pkl``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"spectra-{key}.pkl"
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        pickle.dump({"result": survey.result, "embeddings": survey.embeddings}, fh, protocol=5)
    tmp.replace(path)
    return path


def load_survey(spectra: SpectrumSet, folder: Path, key: str) -> Survey | None:
    """The cached analysis of ``spectra`` if there is one (our own pickle, written by ``save_survey``)."""
    path = folder / f"spectra-{key}.pkl"
    if not path.exists():
        return None
    try:
        with open(path, "rb") as fh:
            saved = pickle.load(fh)
    except Exception:
        return None
    if len(saved["result"].probs) != len(spectra):
        return None
    return Survey(spectra, saved["result"], saved["embeddings"])
