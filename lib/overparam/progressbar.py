"""Progress bars that stay quiet where nobody watches them.

Long sweeps show a ``tqdm.auto`` bar in Jupyter and in a terminal; the bar is disabled when
``OVERPARAM_QUIET`` is set (``make test`` sets it), when ``CI`` is set, and in the book build
(the Sphinx extension sets ``OVERPARAM_STATIC_BUILD``), so neither CI logs nor the HTML book
carry progress output.

Used in: the GD engine and every chapter's sweeps.
"""

from __future__ import annotations

import os

from tqdm.auto import tqdm

__all__ = ["quiet", "progress"]

_TRUE = {"1", "true", "yes", "on"}


def quiet() -> bool:
    """True when progress output should be suppressed (CI, tests, the book build)."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE
        for var in ("OVERPARAM_QUIET", "CI", "OVERPARAM_STATIC_BUILD")
    )


def progress(iterable=None, *, total: int | None = None, desc: str | None = None,
             enable: bool | None = None, **kwargs):
    """A ``tqdm.auto`` bar, disabled when :func:`quiet` (or ``enable=False``)."""
    disable = quiet() if enable is None else not enable
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=False, **kwargs)
