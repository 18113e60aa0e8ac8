"""`polyak verify --backend torch --device D`: the claims' simulations run on that device."""

from __future__ import annotations

import json

import pytest

from polyak.cli import main
from polyak.solvers.backend import current_device, default_device, get_backend
from polyak.verify.claims import Claim


def test_default_device_scopes_get_backend():
    pytest.importorskip("torch")
    with default_device("cpu"):
        assert current_device() == "cpu" and get_backend("torch").device == "cpu"
        assert get_backend("torch", device="cpu").device == "cpu"
    assert current_device() is None
    with pytest.raises(ValueError, match="device"):
        with default_device(3):
            pass


@pytest.mark.torch
def test_verify_on_torch_cpu_runs_the_claims_there(capsys, monkeypatch, tmp_path):
    pytest.importorskip("torch")
    seen = []

    def measure(seed, backend):
        be = get_backend(backend)
        seen.append((backend, be.device))
        return 1.0

    claim = Claim(id="fake.device", paper="polyak1964", statement="s", provenance="[derived]", relation="tight",
                  measure=measure, predict=1.0, rtol=1e-3)
    import polyak.verify.runner as runner

    monkeypatch.setattr(runner, "collect", lambda suite="fast": [claim])
    path = tmp_path / "r.json"
    code = main(["verify", "--suite", "full", "--backend", "torch", "--device", "cpu", "--json", str(path)])
    out = capsys.readouterr().out
    assert code == 0 and seen == [("torch", "cpu")] and "(cpu)" in out
    assert json.loads(path.read_text())["environment"]["device"] == "cpu"


def test_device_needs_torch_and_an_existing_device(capsys):
    with pytest.raises(ValueError, match="device is only used by backend='torch'"):
        from polyak.verify.runner import run_claims

        run_claims([], backend="numpy", device="cpu")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            run_claims([], backend="torch", device="cuda")
