"""HI source finding with the shipped 3-D U-Net, calibrated on each cube's own noise.

1. The cube is normalised by its noise (per channel, and across the field where that varies), and the sky
   pixels of continuum-subtraction residuals are blanked (:mod:`.flagging`).
2. Smooth-and-clip finds candidates of both signs (:mod:`.candidates`); the negative ones are noise.
3. The U-Net scores each candidate from a cutout around it; a logistic over (U-Net log-odds, log voxel
   count, integrated and peak S/N), fitted on simulated tuning cubes to tell true sources from negative
   candidates (every coefficient ≥ 0), turns every candidate of either sign into one detection statistic.
4. Each positive candidate's reliability is 1 − the fraction of noise among candidates at least as
   strong, estimated from how many negatives reach that statistic (:mod:`.reliability`). The default
   decision is reliability ≥ 0.95: a cube whose noise the network mistakes for sources raises its own
   bar, instead of filling the catalogue with confident false detections.
5. Kept candidates close enough to be pieces of one source are merged (:func:`merge_parts`), measured on
   their masks and refined by the disc fit; fluxes are de-boosted.

The catalogue keeps candidates with reliability ≥ ``min_score`` (``score`` = reliability), so the app can
move the threshold without running the model again; ``meta['notes']`` says when the cube's noise is unlike
the training noise.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from astropy.table import QTable

from ...constants import C_KMS, FWHM_PER_SIGMA
from .candidates import Candidates, find_candidates, network_scores
from .deboost import FluxDeboost
from .disc_fit import cut_fit_boxes, fit_boxes, fit_sources
from .flagging import residual_note, residual_pixels, spot_centres
from .measure import CubeGeometry, measure_sources
from .noise import normalise
from .progress import PER_SOURCE_FIT, PER_SOURCE_MEASURE, Phases, Report, counted, model_costs, quiet, scoring
from .reliability import MIN_NEGATIVES, AtLeast, NoiseTail, fit_tail, reliability
from .smooth_clip import smooth_and_clip

__all__ = ["ModelConfig", "Decision", "FluxDeboost", "config_from_card", "model_find", "recalibrate", "score_candidates",
           "candidate_features", "flag_scales", "finish_deferred", "FEATURES", "DEFAULT_RELIABILITY",
           "FIT_MIN_RELIABILITY"]

FEATURES = ("unet_logit", "log_n_vox", "snr", "peak_snr")
DEFAULT_RELIABILITY = 0.95
FIT_MIN_RELIABILITY = 0.5  # candidates more likely noise than source keep their mask measurements (no disc fit:
                            # ~0.4–1.3 s each, most of a big cube's search when its candidates are noise)
UNLIKE_TRAINING = 3.0       # × the training noise's rate of strong noise candidates: say so


@dataclass(frozen=True)
class Decision:
    """Logistic over standardised candidate features (see FEATURES); ``statistic`` is its log-odds."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float

    def statistic(self, features: np.ndarray) -> np.ndarray:
        z = (features - np.asarray(self.mean)) / np.asarray(self.scale)
        return z @ np.asarray(self.coef) + self.intercept

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.statistic(features)))


def candidate_features(cands: Candidates, unet: np.ndarray) -> np.ndarray:
    """(n, 4) features: U-Net score as log-odds (clipped at ±12: it saturates), log10 voxel count, integrated
    and peak S/N (in sign × noise units)."""
    p = np.clip(np.asarray(unet, float), 6e-6, 1 - 6e-6)
    return np.column_stack([np.log(p / (1 - p)), np.log10(np.maximum(cands.count, 1)), cands.snr,
                            cands.peak]).reshape(-1, 4)


@dataclass(frozen=True)
class ModelConfig:
    """Search, decision and extraction settings (the card provides the fitted parts)."""

    clip_threshold: float = 4.0                       # smooth-and-clip level, in each smoothed cube's σ
    spatial_fwhm_beams: tuple[float, ...] = (0.0, 1.0, 2.0)
    spectral_channels: tuple[int, ...] = (0, 3, 7, 15)
    min_snr: float = 3.0                              # candidates below this integrated S/N are dropped (both signs)
    score_threshold: float = DEFAULT_RELIABILITY      # the default decision on reliability
    min_score: float = 0.3                            # the catalogue keeps candidates at least this reliable
    merge_parts_chan: int = 16                        # accepted candidates this close are pieces of one source
    merge_parts_px: int = 1                           # (wider merging joins neighbours and spoils their measures)
    decision: Decision | None = None                  # None: the statistic is the integrated S/N
    prior: NoiseTail | None = None                    # noise tail per voxel of the training noise
    deboost: FluxDeboost | None = None                # None: the disc fit's flux as it is


