"""What each real optical spectrum of the corpus is, by its survey pipeline's own class, read from the file (or the
file that ships beside it) where the file has one, else said where it comes from. Checked against the files in
tests/core/test_corpus_spectra_classes.py; ``python -m tests.corpus.spectra_truth`` prints the classifier's table.

- SDSS and BOSS spec files: HDU 2 (SPECOBJ; SPALL in bossbrain's BOSS file) CLASS, SUBCLASS, Z.
- DESI coadds from fastspecfit: the redrock file beside each in the same wheel (REDSHIFTS: SPECTYPE, SUBTYPE, Z).
- DESI coadds from specutils: no redrock output ships; the FIBERMAP targeting bits say what the target was
  *selected as* (SV3 desi_mask: bit 0 LRG, 1 ELG, 2 QSO; desitarget's sv3_targetmask.yaml). Targeting is not a
  classification: an ELG or LRG target can turn out a star or a quasar.
- Other spectra: the survey or the literature, named in ``source``.
"""
from __future__ import annotations

from astroml_core.validate.spectra_real import PipelineClass as P

from .files import corpus_path

__all__ = ["TRUTH", "NOT_OPTICAL", "NO_TRUTH", "DESI_REDROCK", "files_with_truth"]

_LRG = "DESI targeting bits (not a classification): SV3_DESI_TARGET LRG (bits 0, 16 LRG_SOUTH)"
_ELG = "DESI targeting bits (not a classification): SV3_DESI_TARGET ELG (bits 1, 6 ELG_HIP, 9, 12 north)"

TRUTH: dict[str, tuple[P, ...]] = {
    "desi_coadd": (P("39627866878511337", "GALAXY", None, None, _LRG, "MORPHTYPE DEV"),
                   P("39627866878514741", "GALAXY", None, None, _LRG, "MORPHTYPE EXP")),
    "desi_coadd_mws": (P("39633300968442591", "GALAXY", None, None, _ELG,
                         "MORPHTYPE PSF; the file name says tile 169, its targets are dark-time (no MWS bit)"),),
    "desi_spectra": (P("39627866878511337", "GALAXY", None, None, _LRG, "the same target as in desi_coadd"),),
    "desi_bgs_80613": (P("39633345008634465", "GALAXY", None, 0.36874355, "DESI SPECTYPE (redrock 0.17)",
                         "SV1 BGS target (SV1_BGS_TARGET 4112); ZWARN 0"),),
    "desi_special_27247": (P("39089837499744649", "GALAXY", None, 0.00726967, "DESI SPECTYPE (redrock 0.20.2)",
                             "ZWARN 0"),),
    "sdss_ngc3073": (P(None, "STAR", "A0", 0.0037626564, "SPECOBJ CLASS",
                       "the pipeline's class; NGC 3073 is a dwarf lenticular galaxy (cz ≈ 1,130 km/s: the z in "
                       "the same row), so the star template the pipeline chose is wrong. ZWARNING 0"),),
    "sdss_ngc3522": (P(None, "GALAXY", "BROADLINE", 0.0040180134, "SPECOBJ CLASS", "ZWARNING 0"),),
    "boss_star_3586": (P(None, "STAR", "G1V (95128)", -0.00010124001, "SPECOBJ CLASS (HDU 2, named SPALL in this "
                         "BOSS v5_10_0 file)", "ZWARNING 0; BOSS commissioning plate"),),
    "legac_spectrum": (P(None, "GALAXY", None, 0.6686, "LEGA-C is a galaxy survey; z from the LEGA-C catalogue "
                         "(van der Wel+21) as ppxf's example quotes it", "UltraVISTA ID 56670, LEGA-C DR3 ID 414"),),
    "sauron_ngc4550": (P(None, "GALAXY", None, None, "literature: NGC 4550 is an S0 galaxy (SAURON survey)",
                         "covers 4,827–5,283 Å: 10% of the classifier's range"),),
    "vega": (P(None, "STAR", "A0", None, "literature: Vega is A0 V"),),
    "boss_qso_j2202": (P(None, "QSO", None, None, "BOSS DR12 quasar (specdb's igmspec and QPQ examples name it); "
                         "the file carries no CLASS", "the BOSS quasar in the spPlate image layout that was refused "
                         "at the door (issue 31)"),),
    "mage_qso_um184": (P(None, "QSO", None, None, "literature: UM 184 is a quasar (linetools' QSO test spectrum)",
                         "Magellan/MagE, echellette resolution, counts"),),
    "esi_qso_ph957": (P(None, "QSO", None, None, "literature: PHL 957 (Q0100+130) is a quasar",
                        "Keck/ESI, echellette resolution"),),
}

# Spectra in the corpus that are not optical: no class to compare (the reader refuses them, see
# tests/core/test_corpus_spectra.py).
NOT_OPTICAL = {"alfalfa_hi": "ALFALFA HI 21 cm radio spectrum"}

# Optical spectra whose class nothing we can read says: classified, shown in the table as "no truth".
NO_TRUTH = {
    "muse_spectrum": "Keck/DEIMOS 1-D spectrum of 'g9-124 T' (OBJECT; DETCNFIG 'DEIMOS Red Science Mosaic'), not MUSE; "
                     "mpdaf's docs and tests do not say what it is; S/N ≈ 1.2 per pixel, its only features are "
                     "night-sky residuals (5,577, 6,300, 6,364 Å)",
    "muse_spectrum_novar": "the same DEIMOS spectrum without its variance",
}

# The redrock output shipped beside each DESI coadd that has one: (dist, member).
DESI_REDROCK = {
    "desi_bgs_80613": ("fastspecfit-3.6.1", "fastspecfit/test/data/redrock-4-80613-thru20210324.fits"),
    "desi_special_27247": ("fastspecfit-3.6.1", "fastspecfit/test/data/redrock-special-dark-27247.fits"),
}


def files_with_truth(keys=None) -> list[tuple]:
    """(path, truths) for :func:`astroml_core.validate.spectra_real.real_rows`: every optical spectrum, those
    without a truth with an empty tuple."""
    keys = list(TRUTH) + list(NO_TRUTH) if keys is None else list(keys)
    return [(corpus_path(k), TRUTH.get(k, ())) for k in keys]


def main(argv=None) -> None:
    """Print the real-spectra table; ``--card`` also writes it into spectra_net's card (section real_files)."""
    import sys

    from astroml_core.validate.spectra_card import write_real_section
    from astroml_core.validate.spectra_real import real_markdown, real_rows

    args = sys.argv[1:] if argv is None else argv
    keys = list(TRUTH) + list(NO_TRUTH)
    rows = real_rows(files_with_truth(keys), labels=keys)
    print(real_markdown(rows))
    if "--card" in args:
        write_real_section(rows)


if __name__ == "__main__":
    main()
