"""The spectrum file formats we read besides our own table, each into :class:`RawSpectra` (vacuum Å).

Read through specutils' loaders where they read the file right (DESI coadd and spectra, SDSS-I/II spSpec,
SDSS/BOSS spPlate, 6dFGS, 2dFGRS, tabular FITS with units); written here where specutils has no loader
(LAMOST; the SDSS image layout with COEFF0/COEFF1 that specutils' identifiers refuse) or misreads the file
(wcs1d-fits: specutils builds ``WCS(header)``, which takes IRAF headers carrying CUNIT2 for 2-D and fails on
MPDAF's and IRAF's 1-D spectra; vector-column tables such as ALFALFA's, which its tabular loader refuses).
Every conversion made is written into ``RawSpectra.notes``.
"""
from __future__ import annotations

import warnings

import numpy as np
from astropy.io import fits

from ..errors import AstroMLError, ShapeError, UnsupportedFormatError
from .fitsfile import one_line
from .spectrum_resample import Piece, RawSpectra, air_to_vacuum

__all__ = ["SUPPORTED_SPECTRUM_FORMATS", "read_foreign", "unsupported", "is_lamost", "sdss_columns", "sdss_meta"]

SUPPORTED_SPECTRUM_FORMATS: tuple[str, ...] = (
    "AstroML spectra table (FLUX, IVAR vector columns; COEFF0/COEFF1 or LOGLAM grid)",
    "SDSS-III/IV and BOSS spec-PLATE-MJD-FIBER (COADD table)",
    "SDSS-I/II spSpec (flux, error and mask rows in the primary image)",
    "SDSS/BOSS spPlate and single-fibre image files (flux in the primary image, COEFF0/COEFF1, IVAR and AND_MASK "
    "image extensions)",
    "DESI coadd and spectra files (B, R, Z arms)",
    "LAMOST low-resolution spectra (DR1–DR7 primary image rows, DR8+ table)",
    "6dFGS (tabular, split and combined files)",
    "2dFGRS",
    "wcs1d-fits: a 1-D spectrum image with a wavelength WCS (IRAF, MUSE/MPDAF), optional variance extension",
    "tabular-fits: a FITS table with a wavelength (or frequency) column and a flux column",
)

_SPECUTILS_ORDER = ("DESI coadd", "DESI spectra", "SDSS-I/II spSpec", "SDSS spPlate", "6dFGS-tabular",
                    "6dFGS-split", "6dFGS-combined", "2dFGRS")
_AIR = {"6dFGS-tabular", "6dFGS-split", "6dFGS-combined", "2dFGRS"}     # both surveys give air wavelengths


def unsupported(name: str, what: str) -> UnsupportedFormatError:
    """The refusal of a file none of our readers recognises, listing the formats we read."""
    listed = "; ".join(f"({i}) {f}" for i, f in enumerate(SUPPORTED_SPECTRUM_FORMATS, 1))
    return UnsupportedFormatError(f"{name} is not a spectrum file we can read ({what}; no table with a FLUX column, "
                                  f"no COADD table, no 1-D spectrum image). We read: {listed}. Write the spectra in "
                                  "one of these formats, e.g. our table with write_spectra")


def is_lamost(hdul: fits.HDUList) -> bool:
    return str(hdul[0].header.get("TELESCOP", "")).strip().upper() == "LAMOST"


