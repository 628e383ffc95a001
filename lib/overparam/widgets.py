"""The widget pattern: one plotting function, a static twin in the HTML book, live controls in
Jupyter.

A chapter writes *one* function ``plot(**params) -> Figure``. :func:`explore` then

* in the book build (static HTML, where widgets cannot call Python) draws the figure once at the
  controls' default values and shows a note on how to run it live;
* in a live kernel (Jupyter, Binder, Colab, and ``nbval``) shows the controls and redraws the
  figure whenever a control changes (on release, ``continuous_update=False``).

The HTML book therefore never carries dead sliders nor the widget JavaScript that would be
fetched from a CDN.

Used in: every ``explore.ipynb``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

import matplotlib.pyplot as plt

__all__ = [
    "STATIC_ENV",
    "is_static_build",
    "defaults",
    "explore",
    "float_slider",
    "log_slider",
    "int_slider",
    "choice",
    "StaticControl",
    "time_update",
    "LIVE_NOTE",
]

#: Set by the book's Sphinx extension for the kernels that execute notebooks during the build.
STATIC_ENV = "OVERPARAM_STATIC_BUILD"

LIVE_NOTE = (
    "<div class='admonition note overparam-live-note'>"
    "<p class='admonition-title'>Run this figure live</p>"
    "<p>In the HTML book this figure is drawn once, at the default values of its controls "
    "({params}). To move the sliders, run the page live: the rocket icon at the top of the page "
    "opens it on <b>Binder</b> (everything preinstalled) or <b>Colab</b> (the first cell installs "
    "the library); locally, run <code>make lab</code> in the repository and open this notebook.</p>"
    "</div>"
)


def is_static_build() -> bool:
    """True inside the book build, where outputs become static HTML."""
    return os.environ.get(STATIC_ENV, "").strip() not in ("", "0")


class StaticControl:
    """What a control is in the book build: its default value, and no widget.

    Creating a real ipywidget while the book executes would store widget state in the notebook,
    and the HTML page would then fetch the widget JavaScript from a CDN for sliders that cannot
    work there anyway.
    """

    def __init__(self, value, description: str) -> None:
        self.value = value
        self.description = description

    def __repr__(self) -> str:
        return f"StaticControl({self.description}={self.value!r})"


def _slider_kw(description: str) -> dict:
    return {
        "description": description,
        "continuous_update": False,
        "style": {"description_width": "initial"},
        "layout": {"width": "320px"},
    }


def float_slider(value: float, low: float, high: float, step: float, description: str):
    """A float slider that updates on release."""
    if is_static_build():
        return StaticControl(value, description)
    import ipywidgets as w

    return w.FloatSlider(value=value, min=low, max=high, step=step, readout_format=".3g",
                         **_slider_kw(description))


def log_slider(value: float, low_exp: float, high_exp: float, step: float, description: str,
               base: float = 10.0):
    """A slider on a log scale: values ``base**low_exp`` to ``base**high_exp``."""
    if is_static_build():
        return StaticControl(value, description)
    import ipywidgets as w

    return w.FloatLogSlider(value=value, base=base, min=low_exp, max=high_exp, step=step,
                            readout_format=".3g", **_slider_kw(description))


def int_slider(value: int, low: int, high: int, step: int, description: str):
    """An integer slider that updates on release."""
    if is_static_build():
        return StaticControl(value, description)
    import ipywidgets as w

    return w.IntSlider(value=value, min=low, max=high, step=step, **_slider_kw(description))


def choice(value, options, description: str):
    """A drop-down menu."""
    if is_static_build():
        return StaticControl(value, description)
    import ipywidgets as w

    return w.Dropdown(value=value, options=options, description=description,
                      style={"description_width": "initial"})


def defaults(controls: Mapping[str, object]) -> dict:
    """The current value of each control: the parameters of the static figure."""
    return {name: ctl.value for name, ctl in controls.items()}


def _show(fig) -> None:
    from IPython.display import display

    display(fig)
    plt.close(fig)


def explore(plot: Callable[..., object], controls: Mapping[str, object], *,
            fixed: Mapping[str, object] | None = None, columns: int = 2):
    """Show ``plot`` with live controls, or its static twin plus a note in the book build.

    Parameters
    ----------
    plot : callable
        ``plot(**params)`` returns a matplotlib ``Figure``; params are the control names plus
        ``fixed``.
    controls : mapping
        Control name to ipywidget (see :func:`float_slider`, :func:`log_slider`, ...).
    fixed : mapping, optional
        Parameters passed to ``plot`` but not exposed as controls.
    columns : int
        Number of control columns in the live layout.

    Returns
    -------
    None: the figure (and, live, the controls) are displayed here; returning them would make a
    notebook cell that ends with this call render the figure a second time.
    """
    from IPython.display import HTML, display

    fixed = dict(fixed or {})
    if not controls:
        raise ValueError("controls must name at least one widget")
    if is_static_build():
        params = defaults(controls)
        fig = plot(**params, **fixed)
        _show(fig)
        shown = ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                          for k, v in params.items())
        display(HTML(LIVE_NOTE.format(params=shown)))
        return None

    import ipywidgets as w

    def draw(**params):
        _show(plot(**params, **fixed))

    out = w.interactive_output(draw, dict(controls))
    items = list(controls.values())
    rows = [w.HBox(items[i:i + columns]) for i in range(0, len(items), columns)]
    box = w.VBox([*rows, out])
    display(box)
    return None


def time_update(plot: Callable[..., object], params: Mapping[str, object],
                repeats: int = 3) -> float:
    """Median wall time (s) of one redraw at ``params``: what a widget update costs."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fig = plot(**params)
        fig.canvas.draw()
        plt.close(fig)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]
