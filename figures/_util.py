"""Small helpers shared by the recipes (numbers and drawing; no library calls)."""

from __future__ import annotations

import numpy as np

#: colours of the classic methods, used consistently across figures (Okabe-Ito)
COLORS = {"gd": "#0072B2", "hb": "#D55E00", "nesterov": "#009E73", "spa": "#CC79A7", "adaptive-hb": "#E69F00",
          "am": "#56B4E9", "demon": "#CC79A7", "theory": "#000000"}
LABELS = {"gd": "gradient descent", "hb": "heavy ball", "nesterov": "Nesterov"}


def relative(err: np.ndarray) -> np.ndarray:
    """err_k / err_0 along axis 0 (records first)."""
    err = np.asarray(err, dtype=float)
    return err / err[:1]


def first_below(err: np.ndarray, k: np.ndarray, tol: float) -> np.ndarray:
    """Smallest recorded k with err_k <= tol (along axis 0); inf where never (diverged or too slow)."""
    err = np.asarray(err, dtype=float)
    hit = np.isfinite(err) & (err <= tol)
    idx = np.argmax(hit, axis=0)
    out = np.asarray(k, dtype=float)[idx]
    return np.where(hit.any(axis=0), out, np.inf)


def note(ax, text: str, loc: str = "lower left") -> None:
    """A small boxed note inside the axes."""
    pos = {"lower left": (0.02, 0.03, "left", "bottom"), "upper right": (0.98, 0.97, "right", "top"),
           "upper left": (0.02, 0.97, "left", "top"), "lower right": (0.98, 0.03, "right", "bottom")}[loc]
    ax.text(pos[0], pos[1], text, transform=ax.transAxes, ha=pos[2], va=pos[3], fontsize=8,
            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="#cccccc", alpha=0.9))