def read_foreign(hdul: fits.HDUList, name: str) -> RawSpectra:
    """The first format of ours (after our table and SDSS spec, read in spectra.py) the file is in, read."""
    if is_lamost(hdul):
        return _guard(_lamost, hdul, name, "LAMOST")
    from specutils import Spectrum, SpectrumList

    head = hdul[0].header
    # A BOSS single-fibre file in the spPlate image layout (1-D flux, COEFF0/COEFF1; e.g. linetools' BOSS quasar):
    # specutils' spPlate identifier takes it (TELESCOP 'SDSS 2.5-M', no FIBERID card) but its loader wants a 2-D
    # plate image and a plug-map in HDU 5 and fails ("pop index out of range"); our hand reader below reads it.
    single_fibre = hdul[0].data is not None and hdul[0].data.ndim == 1 and "COEFF0" in head and "COEFF1" in head
    for fmt in _SPECUTILS_ORDER:
        if fmt == "SDSS spPlate" and single_fibre:
            continue
        for cls in (Spectrum, SpectrumList):                # specutils registers each loader for one of them
            registry = cls.read.registry
            if (fmt, cls) in registry._readers and _identified(registry._identifiers.get((fmt, cls)), hdul):
                return _guard(_specutils, hdul, name, fmt, fmt, registry.get_reader(fmt, cls))
    if hdul[0].data is not None and "COEFF0" in head and "COEFF1" in head:
        return _guard(_sdss_image, hdul, name, "SDSS image layout")
    image = next((h for h in hdul if isinstance(h, (fits.PrimaryHDU, fits.ImageHDU)) and h.data is not None), None)
    if image is not None and (image.data.ndim == 1 or image.data.shape[0] == 1):
        return _guard(_wcs1d, hdul, name, "wcs1d-fits", image)
    tables = [h for h in hdul if isinstance(h, fits.BinTableHDU) and h.header.get("NAXIS2", 0) > 0]
    if tables:
        return _guard(_tabular, hdul, name, "tabular-fits", tables[0])
    raise unsupported(name, "an image of " + " × ".join(map(str, image.data.shape)) if image is not None
                      else "no data")


def _identified(identifier, hdul) -> bool:
    """specutils' identifier on the open file; one that raises (a key it expects is missing) means no."""
    if identifier is None:
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # the registry's call, identifier(origin, path, fileobj): a name-pattern check reads the path,
            # a content check the open HDUList (specutils' read_fileobj_or_hdulist takes the third argument)
            return bool(identifier("read", hdul.filename() or "", hdul, hdul))
    except Exception:
        return False


