"""Seeding, device and dtype helpers.

Every random draw in the book comes from an explicit integer seed through :func:`numpy_rng`
(NumPy's PCG64). Batched runs draw each batch element from its own seed, so a run's result does
not depend on which other seeds it was batched with, nor on the device: data are drawn on the
CPU and then moved.

Used in: every chapter.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import torch

from ._validate import require_choice, require_int

__all__ = ["numpy_rng", "as_seeds", "resolve_device", "resolve_dtype", "to_tensor", "set_threads"]


def numpy_rng(seed: int) -> np.random.Generator:
    """The generator for ``seed``: ``numpy.random.default_rng(seed)`` (PCG64).

    Parameters
    ----------
    seed : int
        A non-negative integer.
    """
    return np.random.default_rng(require_int("seed", seed, low=0))


def as_seeds(seeds: int | Iterable[int]) -> list[int]:
    """Normalise ``seeds`` (one integer or an iterable of integers) to a non-empty list."""
    if isinstance(seeds, int | np.integer):
        return [require_int("seed", seeds, low=0)]
    out = [require_int("seeds[i]", s, low=0) for s in seeds]
    if not out:
        raise ValueError("seeds must hold at least one seed")
    return out


def resolve_device(device: str | torch.device | None = "cpu") -> torch.device:
    """Return a ``torch.device``.

    ``"auto"`` picks CUDA when available, else the CPU. Asking for ``"cuda"`` on a machine without
    a GPU raises a ``ValueError``.
    """
    if device is None:
        device = "cpu"
    if isinstance(device, torch.device):
        device = str(device)
    kind = device.split(":")[0]
    require_choice("device", kind, ["cpu", "cuda", "auto"])
    if kind == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was asked for but no CUDA GPU is available; use 'cpu'")
    return torch.device(device)


def resolve_dtype(dtype: str | torch.dtype = "float64") -> torch.dtype:
    """``"float32"``/``"float64"`` (or the torch dtypes) to a ``torch.dtype``."""
    table = {"float32": torch.float32, "float64": torch.float64}
    if isinstance(dtype, torch.dtype):
        if dtype not in table.values():
            raise ValueError(f"dtype must be float32 or float64, got {dtype}")
        return dtype
    require_choice("dtype", dtype, list(table))
    return table[dtype]


def to_tensor(x, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """Convert an array-like to a tensor of the given dtype and device (no copy if equal)."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def set_threads(n: int | None = None) -> int:
    """Limit torch's intra-op threads *and* the BLAS/OpenMP pools NumPy and SciPy use to ``n``.

    The book's problems are many small matrix products; with two threads on two cores, threads
    that spin-wait for each other made them 5–15× slower as soon as anything else ran on the
    machine (measured while the chapters were written), while one thread is at most ~1.6× slower
    on an idle machine. Every notebook therefore calls ``set_threads(1)``. Default ``n``:
    ``OVERPARAM_THREADS`` or the CPU count. The BLAS limit uses ``threadpoolctl`` when installed.
    """
    if n is None:
        n = int(os.environ.get("OVERPARAM_THREADS", os.cpu_count() or 1))
    n = require_int("n", n, low=1)
    torch.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is in requirements.txt
        return n
    global _BLAS_LIMIT
    _BLAS_LIMIT = threadpool_limits(limits=n)
    return n


_BLAS_LIMIT = None
