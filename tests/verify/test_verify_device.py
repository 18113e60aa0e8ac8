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


def test_full_suite_claims_take_their_large_batch_only_on_a_cuda_device(monkeypatch):
    import polyak.solvers.backend as backend_mod
    from polyak.papers._common import scaled

    assert scaled(64, 16384, "numpy") == 64
    with pytest.raises(ValueError, match="cpu <= gpu"):
        scaled(64, 8, "numpy")

    class FakeCuda:
        device = "cuda:0"

    monkeypatch.setattr(backend_mod, "get_backend", lambda name, **kw: FakeCuda())
    assert scaled(64, 16384, "torch") == 16384
    assert scaled(64, 16384, "numpy") == 64
    FakeCuda.device = "cpu"
    assert scaled(64, 16384, "torch") == 64


@pytest.mark.torch
def test_torch_cpu_runs_the_cpu_batch_of_a_large_claim():
    pytest.importorskip("torch")
    from polyak.papers.polyak1964 import _hb_optimal_rate
    from polyak.papers._common import scaled

    with default_device("cpu"):
        n = scaled(3, 16384, "torch")
        m = _hb_optimal_rate(0, "torch", L=100.0, instances=n)
    assert n == 3 and m.details["instances"] == 3 and len(m.value) == 3
