"""Model registry: unknown names, weights that do not match their card, one cached module per device."""
from __future__ import annotations

import shutil

import pytest

from astroml_core.errors import AstroMLError, UnknownModelError
from astroml_core.registry import MODEL_DIR, load_model


def test_unknown_model_raises_unknown_model_error():
    with pytest.raises(UnknownModelError, match="unknown model 'nope'"):
        load_model("nope", "cpu")


def test_weights_that_do_not_match_the_card_are_refused(tmp_path):
    shutil.copytree(MODEL_DIR / "hi_unet", tmp_path / "hi_unet")
    with open(tmp_path / "hi_unet" / "weights.pt", "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(AstroMLError, match="does not match its card"):
        load_model("hi_unet", "cpu", model_dir=tmp_path)


def test_load_model_caches_one_module_per_device():
    assert load_model("hi_unet", "cpu") is load_model("hi_unet", "cpu")
