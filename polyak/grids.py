"""``polyak.grid``: an outer grid over named hyperparameter axes.

Broadcasting, precisely: ``make_method`` takes each hyperparameter as a number, an array or a
:class:`~polyak.solvers.schedules.Schedule`; the arrays are broadcast together with numpy's rules
(shapes aligned on their trailing axes; each axis must have equal lengths or length 1), and
``simulate`` runs every point of the broadcast shape, the ``grid`` axes of the recorded arrays
``(records, problems, *grid, seeds)``. So ``alpha`` of 3 values with ``beta`` of 3 values pairs
them (3 runs), while 3 with 2 does not broadcast. ``grid(alpha=[...], beta=[...])`` gives each
keyword its own axis, in the order given, so any lengths combine into the outer product.
"""

from __future__ import annotations

from typing import Any


def grid(**axes: Any) -> dict[str, Any]:
    """Outer grid over named axes: ``grid(alpha=[a1, a2, a3], beta=[b1, b2])`` returns
    ``{"alpha": array of shape (3, 1), "beta": array of shape (1, 2)}``, broadcast-ready for
    ``make_method(name, **grid(...))``; the trajectory's grid axes are then ``(alpha=3, beta=2)``.

    Each value is a number or a 1-D sequence of numbers (a number is an axis of length 1).
    Anything else raises ValueError naming the axis.

    >>> import polyak
    >>> g = polyak.grid(alpha=[0.01, 0.02, 0.03], beta=[0.5, 0.9])
    >>> {k: v.shape for k, v in g.items()}
    {'alpha': (3, 1), 'beta': (1, 2)}
    >>> m = polyak.make_method("hb", **g)
    >>> traj = polyak.simulate(m, polyak.make_problem("quadratic", mu=1, L=10, dim=4), steps=20)
    >>> traj.axis_names(), traj.dist.shape
    (('records', 'problems', 'alpha', 'beta', 'seeds'), (21, 1, 3, 2, 1))
    """
    import numpy as np

    if not axes:
        raise ValueError("grid needs at least one named axis, e.g. grid(alpha=[0.1, 0.2])")
    n = len(axes)
    out: dict[str, Any] = {}
    for i, (name, values) in enumerate(axes.items()):
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"grid axis {name} must be a number or a 1-D list of numbers; got {values!r}") from None
        if arr.ndim > 1:
            raise ValueError(f"grid axis {name} must be a number or a 1-D list of numbers; got shape {arr.shape}")
        if arr.size == 0:
            raise ValueError(f"grid axis {name} is empty")
        arr = arr.reshape(-1)
        shape = [1] * n
        shape[i] = arr.size
        out[name] = arr.reshape(shape)
    return out