def config_from_card(front: dict, threshold: float | None = None) -> ModelConfig:
    """The settings a model card prescribes (decision stage, prior noise tail, threshold, de-boosting)."""
    d = front.get("decision")
    decision = Decision(tuple(d["mean"]), tuple(d["scale"]), tuple(d["coef"]), float(d["intercept"])) if d else None
    p = front.get("noise_tail")
    prior = NoiseTail.from_dict(p) if p else None
    b = front.get("flux_deboost")
    deboost = FluxDeboost(tuple(float(c) for c in b["coef"]), float(b["snr_min"])) if b else None
    cut = float(front.get("score_threshold", DEFAULT_RELIABILITY)) if threshold is None else float(threshold)
    return ModelConfig(score_threshold=cut, min_score=min(cut, 0.3), decision=decision, prior=prior, deboost=deboost)


def score_candidates(norm: np.ndarray, geom: CubeGeometry, model, cfg: ModelConfig, phases: Phases | None = None):
    """Candidates of both signs with their features: ((positive, features), (negative, features)); ``phases``
    (of :func:`.progress.model_costs`) hears of the smoothing kernels, the linking and each batch scored."""
    phases = phases or Phases(quiet, model_costs(norm.size))
    beam_px = geom.beam_major_arcsec / geom.pixel_arcsec
    step = phases.start("smooth", "smoothing and clipping")
    masks = list(smooth_and_clip(norm, beam_px, cfg.spatial_fwhm_beams, cfg.spectral_channels, cfg.clip_threshold,
                                 progress=step))
    out = []
    for sign, name in ((1.0, "pos"), (-1.0, "neg")):
        what = "candidate" if sign > 0 else "noise candidate"
        phases.start(f"link_{name}", f"linking {what}s" + ("" if sign > 0 else " (the negated cube)"))
        mask = masks.pop(0)
        cands = find_candidates(norm, mask, sign, geom.beam_area_px, min_snr=cfg.min_snr)
        del mask
        if sign > 0:    # the negated cube holds about as many noise candidates as this one holds candidates
            phases.cost(score_pos=scoring(cands.n), score_neg=scoring(cands.n))
        else:
            phases.cost(score_neg=scoring(cands.n))
        step = phases.start(f"score_{name}", f"hi_unet scoring {cands.n} {what}s")
        unet = network_scores(model, norm, cands,
                              progress=counted(step, cands.n, f"hi_unet scoring {what}s: {{k}} of {{n}}"))
        if sign < 0:
            cands.labels = None       # noise candidates are counted, never measured: free their label cube
        out.append((cands, candidate_features(cands, unet)))
    return out[0], out[1]


