"""The E0 section that ``python -m astroml_core.validate lightcone`` writes for the lightcone card: its
figures come from the numbers of both codes (21cmFAST itself is not run in CI)."""
from __future__ import annotations

from astroml_core.validate.lightcone import E0_POINTS, Z_CHECK, _e0_markdown


def _numbers(at12: dict) -> dict:
    """Both codes' summaries with mean δT_b ``at12[code][point]`` at every checked redshift."""
    return {name: {code: dict(mean_tb={str(z): at12[code][name] for z in Z_CHECK}) for code in at12}
            for name in E0_POINTS}


def test_e0_section_measures_the_lever_and_the_soft_end():
    ref = {"E0 300 eV": -23.0, "E0 700 eV": -33.0, "E0 1000 eV": -54.0, "E0 1500 eV": -81.0,
           "E0 700 eV, L_X 39.8": -58.0, "E0 1500 eV, L_X 40.2": -53.0}
    ours = {"E0 300 eV": -28.0, "E0 700 eV": -20.0, "E0 1000 eV": -31.0, "E0 1500 eV": -34.0,
            "E0 700 eV, L_X 39.8": -40.0, "E0 1500 eV, L_X 40.2": -15.0}
    text = _e0_markdown(_numbers({"21cmFAST": ref, "ours": ours}))
    assert "by 48 mK in 21cmFAST, as lowering log10 L_X by 0.38 would" in text    # 48 / (25 / 0.2)
    assert "by 14 mK in ours, as lowering it by 0.14 would" in text                # 14 / (20 / 0.2)
    assert "3.4× less" in text and "disagree in sign" in text
    ours["E0 300 eV"] = -10.0
    text = _e0_markdown(_numbers({"21cmFAST": ref, "ours": ours}))
    assert "codes agree in sign" in text and "patches" not in text
