r"""Batched full-batch gradient descent for two-layer networks with a fixed second layer.

The network is f(x; W) = Σ_j a_j φ(⟨w_j, x⟩) with W ∈ R^{m×p} trained and a fixed, on the
empirical margin loss L̂(W) = (1/n) Σ_i ℓ(y_i f(x_i; W)). With g_i = −ℓ'(y_i f(x_i)), one GD step is

.. math::
    w_j \leftarrow w_j + \frac{α}{n} \sum_i g_i y_i a_j φ'(⟨w_j, x_i⟩) x_i .

**Row-span parametrization** (``parametrization="rowspan"``, the default). Every update is a
combination of the training inputs, so W⁽ᵗ⁾ = W⁽⁰⁾ + A⁽ᵗ⁾X exactly, with A ∈ R^{m×n}. With the Gram
matrix K = XXᵀ and P₀ = W⁽⁰⁾Xᵀ, the training preactivations are Z = P₀ + AK and the step above
becomes A ← A + (α/n) D with D_{ji} = g_i y_i a_j φ'(Z_{ji}): a step costs O(mn²), independent of p.
Test preactivations are W⁽⁰⁾x + A(Xx), ‖W‖_F² = ‖W⁽⁰⁾‖_F² + 2⟨P₀, A⟩ + tr(AKAᵀ), and projections
W v = W⁽⁰⁾v + A(Xv) (alignments with a cluster mean, say) need only inner products with v.

**Direct parametrization** (``parametrization="direct"``) keeps W ∈ R^{m×p}: the reference the
row-span path is tested against (same iterates to 1e-10 in float64), at O(mnp) a step.

Both run a batch of B independent problems (seeds, grid points of equal shape) as one tensor
program; each element may have its own step size and stopping tolerance.

Used in: Chapter 1 (Theorem 1 of Frei, Chatterji & Bartlett, COLT 2022), Chapter 2 (Theorem 1 of
Frei, Chatterji & Bartlett, JMLR 2023).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch

from ._validate import require_choice, require_finite_array, require_labels
from .activations import Activation
from .gd import History, _as_batch, run_gd
from .losses import Logistic, MarginLoss
from .rng import resolve_device, resolve_dtype, to_tensor

__all__ = ["TwoLayerRun", "train_two_layer"]

Metric = Callable[["TwoLayerRun"], torch.Tensor]


def _batched(name: str, x, ndim: int, B: int | None, dtype, device) -> torch.Tensor:
    """Tensor with a leading batch axis: accepts shape (...) or (B, ...)."""
    t = to_tensor(x, dtype, device)
    require_finite_array(name, t)
    if t.ndim == ndim - 1:
        t = t.unsqueeze(0)
    if t.ndim != ndim:
        raise ValueError(f"{name} must have {ndim - 1} or {ndim} dimensions (with a batch axis), "
                         f"got shape {tuple(t.shape)}")
    return t


def _broadcast(t: torch.Tensor, B: int, name: str) -> torch.Tensor:
    if t.shape[0] == B:
        return t
    if t.shape[0] == 1:
        return t.expand(B, *t.shape[1:])
    raise ValueError(f"{name} has batch size {t.shape[0]}, expected 1 or {B}")


class TwoLayerRun:
    """A batch of two-layer networks under GD; after :func:`train_two_layer`, the trained result.

    Attributes
    ----------
    X, y, W0, a : tensors
        Training inputs (B, n, p), labels (B, n), initial first layer (B, m, p),
        second layer (B, m).
    A : tensor (B, m, n)
        Row-span coefficients: W = W0 + A X (``parametrization="rowspan"``).
    W : tensor (B, m, p)
        The first layer itself (``parametrization="direct"``).
    history : History
        Diagnostics recorded along the run (see :func:`train_two_layer`).
    stop_step : ndarray (B,)
        The step at which each element stopped.
    t : int
        The current step (during training) or the last step run.
    Z, margins, g, loss : tensors
        At the current iterate: training preactivations (B, m, n), margins y_i f(x_i) (B, n),
        g_i = −ℓ'(margin_i) (B, n) and L̂ (B,).
    """

    def __init__(self, X, y, W0, a, activation: Activation, loss: MarginLoss, step: torch.Tensor,
                 parametrization: str, probes: Mapping[str, torch.Tensor],
                 metrics: Mapping[str, Metric]) -> None:
        self.X, self.y, self.W0, self.a = X, y, W0, a
        self.activation, self.loss_fn, self.parametrization = activation, loss, parametrization
        self.batch, self.n = y.shape
        self.m = a.shape[1]
        self.p = X.shape[2]
        self.dtype, self.device = X.dtype, X.device
        self.step = step
        self._metrics = dict(metrics)
        self.t = -1
        self.history: History | None = None
        self.stop_step: np.ndarray | None = None
        self._w0_sq_rows = torch.linalg.vector_norm(W0, dim=-1).square()  # (B, m), no temporary
        if parametrization == "rowspan":
            self.K = X @ X.transpose(1, 2)  # (B, n, n)
            self.P0 = W0 @ X.transpose(1, 2)  # (B, m, n)
            self.A = torch.zeros(self.batch, self.m, self.n, dtype=self.dtype, device=self.device)
        else:
            self.W = W0.clone()
        self._probes: dict[str, tuple] = {}
        for name, v in probes.items():
            self.add_probe(name, v)

    # ----------------------------------------------------------------- GD protocol
    def forward(self) -> torch.Tensor:
        self.t += 1
        if self.parametrization == "rowspan":
            self.Z = torch.baddbmm(self.P0, self.A, self.K)
        else:
            # (X Wᵀ)ᵀ rather than W Xᵀ: the batched GEMM runs faster in this orientation on the CPU
            self.Z = (self.X @ self.W.transpose(1, 2)).transpose(1, 2)
        phi, self._dphi = self.activation.value_and_deriv(self.Z)
        f = (self.a.unsqueeze(1) @ phi).squeeze(1)  # (B, n)
        self.outputs_train = f
        self.margins = self.y * f
        self.g = self.loss_fn.neg_deriv(self.margins)
        self.loss = self.loss_fn.value(self.margins).mean(1)
        return self.loss

    def update(self, active: torch.Tensor) -> None:
        coef = (self.step * active.to(self.dtype) / self.n).unsqueeze(1) * (self.g * self.y)
        D = self._dphi * self.a.unsqueeze(2) * coef.unsqueeze(1)  # (B, m, n)
        if self.parametrization == "rowspan":
            self.A.add_(D)
        else:
            self.W.baddbmm_(D, self.X)

    def record(self) -> dict[str, torch.Tensor]:
        g = self.g
        out = {
            "loss": self.loss,
            "G": g.mean(1),
            "g_ratio": g.max(1).values / g.min(1).values,
            "train_error": (self.margins <= 0).to(self.dtype).mean(1),
            "frobenius_norm": self.frobenius_norm(),
        }
        for name, fn in self._metrics.items():
            val = fn(self)
            if not isinstance(val, torch.Tensor) or val.shape[:1] != (self.batch,):
                raise ValueError(f"metric {name!r} must return a tensor with leading dimension "
                                 f"{self.batch}")
            out[name] = val
        return out

    # ----------------------------------------------------------------- queries
    def add_probe(self, name: str, v) -> None:
        """Register probe vectors v ((p,), (p, k), (B, p) or (B, p, k)) for :meth:`project`."""
        v = to_tensor(v, self.dtype, self.device)
        if v.ndim == 1:
            v = v[None, :, None]
        elif v.ndim == 2:
            v = v.unsqueeze(0) if v.shape[0] == self.p else v.unsqueeze(2)
        if v.ndim != 3 or v.shape[1] != self.p:
            raise ValueError(f"probe {name!r} must have p = {self.p} rows, got {tuple(v.shape)}")
        v = _broadcast(v, self.batch, f"probe {name!r}")
        if self.parametrization == "rowspan":
            self._probes[name] = (self.W0 @ v, self.X @ v)
        else:
            self._probes[name] = (v,)

    def project(self, name: str) -> torch.Tensor:
        """W v for the registered probe ``name``: shape (B, m, k)."""
        if name not in self._probes:
            known = sorted(self._probes)
            raise ValueError(f"name must be a registered probe {known}, got {name!r}")
        if self.parametrization == "rowspan":
            w0v, xv = self._probes[name]
            return torch.baddbmm(w0v, self.A, xv)
        (v,) = self._probes[name]
        return self.W @ v

    def row_norms(self) -> torch.Tensor:
        """‖w_j‖ for every neuron: shape (B, m)."""
        if self.parametrization == "rowspan":
            AK = self.A @ self.K
            sq = self._w0_sq_rows + 2 * (self.P0 * self.A).sum(-1) + (AK * self.A).sum(-1)
            return sq.clamp_min(0).sqrt()
        return self.W.norm(dim=-1)

    def frobenius_norm(self) -> torch.Tensor:
        """‖W‖_F: shape (B,)."""
        return self.row_norms().pow(2).sum(-1).sqrt()

    def weights(self) -> torch.Tensor:
        """The first layer W, shape (B, m, p) (formed explicitly: O(mnp))."""
        if self.parametrization == "rowspan":
            return torch.baddbmm(self.W0, self.A, self.X)
        return self.W

    def preactivations(self, X_new) -> torch.Tensor:
        """⟨w_j, x⟩ for new inputs ``X_new`` of shape (k, p) or (B, k, p): shape (B, m, k)."""
        Xn = _broadcast(_batched("X_new", X_new, 3, None, self.dtype, self.device), self.batch,
                        "X_new")
        if Xn.shape[2] != self.p:
            raise ValueError(f"X_new must have p = {self.p} columns, got {Xn.shape[2]}")
        XnT = Xn.transpose(1, 2)
        if self.parametrization == "rowspan":
            return torch.baddbmm(self.W0 @ XnT, self.A, self.X @ XnT)
        return self.W @ XnT

    def outputs(self, X_new) -> torch.Tensor:
        """f(x; W) for new inputs: shape (B, k)."""
        return (self.a.unsqueeze(1) @ self.activation.value(self.preactivations(X_new))).squeeze(1)


def train_two_layer(
    X,
    y,
    W0,
    a,
    *,
    activation: Activation,
    step,
    max_steps: int,
    loss: MarginLoss | None = None,
    tol=None,
    record=None,
    metrics: Mapping[str, Metric] | None = None,
    probes: Mapping[str, object] | None = None,
    parametrization: str = "rowspan",
    dtype: str | torch.dtype = "float64",
    device: str | torch.device = "cpu",
    check_every: int | None = None,
    explode: float = 1e4,
    progress: bool | None = None,
) -> TwoLayerRun:
    """Train a batch of two-layer networks (second layer fixed) by full-batch GD.

    Parameters
    ----------
    X : array (B, n, p) or (n, p)
        Training inputs (shared by the batch if 2-D).
    y : array (B, n) or (n,)
        Labels in {−1, +1}.
    W0 : array (B, m, p) or (m, p)
        Initial first layer.
    a : array (B, m) or (m,)
        Fixed second layer.
    activation : Activation
        e.g. :class:`~overparam.activations.SmoothedLeakyReLU`.
    step : float or array (B,)
        Step size α > 0 (one per batch element if an array).
    max_steps : int
        At most this many GD steps.
    loss : MarginLoss, default :class:`~overparam.losses.Logistic`
    tol : float or array (B,), optional
        Stop element b at the first t with L̂(W⁽ᵗ⁾) < tol_b (its iterate is then frozen).
    record : None, int, "log" or sequence of int
        When to record the history (see :func:`overparam.gd.record_steps`).
    metrics : mapping name -> callable(run) -> tensor (B, ...), optional
        Extra diagnostics, evaluated on the run at each recorded step (use ``run.project``,
        ``run.row_norms``, ``run.margins``, ``run.g``, ...).
    probes : mapping name -> array (p,), (p, k), (B, p) or (B, p, k), optional
        Vectors v for which ``run.project(name)`` returns W⁽ᵗ⁾v cheaply.
    parametrization : "rowspan" or "direct"
    dtype : "float64" (default) or "float32"
    device : "cpu", "cuda" or "auto"

    Returns
    -------
    TwoLayerRun
        With ``history`` holding, at each recorded step, ``loss`` (L̂), ``G`` (Ĝ, the mean of g_i),
        ``g_ratio`` (max_i g_i / min_i g_i), ``train_error``, ``frobenius_norm`` and the metrics.

    Raises
    ------
    ValueError
        On shapes, labels, non-finite inputs or out-of-range parameters.
    DivergenceError
        If the loss becomes non-finite or explodes (the message names the step size).
    """
    require_choice("parametrization", parametrization, ["rowspan", "direct"])
    if not isinstance(activation, Activation):
        raise ValueError(f"activation must be an overparam Activation, got {activation!r}")
    loss = Logistic() if loss is None else loss
    if not isinstance(loss, MarginLoss):
        raise ValueError(f"loss must be an overparam MarginLoss, got {loss!r}")
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    Xt = _batched("X", X, 3, None, dt, dev)
    yt = _batched("y", y, 2, None, dt, dev)
    Wt = _batched("W0", W0, 3, None, dt, dev)
    at = _batched("a", a, 2, None, dt, dev)
    B = max(Xt.shape[0], yt.shape[0], Wt.shape[0], at.shape[0])
    Xt, yt, Wt, at = (_broadcast(t, B, nm) for t, nm in
                      ((Xt, "X"), (yt, "y"), (Wt, "W0"), (at, "a")))
    n, p = Xt.shape[1:]
    m = Wt.shape[1]
    if n < 1 or p < 1 or m < 1:
        raise ValueError(f"need n >= 1 samples, p >= 1 features and width m >= 1, got {n, p, m}")
    if yt.shape[1] != n:
        raise ValueError(f"y must have n = {n} labels per batch element, got {yt.shape[1]}")
    if Wt.shape[2] != p:
        raise ValueError(f"W0 must have p = {p} columns, got {Wt.shape[2]}")
    if at.shape[1] != m:
        raise ValueError(f"a must have m = {m} entries (one per row of W0), got {at.shape[1]}")
    require_labels("y", yt)
    step_t = _as_batch("step", step, B, dt, dev, positive=True)
    run = TwoLayerRun(Xt.contiguous() if parametrization == "direct" else Xt, yt, Wt, at,
                      activation, loss, step_t, parametrization, dict(probes or {}),
                      dict(metrics or {}))
    history, stop = run_gd(run, step_desc=step_t.tolist(), max_steps=max_steps, tol=tol,
                           record=record, check_every=check_every, explode=explode,
                           progress_desc=f"GD ({parametrization}, B={B})",
                           show_progress=progress)
    run.history, run.stop_step = history, stop
    return run
