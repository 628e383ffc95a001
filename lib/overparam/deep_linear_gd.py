r"""Batched gradient descent for deep linear networks with squared loss.

The network maps x ∈ R^d to xΘ with Θ = (W_L ⋯ W_2 W_1)ᵀ ∈ R^{d×q}, W_1 ∈ R^{m×d},
W_2..W_{L−1} ∈ R^{m×m}, W_L ∈ R^{q×m}; the loss is ℒ(Θ) = ‖Y − XΘ‖²_F (no 1/2, no 1/n), as in
Chatterji & Long (JMLR 2023). Gradient flow is approximated by GD with a small step η.

With U_1 = W_1Xᵀ, U_k = W_k U_{k−1} and the residual R = U_L − Yᵀ (q×n), back-propagation gives
G_L = 2R, G_{k} = W_{k+1}ᵀ G_{k+1}, ∂ℒ/∂W_k = G_k U_{k−1}ᵀ (k ≥ 2) and ∂ℒ/∂W_1 = G_1 X.

**Row-span parametrization** (default): ∂ℒ/∂W_1 is a combination of the rows of X, so
W_1⁽ᵗ⁾ = W_1⁽⁰⁾ + A⁽ᵗ⁾X with A ∈ R^{m×n} (this is Lemma 20 of the paper: the first layer moves only
in the row span of X). Training needs only K = XXᵀ and P₀ = W_1⁽⁰⁾Xᵀ: U_1 = P₀ + AK.
**Direct parametrization** keeps W_1 ∈ R^{m×d}; in float64 both give the same iterates to 1e-10,
and only the direct one makes Lemma 20 a non-trivial check.

Used in: Chapter 4 (Theorems 6 and 7 of Chatterji & Long, JMLR 2023).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import torch

from ._validate import require_choice, require_int
from .gd import History, _as_batch, run_gd
from .rng import resolve_device, resolve_dtype
from .two_layer_gd import _batched, _broadcast

__all__ = ["DeepLinearRun", "train_deep_linear"]


class DeepLinearRun:
    """A batch of deep linear networks under GD; after :func:`train_deep_linear`, the result.

    Attributes
    ----------
    X, Y : tensors (B, n, d), (B, n, q)
    W1_0 : tensor (B, m, d)
        The initial first layer.
    A : tensor (B, m, n)
        Row-span coefficients (``parametrization="rowspan"``): W_1 = W1_0 + A X.
    middle : list of tensors (B, m, m)
        W_2, ..., W_{L−1}.
    WL : tensor (B, q, m)
    history : History
    stop_step : ndarray (B,)
    loss : tensor (B,)
        ℒ at the current iterate.
    """

    def __init__(self, X, Y, W1, middle, WL, step, parametrization,
                 metrics: Mapping[str, Callable]) -> None:
        self.X, self.Y, self.W1_0 = X, Y, W1
        self.batch, self.n, self.d = X.shape
        self.q = Y.shape[2]
        self.dtype, self.device = X.dtype, X.device
        self.parametrization = parametrization
        self.middle = [M.clone() for M in middle]
        self.WL = WL.clone()
        self.step = step
        self.depth = len(middle) + 2
        self._metrics = dict(metrics)
        self.YT = Y.transpose(1, 2)
        if parametrization == "rowspan":
            self.K = X @ X.transpose(1, 2)
            self.P0 = W1 @ X.transpose(1, 2)
            self.A = torch.zeros(self.batch, W1.shape[1], self.n, dtype=self.dtype,
                                 device=self.device)
        else:
            self.W1 = W1.clone()
        self.history: History | None = None
        self.stop_step: np.ndarray | None = None

    def forward(self) -> torch.Tensor:
        if self.parametrization == "rowspan":
            U = torch.baddbmm(self.P0, self.A, self.K)
        else:
            U = self.W1 @ self.X.transpose(1, 2)
        self._U = [U]
        for M in self.middle:
            U = M @ U
            self._U.append(U)
        out = self.WL @ U  # (B, q, n) = (XΘ)ᵀ
        self.R = out - self.YT
        self.loss = (self.R * self.R).sum((1, 2))
        return self.loss

    def update(self, active: torch.Tensor) -> None:
        eta = (self.step * active.to(self.dtype)).view(-1, 1, 1)
        G = 2 * self.R
        grads = [G @ self._U[-1].transpose(1, 2)]  # dℒ/dW_L
        G = self.WL.transpose(1, 2) @ G
        for k in range(len(self.middle) - 1, -1, -1):
            M = self.middle[k]
            grads.append(G @ self._U[k].transpose(1, 2))
            G = M.transpose(1, 2) @ G
        # G is now G_1 (B, m, n); apply all updates with the pre-step weights
        self.WL.sub_(eta * grads[0])
        for k, g in zip(range(len(self.middle) - 1, -1, -1), grads[1:], strict=True):
            self.middle[k].sub_(eta * g)
        if self.parametrization == "rowspan":
            self.A.sub_(eta * G)
        else:
            self.W1.sub_(eta * (G @ self.X))

    def record(self) -> dict[str, torch.Tensor]:
        out = {"loss": self.loss}
        for name, fn in self._metrics.items():
            out[name] = fn(self)
        return out

    # ----------------------------------------------------------------- queries
    def first_layer(self) -> torch.Tensor:
        """W_1 (B, m, d)."""
        if self.parametrization == "rowspan":
            return torch.baddbmm(self.W1_0, self.A, self.X)
        return self.W1

    def upper_product(self) -> torch.Tensor:
        """W_L ⋯ W_2 (B, q, m)."""
        P = self.WL
        for M in reversed(self.middle):
            P = P @ M
        return P

    def theta(self) -> torch.Tensor:
        """Θ = (W_L ⋯ W_1)ᵀ, shape (B, d, q)."""
        return (self.upper_product() @ self.first_layer()).transpose(1, 2)

    def predictions(self) -> torch.Tensor:
        """XΘ on the training inputs, shape (B, n, q)."""
        return (self.R + self.YT).transpose(1, 2)


def train_deep_linear(
    X,
    Y,
    W1,
    WL,
    *,
    depth: int,
    step,
    max_steps: int,
    middle=None,
    tol=None,
    record=None,
    metrics: Mapping[str, Callable] | None = None,
    parametrization: str = "rowspan",
    dtype: str | torch.dtype = "float64",
    device: str | torch.device = "cpu",
    check_every: int | None = None,
    explode: float = 1e4,
    progress: bool | None = None,
) -> DeepLinearRun:
    """Train a batch of depth-L linear networks on ℒ = ‖Y − XΘ‖²_F by GD.

    Parameters
    ----------
    X : array (B, n, d) or (n, d)
    Y : array (B, n, q) or (n, q)
    W1 : array (B, m, d) or (m, d)
        Initial first layer (Definition 3 of the paper: i.i.d. N(0, α²)).
    WL : array (B, q, m) or (q, m)
        Initial last layer (i.i.d. N(0, β²)).
    depth : int
        L ≥ 2.
    middle : array (B, L−2, m, m), optional
        Initial middle layers; default the identity (Definition 3).
    step : float or array (B,)
        Step size η > 0.
    max_steps : int
    tol : float or array (B,), optional
        Stop element b at the first t with ℒ_b < tol_b.
    record, metrics, parametrization, dtype, device
        As in :func:`overparam.two_layer_gd.train_two_layer` (metrics receive the run).

    Returns
    -------
    DeepLinearRun
        ``history["loss"]`` holds ℒ at the recorded steps; ``theta()`` the trained Θ.
    """
    require_choice("parametrization", parametrization, ["rowspan", "direct"])
    depth = require_int("depth", depth, low=2)
    dt, dev = resolve_dtype(dtype), resolve_device(device)
    Xt = _batched("X", X, 3, None, dt, dev)
    Yt = _batched("Y", Y, 3, None, dt, dev)
    W1t = _batched("W1", W1, 3, None, dt, dev)
    WLt = _batched("WL", WL, 3, None, dt, dev)
    B = max(Xt.shape[0], Yt.shape[0], W1t.shape[0], WLt.shape[0])
    Xt, Yt, W1t, WLt = (_broadcast(t, B, nm) for t, nm in
                        ((Xt, "X"), (Yt, "Y"), (W1t, "W1"), (WLt, "WL")))
    n, d = Xt.shape[1:]
    m, q = W1t.shape[1], Yt.shape[2]
    if Yt.shape[1] != n:
        raise ValueError(f"Y must have n = {n} rows, got {Yt.shape[1]}")
    if W1t.shape[2] != d:
        raise ValueError(f"W1 must have d = {d} columns, got {W1t.shape[2]}")
    if WLt.shape[1:] != (q, m):
        raise ValueError(f"WL must have shape (q, m) = ({q}, {m}), got {tuple(WLt.shape[1:])}")
    if middle is None:
        eye = torch.eye(m, dtype=dt, device=dev).expand(B, m, m)
        mids = [eye.clone() for _ in range(depth - 2)]
    else:
        Mt = _batched("middle", middle, 4, None, dt, dev)
        Mt = _broadcast(Mt, B, "middle")
        if Mt.shape[1:] != (depth - 2, m, m):
            raise ValueError(f"middle must have shape (B, L-2, m, m) = (B, {depth - 2}, {m}, {m}),"
                             f" got {tuple(Mt.shape)}")
        mids = [Mt[:, k] for k in range(depth - 2)]
    step_t = _as_batch("step", step, B, dt, dev, positive=True)
    run = DeepLinearRun(Xt, Yt, W1t, mids, WLt, step_t, parametrization, dict(metrics or {}))
    history, stop = run_gd(run, step_desc=step_t.tolist(), max_steps=max_steps, tol=tol,
                           record=record, check_every=check_every, explode=explode,
                           progress_desc=f"GD deep linear (L={depth}, B={B})",
                           show_progress=progress)
    run.history, run.stop_step = history, stop
    return run