def _guard(reader, hdul, name: str, fmt: str, *args) -> RawSpectra:
    """Run a reader; its failures on a damaged file become a ShapeError naming the format."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return reader(hdul, name, *args)
    except AstroMLError:
        raise
    except Exception as exc:   # specutils and astropy raise KeyError, ValueError, IndexError, ... on damaged files
        raise ShapeError(f"{name} looks like a {fmt} file but cannot be read as one ({one_line(exc, 160)}); check "
                         "that it is complete and unmodified") from None


def _as_angstrom(spectral_axis) -> tuple[np.ndarray, str]:
    """Å of a specutils spectral axis (wavelength, frequency or energy), and a note when it was converted."""
    import astropy.units as u

    unit = spectral_axis.unit
    values = np.asarray(spectral_axis.to_value(u.AA, equivalencies=u.spectral()), np.float64)
    return values, ("" if unit == u.AA else f"spectral axis in {unit} converted to Å")


def _ivar_of(spectrum) -> np.ndarray | None:
    """Inverse variance from a specutils uncertainty of any kind (None when the file has none)."""
    from astropy.nddata import InverseVariance, StdDevUncertainty, VarianceUncertainty

    unc = spectrum.uncertainty
    if unc is None:
        return None
    a = np.asarray(unc.array, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if isinstance(unc, InverseVariance):
            iv = a
        elif isinstance(unc, VarianceUncertainty):
            iv = 1.0 / a
        elif isinstance(unc, StdDevUncertainty):
            iv = 1.0 / a ** 2
        else:
            raise ShapeError(f"uncertainty of type {type(unc).__name__} is not one we convert")
    return np.where(np.isfinite(iv) & (iv > 0), iv, 0.0)


def _specutils(hdul, name: str, fmt: str, reader) -> RawSpectra:
    """A file through specutils' loader; several Spectrum objects of one length are rows, otherwise arms."""
    out = reader(hdul)
    spectra = list(out) if isinstance(out, list) else [out]
    notes, pieces = [], []
    for s in spectra:
        wave, note = _as_angstrom(s.spectral_axis)
        flux = np.atleast_2d(np.asarray(s.flux.value, np.float64))
        ivar = _ivar_of(s)
        if ivar is None:
            ivar, noise_note = _noise_ivar(flux)
            notes += [noise_note] if noise_note not in notes else []
        ivar = np.atleast_2d(ivar)
        if fmt.startswith("DESI") and s.mask is not None:
            ivar = np.where(np.atleast_2d(s.mask), 0.0, ivar)        # DESI: a set mask bit means do not use
        if fmt in _AIR:
            wave = air_to_vacuum(wave)
        head = hdul[0].header
        if fmt.startswith("SDSS") and "COEFF0" in head and "COEFF1" in head:
            # specutils 2.4's spSpec/spPlate WCS drops CRPIX1, putting pixel 0 at 10^(COEFF0 + COEFF1): one pixel
            # late. The SDSS datamodel's solution is λᵢ = 10^(COEFF0 + COEFF1·i).
            wave = 10.0 ** (float(head["COEFF0"]) + float(head["COEFF1"]) * np.arange(flux.shape[1]))
        pieces.append(Piece(wave, flux, ivar))
        notes += [note] if note and note not in notes else []
    if fmt.startswith("DESI"):
        bands = [s.meta.get("band", "?").upper() for s in spectra]
        notes.append(f"DESI {', '.join(bands)} arms joined (inverse-variance weighted where they overlap); pixels "
                     "with a mask bit set dropped")
        fibermap = spectra[0].meta.get("fibermap")
        n = len(pieces[0].flux)
        ids = np.asarray(fibermap["TARGETID"]).astype(str) if fibermap is not None and "TARGETID" in fibermap.colnames \
            else np.array([f"{name}-{i}" for i in range(n)])
        return RawSpectra(fmt, pieces, ids[:n], {}, notes, str(spectra[0].flux.unit))
    if fmt in _AIR:
        notes.append(f"{fmt} wavelengths are in air: converted to vacuum (Morton 2000)")
    if fmt.startswith("SDSS"):
        notes.append("SDSS wavelength solution λ = 10^(COEFF0 + COEFF1·i), vacuum (read from the header: specutils' "
                     "loader puts pixel 0 one step late)")
    if len({p.flux.shape[1] for p in pieces}) == 1 and len(pieces) > 1 and \
            all(np.array_equal(p.wavelength, pieces[0].wavelength) for p in pieces):
        pieces = [Piece(pieces[0].wavelength, np.vstack([p.flux for p in pieces]), np.vstack([p.ivar for p in pieces]))]
    if len(pieces) > 1:                                     # rows on different grids: one wavelength array per row
        raise ShapeError(f"{name}: its {len(pieces)} {fmt} spectra have different wavelength grids; open them one "
                         "file at a time")
    n = len(pieces[0].flux)
    stem = name.rsplit(".", 1)[0]
    return RawSpectra(fmt, pieces, np.array([stem] if n == 1 else [f"{stem}-{i + 1}" for i in range(n)]), {}, notes,
                      str(spectra[0].flux.unit))


def _rows(a) -> np.ndarray:
    return np.atleast_2d(np.asarray(a, np.float64))


def _noise_ivar(flux: np.ndarray) -> tuple[np.ndarray, str]:
    """ivar from each row's own pixel-to-pixel scatter (robust σ of first differences / √2), for files with no
    uncertainty: the classifier reads spectra in units of their noise, so ivar = 1 would mean nothing."""
    d = np.diff(flux, axis=1)
    sigma = 1.4826 * np.nanmedian(np.abs(d - np.nanmedian(d, axis=1, keepdims=True)), axis=1) / np.sqrt(2)
    sigma = np.where(np.isfinite(sigma) & (sigma > 0), sigma, np.nan)
    ivar = np.where(np.isfinite(flux), 1.0 / sigma[:, None] ** 2, 0.0)
    return np.nan_to_num(ivar, nan=0.0), ("no uncertainty in the file: each spectrum's noise estimated from its "
                                          "pixel-to-pixel scatter (robust σ of first differences / √2)")


