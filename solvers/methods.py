"""Import every method family so that each registers itself (one family per file)."""

from . import gd, heavy_ball, nesterov, schedule_free, sgdm, spa, triple_momentum  # noqa: F401

# The papers' methods (Demon, adaptive heavy ball, Adaptive Memory, Adam) register from their
# own files when present.
import importlib as _importlib

for _mod in ("demon", "adaptive_hb", "adaptive_memory", "adam"):
    try:
        _importlib.import_module(f"{__package__}.{_mod}")
    except ModuleNotFoundError as _exc:  # file not written yet
        if _exc.name != f"{__package__}.{_mod}":
            raise
