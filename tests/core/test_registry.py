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


def test_a_loaded_model_is_served_while_another_model_is_being_loaded():
    """A shared server: one user's first (slow) load of a model never holds up the models already loaded."""
    import threading

    from astroml_core import registry

    hi = load_model("hi_unet", "cpu")
    key = ("galaxy_flow", "cpu", str(MODEL_DIR))
    with registry._LOCKS_GUARD:
        lock = registry._LOCKS.setdefault(key, threading.Lock())
    got = []
    with lock:                          # as if galaxy_flow were being loaded now
        thread = threading.Thread(target=lambda: got.append(load_model("hi_unet", "cpu")))
        thread.start()
        thread.join(timeout=5)
        assert not thread.is_alive() and got == [hi]


def test_a_loaded_model_carries_its_card_and_the_spectra_task_names_its_model_once():
    from astroml_core.registry import MODELS, load_card
    from astroml_core.tasks.spectra import model as spectra_model

    assert MODELS[spectra_model.NAME].task == "spectra"
    card = load_model(spectra_model.NAME, "cpu").card
    assert card == load_card(spectra_model.NAME) == spectra_model.card()
    assert spectra_model.provenance()["card_sha256"] == card.sha256 and len(card.classes) == 13


def test_each_tasks_explain_runs_its_shipped_model():
    """The app asks a task (``tasks.<task>.saliency.explain``), never the registry, for the model's attribution."""
    from astroml_core.sim.spectra import simulate_spectra
    from astroml_core.tasks.deblend.saliency import explain as deblend_explain
    from astroml_core.tasks.hi.saliency import explain as hi_explain
    from astroml_core.tasks.spectra.model import load
    from astroml_core.tasks.spectra.saliency import explain, integrated_gradients

    assert callable(hi_explain) and callable(deblend_explain)
    sim = simulate_spectra(3000, 2)
    att, target = explain(sim.flux, sim.ivar, steps=2)
    again, same = integrated_gradients(load(), sim.flux, sim.ivar, steps=2)
    assert (att == again).all() and (target == same).all() and att.shape == sim.flux.shape