def _statistic(features: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    return cfg.decision.statistic(features) if cfg.decision is not None else features[:, 2]


def merge_parts(labels: np.ndarray, accepted: np.ndarray, r_chan: int, r_px: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Accepted candidates within (``r_chan``, ``r_px``) of each other become one source: the two horns of a
    double-horned line, or a disc with a central hole, clip into separate pieces that no negative candidate
    mirrors, so reliability cannot flag the extra pieces. Candidates below the threshold stay as they are.
    Returns (labels 1..m, for each source the 0-based indices of its pieces).

    The pieces are the parts of the accepted voxels' box dilation (face-connected), found on the labelled
    voxels alone by the linker's rule (:func:`.linker.link`) rather than by dilating and labelling the whole
    cube: 1.3–2.5 s → 0.11 s on the demo cube (issue 34), the same labels.
    """
    from .linker import _groups, label_cube

    n = int(labels.max()) if labels.size else 0
    if n == 0:
        return labels, []
    flat = np.flatnonzero(labels)
    lab = labels.reshape(-1)[flat]
    lut_acc = np.r_[False, np.asarray(accepted, bool)]
    on = lut_acc[lab]
    owner = np.zeros(n + 1, np.int64)
    m = 0
    if on.any():
        coords = np.stack(np.unravel_index(flat[on], labels.shape), axis=1)
        group = _groups(coords, np.array([r_chan, r_px, r_px])) + 1
        m = int(group.max())
        owner[lab[on]] = group       # a piece split by the dilation's rule goes with its last voxel's part
    owner[1:][~lut_acc[1:]] = m + 1 + np.arange(int((~lut_acc[1:]).sum()))   # the rest: one source each
    used, first = np.unique(owner[1:], return_index=True)
    used = used[np.argsort(first)]
    lut = np.zeros(int(owner.max()) + 1, np.int32)
    lut[used] = np.arange(1, len(used) + 1)
    out = label_cube(labels.shape)
    out.reshape(-1)[flat] = lut[owner[lab]]
    return out, [np.flatnonzero(owner[1:] == u) for u in used]


def noise_tail(negatives: np.ndarray, n_voxels: int, cfg: ModelConfig):
    """The cube's own noise tail, floored by the training noise's (per voxel, scaled to this cube), and notes."""
    own = fit_tail(negatives)
    if cfg.prior is None:
        return own, []
    prior = cfg.prior.scaled(n_voxels)
    notes = []
    if len(negatives) < MIN_NEGATIVES:
        notes.append(f"only {len(negatives)} noise candidates in this cube: its reliabilities rest mostly on the "
                     "training noise's rate of noise candidates per voxel")
    else:
        ratio = float(own.expected(prior.u)[0] / max(prior.expected(prior.u)[0], 1e-9))
        if ratio > UNLIKE_TRAINING:
            notes.append(f"this cube's noise looks unlike the training noise: {ratio:.1f}× as many noise candidates "
                         "reach the training noise's strong-candidate level; reliabilities are calibrated on this "
                         "cube's own noise, so fewer faint sources are accepted")
    return AtLeast(own, prior), notes


def recalibrate(table: QTable, noise: np.ndarray, n_voxels: int, cfg: ModelConfig) -> QTable:
    """Reliabilities of tiles' catalogues redone on the noise candidates of the whole cube (``noise``: their
    statistics), so a cube searched in pieces is calibrated as one; rows below ``min_score`` are dropped."""
    tail, notes = noise_tail(noise, n_voxels, cfg)
    rel = reliability(np.asarray(table["statistic"], float), tail) if len(table) else np.zeros(0)
    table["reliability"] = table["score"] = rel
    table["accepted"] = rel >= cfg.score_threshold
    out = table[rel >= cfg.min_score]
    out.meta["notes"] = list(dict.fromkeys(notes))
    return out


def deboosted(table: QTable, cfg: ModelConfig, rest_hz: float) -> QTable:
    """The catalogue with its fluxes de-boosted as the card says (unchanged where the card has no de-boosting)."""
    return cfg.deboost.apply(table, rest_hz) if cfg.deboost is not None else table


def finish_deferred(table: QTable, geom: CubeGeometry, cfg: ModelConfig, progress: Report = quiet) -> QTable:
    """Disc fits (of the rows now at least :data:`FIT_MIN_RELIABILITY` reliable) and de-boosting for a catalogue
    whose tiles deferred them (``model_find(defer_fits=True)``), each row's source in its ``fit_box`` (None: fitted
    in its tile, or not worth it there); the column goes."""
    worth_fitting = np.asarray(table["score"]) >= FIT_MIN_RELIABILITY
    table = fit_boxes(table, list(table["fit_box"]), geom, only=worth_fitting, progress=progress)
    table.remove_column("fit_box")
    return deboosted(table, cfg, geom.rest_hz)


def flag_scales(geom: CubeGeometry) -> tuple[float, float]:
    """(beam σ in pixels, channel width in km/s): what residual flagging (:mod:`.flagging`) measures in."""
    nu = np.asarray(geom.frequencies_hz, float)
    channel_kms = C_KMS * abs(float(np.median(np.diff(nu)))) / float(np.median(nu)) if nu.size > 1 else 0.0
    return geom.beam_major_arcsec / geom.pixel_arcsec / FWHM_PER_SIGMA, channel_kms


def _blank_residuals(norm: np.ndarray, geom: CubeGeometry, origin, residuals: np.ndarray | None = None) -> np.ndarray:
    """Zero the sky pixels of continuum-subtraction residuals in ``norm`` (both signs go unsearched there):
    ``residuals`` when a whole-cube pre-pass found them (its caller reports the spots), else those found here;
    returns the spots' centres (x, y) in the whole cube's pixels (:mod:`.flagging`)."""
    if residuals is not None:
        norm[:, residuals] = 0.0
        return np.zeros((0, 2))
    flagged = residual_pixels(norm, *flag_scales(geom))
    norm[:, flagged] = 0.0
    return spot_centres(flagged, tuple(origin[1:]))


def model_find(data: np.ndarray, geom: CubeGeometry, model, config: ModelConfig | None = None, *,
               origin: tuple[int, int, int] = (0, 0, 0), residuals: np.ndarray | None = None,
               defer_fits: bool = False, progress: Report = quiet) -> tuple[QTable, np.ndarray]:
    """Find and measure HI sources: (catalogue with ``reliability`` = ``score`` and ``accepted``, label cube).

    ``origin`` places a tile in its cube: (channel, y, x) of ``data[0, 0, 0]`` (``geom`` describes the
    whole cube); ``residuals``: its (ny, nx) sky pixels that a whole-cube pre-pass flagged (None: flagged
    here). ``defer_fits`` (a tile of a big cube): only sources above the score threshold are disc-fitted here and
    nothing is de-boosted; column ``fit_box`` holds the :class:`.disc_fit.FitBox` of each less sure row still
    worth fitting (None elsewhere), for :func:`finish_deferred` once the whole cube is calibrated.
    ``progress(fraction, text)`` hears of every phase as it moves (:mod:`.progress`).
    """
    cfg = config or ModelConfig()
    data = np.asarray(data, dtype=np.float32)
    phases = Phases(progress, model_costs(data.size, len(cfg.spatial_fwhm_beams) * len(cfg.spectral_channels)))
    phases.start("normalise", "normalising by the noise; flagging continuum residuals")
    norm, sigma = normalise(data)
    spots = _blank_residuals(norm, geom, origin, residuals)
    (pos, f_pos), (neg, f_neg) = score_candidates(norm, geom, model, cfg, phases)
    phases.start("merge", "reliability from the noise candidates; merging pieces of one source")
    tail, notes = noise_tail(_statistic(f_neg, cfg), norm.size, cfg)
    notes += [residual_note(spots)] if len(spots) else []
    del norm
    stat = _statistic(f_pos, cfg)
    rel = reliability(stat, tail)
    keep = np.flatnonzero(rel >= cfg.min_score)
    labels, parts = merge_parts(pos.keep(keep).labels, rel[keep] >= cfg.score_threshold, cfg.merge_parts_chan,
                                cfg.merge_parts_px)
    best = np.array([keep[p[np.argmax(stat[keep][p])]] for p in parts], dtype=int)
    worth_fitting = rel[best] >= FIT_MIN_RELIABILITY
    # a tile of a big cube fits its sure sources and defers the rest: the whole cube's reliabilities decide
    unsure = worth_fitting & (rel[best] < cfg.score_threshold) if defer_fits else np.zeros(len(parts), bool)
    fits_here = int((worth_fitting & ~unsure).sum())
    phases.cost(measure=PER_SOURCE_MEASURE * len(parts), characterise=PER_SOURCE_FIT * fits_here)
    step = phases.start("measure", f"measuring {len(parts)} sources on their masks")
    if not (np.isfinite(geom.noise) and geom.noise > 0):
        geom = replace(geom, noise=float(np.median(sigma)))   # keeps per-channel beams
    table = measure_sources(data, labels, geom, origin=origin, progress=step)
    table["reliability"] = rel[best]
    table["score"] = rel[best]
    table["statistic"] = stat[best]
    table["unet_score"] = 1 / (1 + np.exp(-f_pos[best, 0]))
    table["parts"] = np.array([len(p) for p in parts], dtype=np.int64)
    table["accepted"] = table["score"] >= cfg.score_threshold
    step = phases.start("characterise", f"characterising {fits_here} sources (disc fits)")
    table = fit_sources(table, data, labels, geom, origin=origin, only=worth_fitting & ~unsure, progress=step)
    if defer_fits:     # a column, so the boxes follow their rows through slicing, stacking and recalibration
        table["fit_box"] = np.empty(len(table), object)
        table["fit_box"][:] = cut_fit_boxes(data, labels, unsure, origin=origin, noise=float(geom.noise))
    else:
        phases.start("finish", "de-boosting fluxes")
        table = deboosted(table, cfg, geom.rest_hz)
    noise_at = np.column_stack([_statistic(f_neg, cfg), neg.centre + np.asarray(origin)]) if neg.n else np.zeros((0, 4))
    table.meta.update(notes=notes, noise_candidates=int(neg.n), candidates=int(len(f_pos)), noise_at=noise_at,
                      residual_spots=spots)
    phases.report(1.0, f"found {len(table)} sources")
    return table, labels