def _lamost(hdul, name: str) -> RawSpectra:
    """LAMOST low-resolution spectra, as the LAMOST data release documentation describes them: DR1–DR7 a
    primary image of rows flux, ivar, wavelength, andmask, ormask; DR8 and later one table row per spectrum
    with FLUX, IVAR, WAVELENGTH, ANDMASK, ORMASK vector columns. Wavelengths are vacuum (VACUUM = T)."""
    head = hdul[0].header
    tables = [h for h in hdul if isinstance(h, fits.BinTableHDU) and "FLUX" in [c.upper() for c in h.columns.names]]
    if tables:
        data = tables[0].data
        cols = {c.upper(): c for c in data.columns.names}
        flux, wave = _rows(data[cols["FLUX"]]), _rows(data[cols["WAVELENGTH"]])
        ivar = _rows(data[cols["IVAR"]]) if "IVAR" in cols else None
        layout = "DR8+ table"
    else:
        img = np.asarray(hdul[0].data, np.float64)
        if img.ndim != 2 or img.shape[0] < 3:
            raise ShapeError(f"{name}: a LAMOST file needs a primary image of rows flux, ivar, wavelength "
                             f"(found shape {img.shape})")
        flux, ivar, wave = img[:1], img[1:2], img[2:3]
        layout = "DR1–DR7 image rows"
    notes = [f"LAMOST {layout}"]
    if ivar is None:
        ivar, note = _noise_ivar(flux)
        notes.append(note)
    if head.get("VACUUM", True) is False:
        wave = air_to_vacuum(wave)
        notes.append("VACUUM = F: air wavelengths converted to vacuum (Morton 2000)")
    else:
        notes.append("wavelengths in vacuum (VACUUM = T)" if "VACUUM" in head else
                     "no VACUUM card: wavelengths taken as vacuum, the LAMOST pipeline's convention")
    obsid = str(head.get("OBSID", head.get("DESIG", name.rsplit(".", 1)[0]))).strip()
    ids = np.array([obsid] if len(flux) == 1 else [f"{obsid}-{i + 1}" for i in range(len(flux))])
    meta = {k.lower(): np.array([head[k]] * len(flux)) for k in ("CLASS", "SUBCLASS", "Z") if k in head}
    if "class" in meta:
        meta["lamost_class"] = meta.pop("class")
    return RawSpectra("LAMOST", [Piece(wave if len(wave) > 1 else wave[0], flux, ivar)], ids, meta, notes,
                      str(head.get("BUNIT", "")).strip())


def _image_ext(hdul, shape, names: tuple[str, ...], index: int | None):
    """The image extension named one of ``names`` (or, failing that, at ``index``) of the given shape."""
    for h in hdul[1:]:
        if h.name.upper() in names and getattr(h, "data", None) is not None and h.data.shape == shape:
            return h
    if index is not None and len(hdul) > index and isinstance(hdul[index], fits.ImageHDU) \
            and hdul[index].data is not None and hdul[index].data.shape == shape and not hdul[index].name.strip():
        return hdul[index]
    return None


