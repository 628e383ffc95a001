"""Argument checks shared by the library: each raises ``ValueError`` naming the argument and the
allowed range, so bad input never turns into a silent NaN or a wrong shape."""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

__all__ = [
    "require_int",
    "require_real",
    "require_finite_array",
    "require_shape",
    "require_choice",
    "require_labels",
]


def require_int(name: str, value, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` after checking ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, Integral | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValueError(f"{name} must satisfy {_range(low, high, True, True)}, got {v}")
    return v


def require_real(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` inside the given (open or closed) interval."""
    if isinstance(value, bool) or not isinstance(value, Real | np.floating | np.integer):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    bad = (
        (low is not None and (v < low or (low_open and v == low)))
        or (high is not None and (v > high or (high_open and v == high)))
    )
    if bad:
        raise ValueError(
            f"{name} must satisfy {_range(low, high, not low_open, not high_open)}, got {v}"
        )
    return v


def _range(low, high, low_closed: bool, high_closed: bool) -> str:
    lo = "" if low is None else f"{low} {'<=' if low_closed else '<'} "
    hi = "" if high is None else f" {'<=' if high_closed else '<'} {high}"
    return f"{lo}value{hi}"


def require_finite_array(name: str, value) -> None:
    """Raise if an array (numpy or torch) holds NaN or infinity."""
    arr = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (it contains NaN or infinity)")


def require_shape(name: str, value, shape: Sequence[int | None]) -> None:
    """Check ``value.shape`` against ``shape`` (``None`` matches any size)."""
    got = tuple(value.shape)
    mismatch = any(s is not None and s != g for s, g in zip(shape, got, strict=False))
    if len(got) != len(shape) or mismatch:
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name} must have shape {want}, got {got}")


def require_choice(name: str, value, choices: Sequence) -> None:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


def require_labels(name: str, y) -> None:
    """Check that every entry of ``y`` is +1 or -1."""
    arr = y.detach().cpu().numpy() if hasattr(y, "detach") else np.asarray(y)
    if not np.all((arr == 1) | (arr == -1)):
        raise ValueError(f"{name} must contain only labels +1 and -1")
