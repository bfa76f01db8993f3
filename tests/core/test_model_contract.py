"""The model contract, over every shipped model (``registry.MODELS``): the card matches the weights and is
recorded; ``predict`` on a small example of the declared input shapes gives finite outputs of the declared
shapes, the same twice; a state_dict round trip into a fresh module gives the same outputs; the module moves to
``choose_device()``; ``classes`` is the card's list and sizes the class axis."""
from __future__ import annotations

import io

import pytest
import torch

from astroml_core.models.protocol import Model
from astroml_core.registry import MODEL_DIR, MODELS, load_model, model_provenance, sha256
from astroml_core.service.device import choose_device


def _example(name: str) -> tuple[torch.Tensor, ...]:
    """A fixed input of each declared shape."""
    gen = torch.Generator().manual_seed(0)
    return tuple(torch.randn(shape, generator=gen) for shape in MODELS[name].inputs)


def _predict(module, inputs) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        return tuple(module.predict(*inputs))


@pytest.fixture(scope="module", params=sorted(MODELS))
def shipped(request):
    """(name, the shipped module on cpu, its outputs on the example)."""
    module = load_model(request.param, "cpu")
    return request.param, module, _predict(module, _example(request.param))


def test_all_five_shipped_models_are_under_contract():
    assert sorted(MODELS) == ["deblend_unet", "galaxy_flow", "hi_unet", "lightcone_flow", "spectra_net"]
    assert all(spec.inputs and spec.outputs for spec in MODELS.values())


def test_the_card_matches_the_weights_and_its_hash_is_recorded(shipped):
    name, module, _ = shipped
    assert isinstance(module, Model) and module.card.name == name
    assert module.card.weights_sha256 == sha256(MODEL_DIR / name / "weights.pt")
    assert module.card.sha256 == sha256(MODEL_DIR / name / "card.md") == model_provenance(name)["card_sha256"]
    assert module.card.front["task"] == MODELS[name].task


def test_predict_gives_finite_outputs_of_the_declared_shapes(shipped):
    name, _, out = shipped
    assert [tuple(o.shape) for o in out] == [tuple(s) for s in MODELS[name].outputs]
    assert all(torch.isfinite(o).all() for o in out)


def test_the_same_input_twice_gives_the_same_output(shipped):
    name, module, out = shipped
    assert not module.training
    for a, b in zip(out, _predict(module, _example(name))):
        assert torch.equal(a, b)


def test_a_state_dict_round_trip_into_a_fresh_module_gives_the_same_output(shipped):
    name, module, out = shipped
    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    buf.seek(0)
    twin = MODELS[name].factory()
    twin.load_state_dict(torch.load(buf, weights_only=True))
    twin.eval()
    for a, b in zip(out, _predict(twin, _example(name))):
        assert torch.equal(a, b)


def test_the_model_runs_on_the_chosen_device(shipped):
    name, _, out = shipped
    device = choose_device()
    module = load_model(name, device)
    assert next(module.parameters()).device.type == device.type
    moved = _predict(module, tuple(x.to(device) for x in _example(name)))
    for a, b in zip(out, moved):
        torch.testing.assert_close(b.cpu(), a, rtol=1e-3, atol=1e-3)


def test_classes_are_the_cards_list_and_size_the_class_axis(shipped):
    name, module, out = shipped
    assert module.classes == tuple(module.card.front.get("classes") or ())
    if module.classes:
        assert out[0].shape[-1] == len(module.classes) == len(set(module.classes))


def test_the_spectra_task_takes_its_classes_from_the_models_card(tmp_path):
    """A classifier shipped with another card (here the same weights, classes renamed) is used as it is: the
    task's labels are that card's classes, not the simulator's."""
    import numpy as np
    import yaml

    from astroml_core.registry import write_card
    from astroml_core.sim.spectra import simulate_spectra
    from astroml_core.tasks.spectra import classify_arrays
    from astroml_core.tasks.spectra.model import NAME, card

    shipped = card()
    folder = tmp_path / NAME
    folder.mkdir()
    (folder / "weights.pt").symlink_to(MODEL_DIR / NAME / "weights.pt")
    renamed = [f"KIND_{k}" for k in range(len(shipped.classes))]
    front = yaml.safe_load(yaml.safe_dump(dict(shipped.front, classes=renamed)))
    front["unknown"] = {"anomaly_z": 1e9}
    write_card(NAME, front, "card\n", tmp_path)
    sim = simulate_spectra(3000, 8)
    r = classify_arrays(sim.flux, sim.ivar, load_model(NAME, "cpu", tmp_path))
    assert r.classes == tuple(renamed) and set(r.label) <= set(renamed)
    assert np.array_equal(r.probs, classify_arrays(sim.flux, sim.ivar).probs)