def _sdss_image(hdul, name: str) -> RawSpectra:
    """The SDSS/BOSS image layout (spPlate, and single-fibre files in its layout): flux in the primary image,
    one row per fibre, λ = 10^(COEFF0 + COEFF1·i) in vacuum Å, inverse variance in HDU 1 and the and-mask in
    HDU 2 (SDSS datamodel). Hand-read because specutils' spPlate identifier wants > 5 rows and no FIBERID
    card, and its loader a plug-map in HDU 5."""
    head = hdul[0].header
    flux = _rows(hdul[0].data)
    c0, c1 = float(head["COEFF0"]), float(head["COEFF1"])
    if not (2.0 < c0 < 6.0 and 0 < c1 < 0.01):
        raise ShapeError(f"{name}: COEFF0 = {c0!r}, COEFF1 = {c1!r} is not an SDSS log10 Å grid")
    wave = 10.0 ** (c0 + c1 * np.arange(flux.shape[1]))
    notes = ["SDSS/BOSS image layout: λ = 10^(COEFF0 + COEFF1·i), vacuum"]
    err = _image_ext(hdul, hdul[0].data.shape, ("ERR", "ERROR", "SIGMA", "NOISE"), None)
    ext = _image_ext(hdul, hdul[0].data.shape, ("IVAR", "INVVAR"), None if err is not None else 1)
    if ext is not None:
        ivar = _rows(ext.data)
        notes.append(f"inverse variance from HDU {hdul.index_of(ext)}" +
                     ("" if ext.name.strip() else " (unnamed: the spPlate datamodel's IVAR)"))
    elif err is not None:
        with np.errstate(divide="ignore"):
            ivar = 1.0 / _rows(err.data) ** 2
        ivar = np.where(np.isfinite(ivar), ivar, 0.0)
        notes.append(f"HDU {hdul.index_of(err)} ({err.name.strip()}) read as the standard deviation")
    else:
        ivar, note = _noise_ivar(flux)
        notes.append(note)
    stem = name.rsplit(".", 1)[0]
    ids = np.array([stem] if len(flux) == 1 else [f"{stem}-fiber{i + 1}" for i in range(len(flux))])
    return RawSpectra("SDSS image layout", [Piece(wave, flux, ivar)], ids, {}, notes,
                      str(head.get("BUNIT", "1e-17 erg/s/cm2/Angstrom")).strip())


_AIR_CTYPES = ("AWAV",)
_VAC_CTYPES = ("WAVE", "VOPT")


def _wcs1d(hdul, name: str, hdu) -> RawSpectra:
    """One 1-D spectrum image with a spectral WCS on axis 1 (read with astropy's ``WCS(header, naxis=1)``)."""
    import astropy.units as u
    from astropy.wcs import WCS

    head = hdu.header
    flux = _rows(hdu.data)
    ctype = str(head.get("CTYPE1", "")).strip().upper()
    wcs = WCS(head, naxis=1)
    world = wcs.pixel_to_world_values(np.arange(flux.shape[1], dtype=np.float64))
    world = np.asarray(world, np.float64).ravel()
    notes = []
    if ctype == "LINEAR" and head.get("DC-FLAG", 0) == 1:
        world = 10.0 ** world
        notes.append("DC-FLAG = 1: the linear axis holds log10 λ")
    unit = wcs.wcs.cunit[0]
    if str(unit) in ("", "pixel"):
        wat = str(head.get("WAT1_001", "")).lower()
        if "angstrom" not in wat and not (ctype in ("LINEAR", "") and 1e3 < np.nanmedian(world) < 1e5):
            raise unsupported(name, f"a 1-D image whose axis 1 (CTYPE1 {ctype!r}) has no wavelength unit")
        unit = u.AA
        notes.append("no CUNIT1: wavelengths taken as Å" + (" (WAT1_001 says angstroms)" if "angstrom" in wat else ""))
    try:
        wave = (world * u.Unit(unit)).to_value(u.AA, equivalencies=u.spectral())
    except u.UnitConversionError:
        raise unsupported(name, f"a 1-D image whose axis 1 is in {unit}, not a wavelength or frequency") from None
    vacuum = ctype.startswith(_VAC_CTYPES) or str(head.get("AIRORVAC", "")).lower().startswith("vac")
    if not vacuum:
        wave = air_to_vacuum(wave)
        why = "AWAV" if ctype.startswith(_AIR_CTYPES) else f"CTYPE1 {ctype or 'absent'!r} in {unit}"
        notes.append(f"{why} read as air wavelength (ground-based optical convention) and converted to vacuum "
                     "(Morton 2000)")
    var = _image_ext(hdul, hdu.data.shape, ("STAT", "VAR", "VARIANCE"), 1 if hdu is hdul[0] else None)
    iv_ext = _image_ext(hdul, hdu.data.shape, ("IVAR", "INVVAR"), None)
    err = _image_ext(hdul, hdu.data.shape, ("ERR", "ERROR", "SIGMA", "NOISE"), None)
    with np.errstate(divide="ignore", invalid="ignore"):
        if iv_ext is not None:
            ivar, src = _rows(iv_ext.data), "inverse variance"
        elif err is not None:
            ivar, src = 1.0 / _rows(err.data) ** 2, "standard deviation"
        elif var is not None:
            ivar, src = 1.0 / _rows(var.data), "variance"
        else:
            ivar, src = None, ""
    if ivar is None:
        ivar, note = _noise_ivar(flux)
        notes.append(note)
    else:
        ext = next(h for h in (iv_ext, err, var) if h is not None)
        label = ext.name.strip() or "unnamed"
        notes.append(f"HDU {hdul.index_of(ext)} ({label}) read as the {src}" +
                     (" (MPDAF's layout: data then variance)" if label == "unnamed" else ""))
        ivar = np.where(np.isfinite(ivar) & (ivar > 0), ivar, 0.0)
    bunit = str(head.get("BUNIT", "")).strip()
    if "FSCALE" in head and not bunit:
        bunit = f"{head['FSCALE']} (FSCALE, no BUNIT)"
    stem = name.rsplit(".", 1)[0]
    obj = str(head.get("OBJECT", "")).strip()
    return RawSpectra("wcs1d-fits", [Piece(wave, flux, ivar)], np.array([obj or stem]), {}, notes, bunit)


