"""The book's figure style and small plotting helpers.

One style for every figure: readable fonts, the Okabe–Ito colour-blind-safe palette (with
distinct markers so curves stay apart in greyscale), no titles (the book's captions say what a
figure shows), and labelled axes whose labels name units or scales. Pure compute functions live in
the chapter modules; these helpers only draw.

Used in: every chapter's figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

__all__ = [
    "PALETTE",
    "MARKERS",
    "use_book_style",
    "figure",
    "label",
    "require_labels",
    "color",
    "shade_band",
]

#: Okabe & Ito (2008), colour-blind safe; black last.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]

BOOK_STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "figure.figsize": (6.4, 4.0),
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.labelsize": 11,
    "axes.titlesize": 11,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "lines.markersize": 5,
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "image.cmap": "cividis",
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (idempotent)."""
    mpl.rcParams.update(BOOK_STYLE)


def color(i: int) -> str:
    """The i-th palette colour (cycling)."""
    return PALETTE[i % len(PALETTE)]


def figure(ncols: int = 1, nrows: int = 1, *, width: float | None = None,
           height: float | None = None, **kwargs):
    """A figure with an ``nrows`` x ``ncols`` grid of axes in the book style.

    Returns ``(fig, axes)`` where ``axes`` is a flat array (a single ``Axes`` if 1 x 1).
    """
    use_book_style()
    width = width or min(3.6 * ncols + 0.6, 11.0)
    height = height or 3.2 * nrows + 0.3
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, **kwargs)
    flat = axes.ravel()
    return fig, (flat[0] if flat.size == 1 else flat)


def label(ax, x: str, y: str, *, xscale: str | None = None, yscale: str | None = None,
          legend: bool | None = None) -> None:
    """Label both axes (with units or scale in the text) and optionally set log scales."""
    if not x or not y:
        raise ValueError("x and y labels must be non-empty: every axis says what it measures")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if xscale:
        ax.set_xscale(xscale)
    if yscale:
        ax.set_yscale(yscale)
    handles, _ = ax.get_legend_handles_labels()
    if legend or (legend is None and handles):
        ax.legend()


def require_labels(fig) -> None:
    """Raise ``ValueError`` if a visible axes of ``fig`` lacks an x or y label."""
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible() or not ax.axison or ax.get_label() == "<colorbar>":
            continue
        if not ax.get_xlabel() or not ax.get_ylabel():
            raise ValueError(f"axes {i} of the figure lacks an axis label")


def shade_band(ax, x: Sequence[float], lo: Sequence[float], hi: Sequence[float], i: int = 0,
               alpha: float = 0.2, **kwargs) -> None:
    """Shade the band between ``lo`` and ``hi`` in palette colour ``i``."""
    ax.fill_between(np.asarray(x), np.asarray(lo), np.asarray(hi), color=color(i), alpha=alpha,
                    lw=0, **kwargs)
