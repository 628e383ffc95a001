"""The full-batch gradient-descent driver shared by the engines.

A model (see :mod:`overparam.two_layer_gd` and :mod:`overparam.deep_linear_gd`) exposes three
methods on a *batch* of B independent problems:

``forward()``
    compute everything at the current iterate and return the training loss, shape (B,);
``update(active)``
    take one GD step for the batch elements where ``active`` is True (the others stay frozen);
``record()``
    return a dict of per-element diagnostics at the current iterate (tensors of shape (B, ...)).

:func:`run_gd` runs the loop: per-element early stopping at ``loss < tol`` (an element that has
stopped keeps its iterate, so a batch of seeds gives exactly the runs one would get one at a time),
histories at chosen steps, divergence detection (a non-finite or exploding loss raises
:class:`DivergenceError` naming the step size), and a progress bar that stays quiet in CI and in
the book build. Synchronisation with the device happens every ``check_every`` steps only.

Used in: Chapters 1, 2 and 4 (every network the book trains).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validate import require_int, require_real
from .progressbar import progress

__all__ = ["DivergenceError", "History", "record_steps", "run_gd"]


class DivergenceError(RuntimeError):
    """Gradient descent diverged (non-finite or exploding loss); the message names the step size."""


@dataclass
class History:
    """Diagnostics recorded along a run.

    Attributes
    ----------
    steps : ndarray, shape (R,)
        The GD steps t at which the values were recorded (W⁽ᵗ⁾, before the t-th update).
    values : dict of ndarray, each of shape (R, B, ...)
        One array per diagnostic.
    """

    steps: np.ndarray
    values: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        return name in self.values

    def keys(self):
        return self.values.keys()

    def at(self, t: int) -> dict[str, np.ndarray]:
        """All diagnostics recorded at step ``t``."""
        idx = np.flatnonzero(self.steps == t)
        if idx.size == 0:
            raise ValueError(f"t must be one of the recorded steps {self.steps.tolist()}, got {t}")
        return {k: v[idx[0]] for k, v in self.values.items()}


def record_steps(record, max_steps: int) -> np.ndarray:
    """The sorted steps at which a run records its diagnostics.

    Parameters
    ----------
    record : None, int, "log", or sequence of int
        ``None``: only the first and last step; an int k: every k steps; ``"log"``: about 60
        geometrically spaced steps; a sequence: exactly those steps (within ``[0, max_steps]``).
    max_steps : int
        The step budget. The final step of the run is always recorded as well.
    """
    max_steps = require_int("max_steps", max_steps, low=0)
    if record is None:
        steps = [0]
    elif isinstance(record, str):
        if record != "log":
            raise ValueError(f"record must be None, an int, 'log' or a sequence, got {record!r}")
        steps = np.unique(np.round(np.geomspace(1, max(max_steps, 1), 60))).astype(int).tolist()
        steps = [0, *steps]
    elif isinstance(record, int | np.integer):
        k = require_int("record", record, low=1)
        steps = list(range(0, max_steps + 1, k))
    else:
        steps = [require_int("record[i]", s, low=0, high=max_steps) for s in record]
    return np.unique(np.asarray([*steps, max_steps], dtype=int))


def _as_batch(name: str, value, B: int, dtype, device, *, positive: bool) -> torch.Tensor:
    arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(B, float(arr))
    if arr.shape != (B,):
        raise ValueError(f"{name} must be a number or have shape ({B},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or (positive and np.any(arr <= 0)):
        raise ValueError(f"{name} must be finite and > 0, got {arr.tolist()}")
    return torch.as_tensor(arr, dtype=dtype, device=device)


def run_gd(
    model,
    *,
    step_desc: Sequence[float],
    max_steps: int,
    tol=None,
    record=None,
    check_every: int | None = None,
    explode: float = 1e4,
    progress_desc: str = "gradient descent",
    show_progress: bool | None = None,
) -> tuple[History, np.ndarray]:
    """Run full-batch GD on ``model`` (see the module docstring for the protocol).

    Parameters
    ----------
    model : object
        Has ``forward()``, ``update(active)``, ``record()``, and attributes ``batch``, ``dtype``,
        ``device``.
    step_desc : sequence of float
        The step size of each batch element, used in error messages.
    max_steps : int
        At most this many updates.
    tol : float or array of shape (B,), optional
        Element b stops at the first t with loss_b(W⁽ᵗ⁾) < tol_b.
    record : see :func:`record_steps`.
    check_every : int, optional
        Check for divergence and "all stopped" every this many steps (default 1 on the CPU,
        32 on a GPU, where each check synchronises the device).
    explode : float
        The loss is said to explode when it exceeds ``explode * (loss_0 + 1)``.

    Returns
    -------
    history : History
    stop_step : ndarray of int, shape (B,)
        The step at which each element stopped (``max_steps`` if it never reached ``tol``).
    """
    B = model.batch
    max_steps = require_int("max_steps", max_steps, low=0)
    explode = require_real("explode", explode, low=1.0)
    if check_every is None:
        check_every = 1 if model.device.type == "cpu" else 32
    check_every = require_int("check_every", check_every, low=1)
    tol_t = None if tol is None else _as_batch("tol", tol, B, model.dtype, model.device,
                                                positive=True)
    steps = record_steps(record, max_steps)
    want = set(steps.tolist())
    done = torch.zeros(B, dtype=torch.bool, device=model.device)
    stop = torch.full((B,), max_steps, dtype=torch.long, device=model.device)
    rec_steps: list[int] = []
    # preallocated (one row per recorded step): appending small per-step tensors to a list
    # interleaves long-lived tiny allocations with each step's large temporaries, and the C heap
    # then fragments (RSS grew by ~1.5 MB per recorded step in a 21-network batch)
    buffers: dict[str, torch.Tensor] = {}
    loss0 = None
    bar = progress(total=max_steps, desc=progress_desc, enable=show_progress)
    t = 0
    try:
        while True:
            loss = model.forward()
            if loss0 is None:
                loss0 = loss.detach().clone()
                _check_finite(loss, 0, step_desc)
            if tol_t is not None:
                newly = (~done) & (loss < tol_t)
                stop = torch.where(newly, torch.full_like(stop, t), stop)
                done = done | newly
            last = t == max_steps
            checking = last or t % check_every == 0
            if checking:
                _check_finite(loss, t, step_desc)
                blown = torch.nonzero(loss > explode * (loss0 + 1)).flatten().tolist()
                if blown:
                    b = blown[0]
                    raise DivergenceError(
                        f"gradient descent diverged at step {t}: the loss of batch element {b} "
                        f"exploded to {float(loss[b]):.3g} from {float(loss0[b]):.3g} with step "
                        f"size {step_desc[b]:.3g}; use a smaller step size"
                    )
                all_done = bool(done.all()) if tol_t is not None else False
            else:
                all_done = False
            if t in want or last or all_done:
                vals = model.record()
                if not buffers:
                    buffers = {k: torch.empty((len(steps) + 1, *v.shape), dtype=v.dtype)
                               for k, v in vals.items()}
                for k, v in vals.items():
                    buffers[k][len(rec_steps)] = v.detach()
                rec_steps.append(t)
            if last or all_done:
                break
            model.update(~done)
            t += 1
            if t % 64 == 0:
                bar.update(64)
    finally:
        bar.close()
    history = History(
        steps=np.asarray(rec_steps, dtype=int),
        values={k: v[:len(rec_steps)].numpy() for k, v in buffers.items()},
    )
    return history, stop.cpu().numpy()


def _check_finite(loss: torch.Tensor, t: int, step_desc: Sequence[float]) -> None:
    bad = torch.nonzero(~torch.isfinite(loss)).flatten().tolist()
    if bad:
        b = bad[0]
        raise DivergenceError(
            f"gradient descent diverged at step {t}: the loss of batch element {b} is not finite "
            f"with step size {step_desc[b]:.3g}; use a smaller step size"
        )