_SPECTRAL_NAMES = ("WAVELENGTH", "WAVE", "LAMBDA", "LAM", "LOGLAM", "FREQ", "FREQUENCY")
_FLUX_NAMES = ("FLUX", "FLUXDENS", "FLUX_DENSITY", "FLAM", "FNU", "F_LAMBDA", "SPEC", "SPECTRUM")
_ERR = {"IVAR": "ivar", "INVVAR": "ivar", "ERR": "std", "ERROR": "std", "FLUX_ERR": "std", "SIGMA": "std",
        "STD": "std", "NOISE": "std", "VAR": "var", "VARIANCE": "var"}


def _tabular(hdul, name: str, hdu) -> RawSpectra:
    """A FITS table with a wavelength (or frequency) column and a flux column: scalar columns hold one spectrum
    (a row per pixel), vector columns one spectrum per row. Hand-read because specutils' tabular loader needs
    units on every column and refuses vector columns."""
    import astropy.units as u

    data = hdu.data
    cols = {c.name.upper(): c for c in hdu.columns}
    spectral = next((cols[n] for n in _SPECTRAL_NAMES if n in cols), None)
    flux_col = next((cols[n] for n in _FLUX_NAMES if n in cols), None)
    if spectral is None or flux_col is None:
        shown = ", ".join(list(cols)[:12]) + (" …" if len(cols) > 12 else "")
        raise unsupported(name, f"a table with columns {shown}: no wavelength or frequency column beside a flux "
                                "column, so not a spectrum")
    flux = np.asarray(data[flux_col.name], np.float64)
    spec = np.asarray(data[spectral.name], np.float64)
    vector = flux.ndim == 2
    flux, spec = (flux, spec) if vector else (flux[None, :], spec[None, :])
    notes = []
    unit_text = (spectral.unit or "").strip()
    if spectral.name.upper() == "LOGLAM":
        spec, unit_text = 10.0 ** spec, "Angstrom"
    if not unit_text:
        if spectral.name.upper().startswith("FREQ"):
            raise ShapeError(f"{name}: its {spectral.name} column has no unit; give it TUNIT (Hz, MHz, GHz)")
        unit_text = "Angstrom"
        notes.append(f"{spectral.name} has no unit: taken as Å")
    try:
        unit = u.Unit(unit_text, format="fits", parse_strict="raise") if unit_text != "Angstrom" else u.AA
        wave = (spec * unit).to_value(u.AA, equivalencies=u.spectral())
    except (ValueError, u.UnitConversionError):
        raise ShapeError(f"{name}: its {spectral.name} column's unit {unit_text!r} is not a wavelength or "
                         "frequency") from None
    if unit.physical_type != "length":
        notes.append(f"{spectral.name} in {unit_text} converted to wavelength")
    err_name = next((n for n in _ERR if n in cols), None)
    with np.errstate(divide="ignore", invalid="ignore"):
        if err_name is None:
            ivar, note = _noise_ivar(flux)
            notes.append(note)
        else:
            e = np.asarray(data[cols[err_name].name], np.float64)
            e = e if vector else e[None, :]
            ivar = {"ivar": e, "std": 1.0 / e ** 2, "var": 1.0 / e}[_ERR[err_name]]
            ivar = np.where(np.isfinite(ivar) & (ivar > 0), ivar, 0.0)
            what = {"ivar": "inverse variance", "std": "standard deviation", "var": "variance"}[_ERR[err_name]]
            notes.append(f"{cols[err_name].name} read as the {what}")
    quality = next((cols[n] for n in ("QUAL", "QUALITY") if n in cols), None)
    if quality is not None:                  # ESO Phase 3 and others: a non-zero quality flag marks a bad pixel
        q = np.asarray(data[quality.name])
        ivar = np.where((q if vector else q[None, :]) != 0, 0.0, ivar)
        notes.append(f"pixels with {quality.name} ≠ 0 dropped")
    if unit.physical_type == "length":
        ucd = str(hdu.header.get(f"TUCD{hdu.columns.names.index(spectral.name) + 1}", "")).lower()
        airorvac = str(hdu.header.get("AIRORVAC", hdul[0].header.get("AIRORVAC", ""))).lower()
        air = airorvac.startswith("air") or "obs.atmos" in ucd
        if air:
            wave = air_to_vacuum(wave)
        notes.append(("AIRORVAC = air" if airorvac.startswith("air") else f"{spectral.name} UCD '{ucd}' (air)")
                     + ": converted to vacuum (Morton 2000)" if air else
                     "wavelengths taken as vacuum (no AIRORVAC = 'air' card, no obs.atmos UCD)")
    stem = name.rsplit(".", 1)[0]
    n = len(flux)
    ids = np.array([stem] if n == 1 else [f"{stem}-{i + 1}" for i in range(n)])
    return RawSpectra("tabular-fits", [Piece(wave if n > 1 else wave[0], flux, ivar)], ids, {}, notes,
                      (flux_col.unit or "").strip())


