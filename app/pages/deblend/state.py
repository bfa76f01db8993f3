"""The deblending page's state without widgets: the open field, every method's result, what is shown (view,
stretch, method, masks, band, selected source) and what follows from them (the composite, the masks, the
joined table, the selection's text, exports, vetting candidates). Tested headless."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import param
from astropy.table import QTable

from astroml_core.data.shown_paths import scrub_text, shown_path
from astroml_core.data.tables import table_bytes
from astroml_core.display.rgb import composite, rgba_uint32, segment_rgba
from astroml_core.tasks.deblend import METHODS, joined_table, model_image
from astroml_core.tasks.deblend.export import masks_bytes, regions_bytes, source_table
from astroml_core.tasks.deblend.field import Field
from astroml_core.tasks.deblend.model import cut_stamp

from ...components.safe_text import html_text, md_text

__all__ = ["DeblendState", "EXPORTS", "frame"]

EXPORTS = ((".ecsv", "Catalogue ECSV"), (".vot", "Catalogue VOTable"), (".reg", "DS9 regions"), (".fits", "Masks FITS"))
MODEL_BANDS = 4                     # the network reads g, r, i, z


class DeblendState(param.Parameterized):
    """What the page shows (its parameters) and the field and results it shows them from."""

    view = param.Selector(default="RGB", objects=["RGB"], doc="Colour composite or one band")
    q = param.Number(default=8.0, bounds=(1.0, 20.0), step=0.5, label="Lupton Q (asinh softening)")
    stretch = param.Number(default=20.0, bounds=(2.0, 200.0), step=1.0, label="Linear range (σ)")
    method = param.Selector(default="model", objects=list(METHODS), doc="Whose masks and table are shown")
    show_masks = param.Boolean(default=True, label="Show masks")
    contours = param.Boolean(default=False, label="Outlines only")
    opacity = param.Number(default=0.45, bounds=(0.0, 1.0), step=0.05, label="Mask opacity")
    band = param.Selector(default="r", objects=["r"], label="Band compared in the table")
    selected = param.Integer(default=None, allow_None=True, doc="Selected source (row of the method's table)")
    file = param.String(default="", doc="The open image, relative to the data root (for links)")
    deblended = param.Boolean(default=False, doc="Whether the image was deblended (a link then deblends it again)")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self.image = self.sigma = self.truth = None
        self.results: dict = {}
        self._residuals: dict[str, np.ndarray] = {}    # method → data − all its deblended images

    @property
    def result(self):
        """The shown method's result, or None before it ran."""
        return self.results.get(self.method)

    def load(self, field: Field) -> None:
        """Take a newly opened field: forget the last one's results, offer its bands, show the RGB composite,
        the r band (else the first) and the network when the field has its four bands (else sep)."""
        self.image, self.sigma, self.truth = field.image, field.sigma, field.truth
        self.results, self._residuals = {}, {}
        bands = field.image.bands
        self.param.update(view="RGB", selected=None)
        self.param.view.objects = ["RGB", *bands]
        self.param.band.objects = list(bands)
        self.param.update(band="r" if "r" in bands else bands[0], deblended=False,
                          method="model" if len(bands) == MODEL_BANDS else "sep")

    def take_results(self, results: dict) -> None:
        """Keep every method's result; show the chosen method if it ran, else the first that did."""
        self.results, self._residuals = results, {}
        self.param.update(deblended=True, method=self.method if self.method in results else next(iter(results)))

    # --- text ---------------------------------------------------------------------------------------
    def info_markdown(self) -> str:
        """Bands, size, pixel scale, unit, PSF and the truth's size, as one Markdown line."""
        image = self.image
        px = f"{image.pixel_arcsec:.3f}″" if image.pixel_arcsec else "no WCS"
        psf = md_text(", ".join(f"{b} {f:.2f}″" for b, f in zip(image.bands, image.psf_fwhm_arcsec) if f))
        return (f"**Bands** {md_text(', '.join(image.bands))} · **Size** {image.shape[1]} × {image.shape[0]} px · "
                f"**Pixel** {px} · **Unit** {md_text(image.unit or 'raw (uncalibrated)')}" +
                (f" · **PSF FWHM** {psf}" if psf else "") +
                (f" · truth: {len(self.truth)} galaxies" if self.truth is not None else ""))

    def notes_html(self) -> str:
        """How the file was read, one escaped line per note."""
        return "<br>".join(f"· {html_text(scrub_text(note))}" for note in self.image.notes)

    def ready_text(self) -> str:
        """The status before a run: what Deblend will do with these bands."""
        return "Press Deblend" + ("" if len(self.image.bands) == MODEL_BANDS else
                                  " (the network needs g, r, i, z: sep and photutils run on any bands)")

    def found_text(self) -> str:
        """The status after a run: sources per method, then the network's warnings about this field."""
        counts = ", ".join(f"{m} {len(r.catalogue)}" for m, r in self.results.items())
        notes = self.results["model"].catalogue.meta.get("notes", []) if "model" in self.results else []
        return "<br>".join([f"Sources found: {counts}", *(f"⚠ {html_text(note)}" for note in notes)])

    def caption_html(self, joined: QTable) -> str:
        """What the table's columns are: the method's flux per band, then the compared band from the others."""
        others = [m for m in self.results if m != self.method] + (["the truth"] if self.truth is not None else [])
        return (f"Flux per band from <b>{self.method}</b> ({html_text(self.image.unit or 'image units')}); "
                f"then the {html_text(self.band)}-band flux of the same source from {', '.join(others)}."
                + (" β: the network's blendedness, from its deblended images (0 alone, → 1 buried)."
                   if "blendedness" in joined.colnames else ""))

    def selection_html(self) -> str:
        """The selected source's position, flux (± error) per band and blendedness."""
        row = self.result.catalogue[self.selected]
        fluxes = " · ".join(f"{html_text(b)} {row[f'flux_{b}']:.4g}" +
                            (f" ± {row[f'flux_err_{b}']:.2g}" if f"flux_err_{b}" in row.colnames else "")
                            for b in self.image.bands)
        beta = f" · blendedness {row['blendedness']:.2f}" if "blendedness" in row.colnames else ""
        return (f"<b>Source {self.selected}</b> ({self.method}) at pixel ({row['x']:.1f}, {row['y']:.1f}): "
                f"{fluxes} {html_text(self.image.unit)}{beta}")

    # --- pictures and tables -------------------------------------------------------------------------
    def rgb(self) -> np.ndarray:
        """The shown view (Lupton composite, or one band) as uint32 RGBA."""
        data, sigma = self.image.data, self.sigma
        if self.view != "RGB":
            b = self.image.bands.index(self.view)
            data, sigma = data[b:b + 1], sigma[b:b + 1]
        return rgba_uint32(composite(data, sigma, q=self.q, stretch=self.stretch))

    def masks(self) -> np.ndarray | None:
        """The shown method's masks as uint32 RGBA (the selected one highlighted), or None when hidden."""
        if self.result is None or not self.show_masks:
            return None
        highlight = None if self.selected is None else self.selected + 1
        return segment_rgba(self.result.segmap, opacity=self.opacity, contours=self.contours, highlight=highlight)

    def source_at(self, x: float, y: float) -> int | None:
        """The source whose mask holds pixel (x, y), or None."""
        if self.result is None:
            return None
        segmap, iy, ix = self.result.segmap, int(round(y)), int(round(x))
        inside = 0 <= iy < segmap.shape[0] and 0 <= ix < segmap.shape[1]
        return int(segmap[iy, ix]) - 1 if inside and segmap[iy, ix] > 0 else None

    def joined(self) -> QTable:
        """The shown method's catalogue with the other methods' and the truth's flux in the compared band."""
        others = {m: r.catalogue for m, r in self.results.items() if m != self.method}
        return joined_table(self.result.catalogue, others, self.truth, self.band)

    def residual_stamp(self) -> tuple[np.ndarray, tuple[int, int]]:
        """(data − all the method's deblended images) around the selected source, and the stamp's (y0, x0)."""
        if self.method not in self._residuals:
            self._residuals[self.method] = np.nan_to_num(self.image.data - model_image(self.result, self.image.shape))
        row = self.result.catalogue[self.selected]
        return cut_stamp(self._residuals[self.method], float(row["x"]), float(row["y"]))

    # --- exports ------------------------------------------------------------------------------------
    def export_names(self) -> list[str]:
        """File names of the exports, after the image (an upload's own name, not the server's) and method."""
        stem = Path(shown_path(self.image.path)).stem
        return [f"{stem}_{self.method}_{'masks' if suffix == '.fits' else 'sources'}{suffix}" for suffix, _ in EXPORTS]

    def export(self, suffix: str) -> bytes:
        """The shown method's catalogue (ECSV or VOTable, with units and provenance), its masks' ellipses as
        DS9 regions, or its masks as FITS."""
        if suffix == ".fits":
            return masks_bytes(self.image, self.result)
        if suffix == ".reg":
            return regions_bytes(self.image, self.result)
        return table_bytes(source_table(self.image, self.result), suffix)

    def vetting_candidates(self) -> tuple:
        """The shown method's galaxies as deblending candidates, most blended first."""
        from astroml_core.errors import InvalidVoteError
        from astroml_core.vetting.sources import DEBLEND_LABELS, deblend_candidates, model_provenance

        if self.result is None or self.image is None:
            raise InvalidVoteError("press Deblend first: there are no galaxies to send yet")
        provenance = (model_provenance("deblend_unet") if self.method == "model" else
                      {"model_name": self.method, "model_version": "", "card_sha256": ""})
        return "deblended_source", list(DEBLEND_LABELS), deblend_candidates(self.image, self.result, self.band), dict(
            provenance, source=str(self.image.path), description=f"{self.method} deblending, {self.band} band")

    def vetting_name(self) -> str:
        """The vetting campaign's name: the image's file and the method."""
        return f"Deblending: {Path(str(self.image.path)).name} · {self.method}"


def frame(table: QTable, bands, band: str):
    """The table as shown: id, RA/Dec, the network's blendedness β, flux per band, then the compared band's
    flux from the others."""
    import pandas as pd

    cols = {"id": np.asarray(table["id"]), "RA (°)": np.round(np.asarray(table["ra"], float), 5),
            "Dec (°)": np.round(np.asarray(table["dec"], float), 5)}
    if "blendedness" in table.colnames:
        cols["β"] = np.round(np.asarray(table["blendedness"], float), 2)
    for b in bands:               # Tabulator writes column titles as HTML: a band name from FILTER is text
        cols[html_text(b)] = np.round(np.asarray(table[f"flux_{b}"], float), 2)
    for name in [c.removesuffix(f"_{band}") for c in table.colnames if c.endswith(f"_{band}") and not c.startswith("flux_")]:
        cols[name] = np.round(np.asarray(table[f"{name}_{band}"], float), 2)
    return pd.DataFrame(cols)
