"""Start-up of a local worker process (``polyak.verify.runner.local_executor``).

Kept free of numpy and torch imports: the thread limits below must be in the environment before
the worker first imports them (OpenBLAS and torch read them once, at import).
"""

from __future__ import annotations

import os
import sys

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def init(threads: int) -> None:
    """Limit this worker's BLAS/OpenMP/torch threads to ``threads`` (a variable the user set wins)."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(threads))
    if "numpy" in sys.modules:  # preloaded by the fork server: OpenBLAS has read its variables already
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            pass
        else:
            threadpool_limits(threads)
    if "torch" in sys.modules:  # pragma: no cover - only when a start method preloaded torch
        sys.modules["torch"].set_num_threads(threads)