# --- SDSS-III/IV spec files (read in spectra.py, which places them on the grid by whole pixels) ---------------
def sdss_columns(coadd, name: str) -> dict[str, str]:
    """Lower-case name → actual name of the COADD table's columns; ShapeError naming any that is missing."""
    cols = {c.lower(): c for c in coadd.columns.names}
    missing = [c for c in ("flux", "loglam", "ivar") if c not in cols]
    if missing:
        raise ShapeError(f"{name}: its COADD table lacks the column(s) {', '.join(missing)}; an SDSS spec file "
                         "needs flux, loglam and ivar")
    return cols


def sdss_meta(hdul: fits.HDUList, name: str) -> dict:
    """CLASS, SUBCLASS and Z from the SPECOBJ table when present (each optional)."""
    if "SPECOBJ" not in [h.name for h in hdul] or not isinstance(hdul["SPECOBJ"], fits.BinTableHDU):
        return {}
    obj = hdul["SPECOBJ"]
    if obj.header.get("NAXIS2", 0) == 0:
        return {}
    cols = {c.upper(): c for c in obj.columns.names}
    row = obj.data[0]
    meta = {}
    for key, column in (("sdss_class", "CLASS"), ("sdss_subclass", "SUBCLASS")):
        if column in cols:
            meta[key] = str(row[cols[column]]).strip()
    if "Z" in cols:
        try:
            meta["z"] = float(row[cols["Z"]])
        except (TypeError, ValueError):
            raise ShapeError(f"{name}: its SPECOBJ Z value {row[cols['Z']]!r} is not a number") from None
    return meta
