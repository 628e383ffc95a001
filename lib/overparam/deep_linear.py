r"""Deep linear networks that interpolate noisy data: depth does not hide the noise.

Chatterji & Long (JMLR 2023) train a deep linear network x ↦ xΘ, Θ = (W_L ⋯ W_1)ᵀ, by gradient flow
on ℒ(Θ) = ‖Y − XΘ‖²_F from the initialisation of their Definition 3 (W_1 entries N(0, α²), W_L
entries N(0, β²), middle layers the identity) and compare it with the minimum ℓ2-norm interpolant
Θ_ℓ2 = Xᵀ(XXᵀ)⁻¹Y. This module holds the chapter's library side:

* the data law (Gaussian inputs with a spiked covariance, a target Θ* drawn uniformly from a sphere,
  Gaussian label noise), each problem drawn from its own seed;
* the initialisation (Definition 3), at full width and in an **exact width reduction**: every
  weight update of a network initialised by Definition 3 stays in the span V of the columns of
  W_1⁽⁰⁾Xᵀ and W_L⁽⁰⁾ᵀ (dimension r ≤ n + q), so a width-m network trains exactly like a width-r
  one (:func:`reduce_width`); :func:`init_reduced` samples the reduced network directly, exactly
  in law, at a cost that does not grow with m;
* a wrapper around the shared engine :func:`overparam.train_deep_linear` that trains in
  n-dimensional input coordinates and rebuilds Θ in R^{d×q};
* the diagnostics of the paper's structural lemmas (10, 19, 20), exact risks and the across-noise
  variance, the effective-rank shapes of the bounds, and the chapter's plots (``plot_*``).

Used in: Chapter 4 (Chatterji & Long, JMLR 2023, Theorems 6 and 7, Lemmas 10, 19, 20).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ._validate import require_finite_array, require_int, require_real
from .deep_linear_gd import DeepLinearRun, train_deep_linear
from .linear import effective_ranks, min_norm_bias_variance, min_norm_operator
from .rng import numpy_rng

__all__ = [
    "spike_spectrum",
    "Problem",
    "draw_problem",
    "noise_draws",
    "init_layers",
    "ReducedInit",
    "reduce_width",
    "init_reduced",
    "stable_step",
    "DeepFit",
    "train",
    "min_norm_batch",
    "rowspan_split",
    "lemma_metrics",
    "risks",
    "noise_variance",
    "critical_index",
    "bllt_variance_shape",
    "bias_shape",
    "init_bias_prediction",
    "theorem7_conditions",
    "theorem7_xi_bound",
    "xi_theorem6",
    "rowspan_variance_bound",
    "FIG3_SETTING",
    "FIG3_DIMENSIONS",
    "FIG3_LOGGED_OLS_RISK",
    "Exploration",
    "explore_run",
    "plot_lemmas",
    "plot_variance",
    "plot_bias",
    "plot_fig3_min_norm",
    "plot_fig3_deep",
    "plot_explore",
]


# ----------------------------------------------------------------- the data law
def spike_spectrum(d: int, k: int, eps: float) -> np.ndarray:
    """Eigenvalues of the spiked covariance: λ_1 = … = λ_k = 1, λ_{k+1} = … = λ_d = ε.

    For this spectrum r_k = R_k = d − k (Chatterji & Long 2023, Corollary 9).

    Parameters
    ----------
    d : int
        Dimension, ``d >= 2``.
    k : int
        Number of spikes, ``1 <= k < d``.
    eps : float
        Tail eigenvalue, ``0 < eps <= 1``.

    Returns
    -------
    ndarray (d,)
        The diagonal of Σ (the covariance is diagonal in the standard basis).

    Used in: Chapter 4, every experiment.
    """
    d = require_int("d", d, low=2)
    k = require_int("k", k, low=1, high=d - 1)
    eps = require_real("eps", eps, low=0.0, high=1.0, low_open=True)
    lam = np.full(d, eps)
    lam[:k] = 1.0
    return lam


def _spectrum(spectrum, d: int | None = None) -> np.ndarray:
    lam = np.asarray(spectrum, dtype=float)
    if lam.ndim != 1 or (d is not None and lam.shape[0] != d):
        raise ValueError(f"spectrum must be a 1-D array of length d = {d}, got shape {lam.shape}")
    require_finite_array("spectrum", lam)
    if np.any(lam <= 0):
        raise ValueError("spectrum must hold eigenvalues > 0")
    return lam


@dataclass
class Problem:
    """One regression problem y = xΘ* + ω, drawn by :func:`draw_problem`.

    Attributes
    ----------
    X : ndarray (n, d)
        Inputs x_i = Σ^{1/2}u_i, u_i ~ N(0, I_d).
    theta_star : ndarray (d, q)
        The target, uniform on the sphere ‖Θ*‖_F = ``theta_norm``.
    Y : ndarray (n, q)
        Labels XΘ* + Ω with Ω entries N(0, σ²).
    spectrum : ndarray (d,)
        The diagonal of Σ.
    sigma : float
        Noise level σ.
    seed : int
        The seed everything was drawn from.
    """

    X: np.ndarray
    theta_star: np.ndarray
    Y: np.ndarray
    spectrum: np.ndarray
    sigma: float
    seed: int

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def q(self) -> int:
        return self.theta_star.shape[1]

    def labels(self, noise: np.ndarray) -> np.ndarray:
        """XΘ* + noise for noise of shape (n, q) or (J, n, q)."""
        noise = np.asarray(noise, dtype=float)
        if noise.shape[-2:] != (self.n, self.q):
            raise ValueError(f"noise must have shape (..., {self.n}, {self.q}), got {noise.shape}")
        return self.X @ self.theta_star + noise


def draw_problem(seed: int, *, n: int, d: int, q: int, spectrum, sigma: float = 1.0,
                 theta_norm: float = 1.0) -> Problem:
    """Draw X, Θ* and one noise draw from ``seed`` (in that order).

    The law of the authors' simulations (Chatterji & Long 2023, Section 6): x ~ N(0, Σ) with
    Σ = diag(``spectrum``), Θ* uniform on the sphere of Frobenius norm ``theta_norm``, y = xΘ* + ω
    with ω ~ N(0, σ²I_q).

    Parameters
    ----------
    seed : int
    n, d, q : int
        Samples, input dimension (``d > n``) and outputs.
    spectrum : array (d,)
        Eigenvalues of Σ (e.g. :func:`spike_spectrum`).
    sigma : float
        Noise level, ``sigma >= 0``.
    theta_norm : float
        ‖Θ*‖_F, ``> 0``.

    Used in: Chapter 4, every experiment.
    """
    n = require_int("n", n, low=1)
    d = require_int("d", d, low=n + 1)
    q = require_int("q", q, low=1)
    lam = _spectrum(spectrum, d)
    sigma = require_real("sigma", sigma, low=0.0)
    theta_norm = require_real("theta_norm", theta_norm, low=0.0, low_open=True)
    rng = numpy_rng(seed)
    X = rng.standard_normal((n, d)) * np.sqrt(lam)
    T = rng.standard_normal((d, q))
    T *= theta_norm / np.linalg.norm(T)
    Y = X @ T + sigma * rng.standard_normal((n, q))
    return Problem(X, T, Y, lam, sigma, int(seed))


def noise_draws(seeds: Sequence[int], *, n: int, q: int, sigma: float) -> np.ndarray:
    """Label-noise matrices Ω_j with N(0, σ²) entries, draw j from ``seeds[j]``: shape (J, n, q).

    Used in: Chapter 4 (the variance of an estimator across noise draws, X and init fixed).
    """
    n = require_int("n", n, low=1)
    q = require_int("q", q, low=1)
    sigma = require_real("sigma", sigma, low=0.0)
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    return np.stack([sigma * numpy_rng(s).standard_normal((n, q)) for s in seeds])


# ----------------------------------------------------------------- initialisation
def init_layers(seed: int, *, m: int, d: int, q: int, alpha: float,
                beta: float) -> tuple[np.ndarray, np.ndarray]:
    """The random initialisation of Definition 3 (Chatterji & Long 2023), at full width.

    W_1 ∈ R^{m×d} with i.i.d. N(0, α²) entries, W_L ∈ R^{q×m} with i.i.d. N(0, β²) entries; the
    middle layers W_2, …, W_{L−1} are the identity I_m (the engine's default).

    Returns
    -------
    (W1, WL) : ndarrays (m, d) and (q, m)

    Used in: Chapter 4 (the structural lemmas, checked at full width).
    """
    m = require_int("m", m, low=1)
    d = require_int("d", d, low=1)
    q = require_int("q", q, low=1)
    alpha = require_real("alpha", alpha, low=0.0)
    beta = require_real("beta", beta, low=0.0)
    rng = numpy_rng(seed)
    W1 = alpha * rng.standard_normal((m, d))
    WL = beta * rng.standard_normal((q, m))
    return W1, WL


@dataclass
class ReducedInit:
    """A width-m network of Definition 3 written as an equivalent width-r network.

    Attributes
    ----------
    W1 : ndarray (r, d)
        QᵀW_1⁽⁰⁾.
    WL : ndarray (q, r)
        W_L⁽⁰⁾Q.
    m : int
        The width of the network it stands for.
    basis : ndarray (m, r) or None
        Q, an orthonormal basis of a subspace of R^m that contains V (None when sampled in law).
    """

    W1: np.ndarray
    WL: np.ndarray
    m: int
    basis: np.ndarray | None = None

    @property
    def width(self) -> int:
        """r, the width of the reduced network."""
        return self.W1.shape[0]


def _as_matrix(name: str, A, shape=None) -> np.ndarray:
    A = np.asarray(A, dtype=float)
    if A.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array, got shape {A.shape}")
    if shape is not None and any(s is not None and s != g for s, g in zip(shape, A.shape,
                                                                          strict=True)):
        raise ValueError(f"{name} must have shape {shape}, got {A.shape}")
    require_finite_array(name, A)
    return A


def reduce_width(X, W1, WL, *, minimal: bool = False) -> ReducedInit:
    r"""The exact width reduction of a network initialised by Definition 3.

    With U_1 = W_1Xᵀ, U_k = W_kU_{k−1}, R = W_LU_{L−1} − Yᵀ, the gradients are
    ∂ℒ/∂W_L = 2R U_{L−1}ᵀ, ∂ℒ/∂W_k = G_kU_{k−1}ᵀ and ∂ℒ/∂W_1 = G_1X with G_k = W_{k+1}ᵀ⋯W_Lᵀ2R.
    By induction every column of U_k and G_k, every row of W_L − W_L⁽⁰⁾ and every column of
    W_1Xᵀ stays in V = span(columns of W_1⁽⁰⁾Xᵀ and of W_L⁽⁰⁾ᵀ), and W_k − I_m maps into V and
    vanishes on V⊥. With Q an orthonormal basis of (a superspace of) V, GD on the width-m network
    and GD on the width-r network (QᵀW_1⁽⁰⁾, middle layers I_r, W_L⁽⁰⁾Q) produce the same Θ at every
    step, exactly (not only in law). The reduction needs the middle layers to start at the
    identity, as in Definition 3.

    Parameters
    ----------
    X : array (n, d)
    W1 : array (m, d)
    WL : array (q, m)
    minimal : bool
        If True and W_1⁽⁰⁾ = 0, use r = q (V is then the row space of W_L⁽⁰⁾); otherwise
        r = min(m, n + q), so that networks with different α can share one batch.

    Used in: Chapter 4 (every sweep; checked against full-width runs in verify.ipynb).
    """
    X = _as_matrix("X", X)
    d = X.shape[1]
    W1 = _as_matrix("W1", W1, (None, d))
    m = W1.shape[0]
    WL = _as_matrix("WL", WL, (None, m))
    if minimal and not np.any(W1):
        Q, _ = np.linalg.qr(WL.T)
    else:
        Q, _ = np.linalg.qr(np.hstack([W1 @ X.T, WL.T]))
    return ReducedInit(Q.T @ W1, WL @ Q, m, Q)


def init_reduced(seed: int, X, *, m: int, q: int, alpha: float, beta: float,
                 minimal: bool = False) -> ReducedInit:
    r"""Sample the width-r reduction of a Definition-3 network of width m, exactly in law.

    Write W_1⁽⁰⁾ = αZ and split Z = Z V_X V_Xᵀ + Z(I − P_X), where the columns of V_X (d×n) are an
    orthonormal basis of the row span of X. The two parts are independent Gaussian matrices. The
    basis Q of V = span(W_1⁽⁰⁾Xᵀ, W_L⁽⁰⁾ᵀ) depends on Z V_X (m×n) and W_L⁽⁰⁾ only, so QᵀZ(I − P_X)
    has the law of G(I − P_X) with G an r×d matrix of fresh i.i.d. N(0, 1) entries. Hence

        QᵀW_1⁽⁰⁾ =_d α (QᵀZV_X V_Xᵀ + G(I − P_X)),   W_L⁽⁰⁾Q computed exactly,

    at a cost O(m n r + r d n), with no m×d matrix ever formed: the authors' width m = 10(d + q)
    costs almost nothing more than m = 2(d + q).

    Parameters
    ----------
    seed : int
        Draws, in order: ZV_X (m×n), W_L⁽⁰⁾/β (q×m), G (r×d).
    X : array (n, d)
        Full row rank, d > n.
    m, q : int
        Width and number of outputs (r = min(m, n + q), or q with ``minimal`` and α = 0).
    alpha, beta : float
        Initialisation scales (Definition 3), ``>= 0``.
    minimal : bool
        As in :func:`reduce_width`.

    Returns
    -------
    ReducedInit
        With ``basis=None``.

    Used in: Chapter 4 (the sweeps over α, d and the noise draws).
    """
    X = _as_matrix("X", X)
    n, d = X.shape
    if d <= n:
        raise ValueError(f"X must have d > n (overparameterized), got shape {X.shape}")
    q = require_int("q", q, low=1)
    m = require_int("m", m, low=1)
    alpha = require_real("alpha", alpha, low=0.0)
    beta = require_real("beta", beta, low=0.0)
    U, s, Vt = np.linalg.svd(X, full_matrices=False)  # X = U diag(s) Vt, Vt = V_Xᵀ (n×d)
    if s[-1] <= s[0] * 1e-12:
        raise ValueError("X must have full row rank")
    rng = numpy_rng(seed)
    Z1 = rng.standard_normal((m, n))  # Z V_X
    WL = beta * rng.standard_normal((q, m))
    if minimal and alpha == 0:
        Q, _ = np.linalg.qr(WL.T)
    else:
        P0 = alpha * Z1 @ (s[:, None] * U.T)  # W_1⁽⁰⁾Xᵀ = α Z V_X V_Xᵀ Xᵀ
        Q, _ = np.linalg.qr(np.hstack([P0, WL.T]))
    r = Q.shape[1]
    G = rng.standard_normal((r, d))
    G -= (G @ Vt.T) @ Vt
    W1r = alpha * ((Q.T @ Z1) @ Vt + G)
    return ReducedInit(W1r, WL @ Q, m, None)


def stable_step(X, W1, WL, depth: int, safety: float = 1.0) -> float:
    r"""A GD step size η = safety / λ̄ from a bound λ̄ on the loss Hessian at initialisation.

    At an initialisation of Definition 3 (middle layers I), the Hessian of ℒ = ‖Y − XΘ‖²_F
    restricted to each layer is at most 2λ_max(XXᵀ)‖W_L‖²_op (first layer),
    2‖W_1Xᵀ‖²_op (last layer) and 2‖W_L‖²_op‖W_1Xᵀ‖²_op (each of the L − 2 middle layers); λ̄ is
    their sum. GD is stable for η < 2/λ̄; the default ``safety = 1`` takes half of that. For
    α → 0 it gives η ≈ 0.5/(β²mλ_max(XXᵀ)), twice the calibrated choice of the chapter spec;
    halving it changes the trained Θ by about 10⁻³ relative (measured in Chapter 4), the size of
    the gap between GD and the paper's gradient flow.

    Parameters
    ----------
    X : array (n, d)
    W1 : array (r, d)
    WL : array (q, r)
    depth : int
        L ≥ 2.
    safety : float
        In (0, 2).

    Used in: Chapter 4 (every training run).
    """
    X = _as_matrix("X", X)
    W1 = _as_matrix("W1", W1, (None, X.shape[1]))
    WL = _as_matrix("WL", WL, (None, W1.shape[0]))
    depth = require_int("depth", depth, low=2)
    safety = require_real("safety", safety, low=0.0, high=2.0, low_open=True, high_open=True)
    kmax = np.linalg.eigvalsh(X @ X.T)[-1]
    wl = np.linalg.norm(WL, 2) ** 2
    u1 = np.linalg.norm(W1 @ X.T, 2) ** 2
    lam = 2.0 * (kmax * wl + u1 + (depth - 2) * wl * u1)
    if lam <= 0:
        raise ValueError("the network has zero gradient at initialisation (W_L = 0 and W_1Xᵀ = 0)")
    return float(safety / lam)


# ----------------------------------------------------------------- training
@dataclass
class DeepFit:
    """A batch of trained deep linear networks, Θ rebuilt in R^{d×q}.

    Attributes
    ----------
    theta : ndarray (B, d, q)
        Θ = (W_L ⋯ W_1)ᵀ at the last step.
    loss : ndarray (B,)
        ℒ(Θ) = ‖Y − XΘ‖²_F at the last step.
    stop_step : ndarray (B,)
        The step at which each network reached ``tol`` (``max_steps`` if never).
    step : ndarray (B,)
        The step sizes used.
    run : DeepLinearRun
        The engine's run (in reduced coordinates when ``compress=True``).
    """

    theta: np.ndarray
    loss: np.ndarray
    stop_step: np.ndarray
    step: np.ndarray
    run: DeepLinearRun


def _batch3(name: str, A, B: int | None = None) -> np.ndarray:
    A = np.asarray(A, dtype=float)
    if A.ndim == 2:
        A = A[None]
    if A.ndim != 3:
        raise ValueError(f"{name} must have 2 or 3 dimensions (with a batch axis), got {A.shape}")
    require_finite_array(name, A)
    return A


def train(X, Y, W1, WL, *, depth: int, tol: float, max_steps: int, step=None,
          safety: float = 1.0, parametrization: str = "rowspan", compress: bool = True,
          record=None, metrics: dict[str, Callable] | None = None) -> DeepFit:
    r"""Train a batch of deep linear networks with the shared engine and return Θ ∈ R^{d×q}.

    ℒ(Θ) = ‖Y − XΘ‖²_F, middle layers initialised at I (Definition 3), GD with step η (default
    :func:`stable_step` per network), stopping each network at the first step with ℒ < ``tol``.

    With ``compress=True`` (row-span parametrization only) the engine runs in n-dimensional input
    coordinates: with X = U diag(s) V_Xᵀ it receives X V_X = U diag(s) (n×n) and W_1 V_X (r×n),
    which give the same Gram matrix XXᵀ and the same W_1Xᵀ, hence the same iterates; the first
    layer is
    W_1⁽ᵗ⁾ = W_1⁽⁰⁾ + A⁽ᵗ⁾X (Lemma 20) and Θ = (W_L⋯W_2 W_1⁽ᵗ⁾)ᵀ is rebuilt at the end.

    Parameters
    ----------
    X : array (n, d) or (B, n, d)
    Y : array (n, q) or (B, n, q)
    W1 : array (r, d) or (B, r, d)
        Initial first layer (full width, or reduced by :func:`reduce_width`/:func:`init_reduced`).
    WL : array (q, r) or (B, q, r)
    depth : int
        L ≥ 2.
    tol : float
        Stop at ℒ < tol.
    max_steps : int
    step : float or array (B,), optional
    safety : float
        Passed to :func:`stable_step` when ``step`` is None.
    parametrization : {"rowspan", "direct"}
        As in :func:`overparam.train_deep_linear`; "direct" keeps W_1 ∈ R^{r×d} (for checking
        Lemma 20, which the row-span parametrization satisfies by construction).
    compress : bool
        Train in n-dimensional input coordinates (row-span parametrization only).
    record, metrics
        Passed to the engine (metrics see the engine's run, so use ``compress=False`` for metrics
        that need the full first layer).

    Returns
    -------
    DeepFit

    Used in: Chapter 4, every training run.
    """
    depth = require_int("depth", depth, low=2)
    tol = require_real("tol", tol, low=0.0, low_open=True)
    Xb, Yb, W1b, WLb = (_batch3(nm, A) for nm, A in (("X", X), ("Y", Y), ("W1", W1), ("WL", WL)))
    B = max(Xb.shape[0], Yb.shape[0], W1b.shape[0], WLb.shape[0])
    for nm, A in (("X", Xb), ("Y", Yb), ("W1", W1b), ("WL", WLb)):
        if A.shape[0] not in (1, B):
            raise ValueError(f"{nm} has batch size {A.shape[0]}, expected 1 or {B}")
    n, d = Xb.shape[1:]
    if d <= n:
        raise ValueError(f"X must have d > n (overparameterized), got n = {n}, d = {d}")
    if W1b.shape[2] != d:
        raise ValueError(f"W1 must have d = {d} columns, got {W1b.shape[2]}")
    if compress and parametrization != "rowspan":
        raise ValueError("compress=True needs parametrization='rowspan'")
    if step is None:
        step = np.array([stable_step(Xb[b % Xb.shape[0]], W1b[b % W1b.shape[0]],
                                     WLb[b % WLb.shape[0]], depth, safety) for b in range(B)])
    steps = np.broadcast_to(np.asarray(step, dtype=float), (B,)).copy()
    if compress:
        U, s, Vt = np.linalg.svd(Xb, full_matrices=False)  # (Bx, n, n), (Bx, n), (Bx, n, d)
        Xc = U * s[:, None, :]
        W1c = W1b @ Vt.transpose(0, 2, 1)
        run = train_deep_linear(Xc, Yb, W1c, WLb, depth=depth, step=steps, max_steps=max_steps,
                                tol=tol, record=record, metrics=metrics)
        up = run.upper_product().numpy()  # (B, q, r)
        A = run.A.numpy()  # (B, r, n)
        Xfull = np.broadcast_to(Xb, (B, n, d))
        W1t = np.broadcast_to(W1b, (B, *W1b.shape[1:])) + A @ Xfull
        theta = (up @ W1t).transpose(0, 2, 1)
    else:
        run = train_deep_linear(Xb, Yb, W1b, WLb, depth=depth, step=steps, max_steps=max_steps,
                                tol=tol, record=record, metrics=metrics,
                                parametrization=parametrization)
        theta = run.theta().numpy()
    return DeepFit(theta, run.loss.numpy().copy(), run.stop_step, steps, run)


# ----------------------------------------------------------------- structure and risk
def min_norm_batch(X, Y) -> np.ndarray:
    """Θ_ℓ2 = Xᵀ(XXᵀ)⁻¹Y for Y of shape (n, q) or (J, n, q) (X shared): shape (..., d, q).

    Used in: Chapter 4 (the network's comparison estimator).
    """
    A = min_norm_operator(X)
    return A @ np.asarray(Y, dtype=float)


def rowspan_split(X, theta) -> tuple[np.ndarray, np.ndarray]:
    """(P_XΘ, (I − P_X)Θ) for Θ of shape (d, q) or (B, d, q), with P_X = Xᵀ(XXᵀ)⁻¹X.

    Used in: Chapter 4 (Lemmas 10 and 19: the row-span part is Θ_ℓ2, the rest comes from the
    initialisation).
    """
    X = _as_matrix("X", X)
    theta = np.asarray(theta, dtype=float)
    row = min_norm_operator(X) @ (X @ theta)
    return row, theta - row


def lemma_metrics(X, Y, W1_0) -> dict[str, Callable[[DeepLinearRun], torch.Tensor]]:
    r"""Engine metrics for the structural lemmas of Chatterji & Long (2023), full-width runs.

    * ``"lemma20"``: ‖(W_1⁽ᵗ⁾ − W_1⁽⁰⁾)(I − P_X)‖_F / ‖W_1⁽ᵗ⁾‖_F (Lemma 20: 0);
    * ``"lemma19"``: ‖(I − P_X)Θ⁽ᵗ⁾ − (W_L⁽ᵗ⁾⋯W_2⁽ᵗ⁾W_1⁽⁰⁾(I − P_X))ᵀ‖_F / ‖Θ⁽ᵗ⁾‖_F (Lemma 19: 0);
    * ``"rowspan_gap"``: ‖P_XΘ⁽ᵗ⁾ − Θ_ℓ2‖_F, and ``"lemma10_bound"``: ‖X⁺‖_op ‖XΘ⁽ᵗ⁾ − Y‖_F
      (Lemma 10: the first is at most the second, so P_XΘ = Θ_ℓ2 at interpolation).

    A relative error whose numerator is exactly 0 is 0 (e.g. at t = 0 with W_1⁽⁰⁾ = 0).

    Parameters
    ----------
    X : array (n, d) — shared by the batch.
    Y : array (n, q) or (B, n, q)
    W1_0 : array (m, d) or (B, m, d) — the initial first layer of the (full-width) runs.

    Used in: Chapter 4, verify.ipynb (the structural lemmas).
    """
    X = _as_matrix("X", X)
    Xp = min_norm_operator(X)  # X⁺ (d, n)
    t = torch.as_tensor
    Xt, Xpt = t(X), t(Xp)
    Yt = t(np.asarray(Y, dtype=float))
    W0 = t(np.asarray(W1_0, dtype=float))
    theta_l2 = Xpt @ Yt  # (…, d, q)
    pinv_norm = float(np.linalg.norm(Xp, 2))
    tiny = torch.finfo(torch.float64).tiny

    def orth(M: torch.Tensor) -> torch.Tensor:  # M (…, d) ↦ M(I − P_X)
        return M - (M @ Xt.T) @ Xpt.T

    def fro(M: torch.Tensor) -> torch.Tensor:
        return torch.linalg.matrix_norm(M)

    def lemma20(run: DeepLinearRun) -> torch.Tensor:
        W1 = run.first_layer()
        return fro(orth(W1 - W0)) / fro(W1).clamp_min(tiny)

    def lemma19(run: DeepLinearRun) -> torch.Tensor:
        theta = run.theta()  # (B, d, q)
        lhs = orth(theta.transpose(1, 2))  # ((I − P)Θ)ᵀ
        rhs = run.upper_product() @ orth(W0)
        return fro(lhs - rhs) / fro(theta).clamp_min(tiny)

    def rowspan_gap(run: DeepLinearRun) -> torch.Tensor:
        theta = run.theta()
        return fro(Xpt @ (Xt @ theta) - theta_l2)

    def lemma10_bound(run: DeepLinearRun) -> torch.Tensor:
        return pinv_norm * fro(Xt @ run.theta() - Yt)

    return {"lemma20": lemma20, "lemma19": lemma19, "rowspan_gap": rowspan_gap,
            "lemma10_bound": lemma10_bound}


def risks(theta, theta_star, spectrum) -> np.ndarray:
    """Risk(Θ) = tr((Θ − Θ*)ᵀΣ(Θ − Θ*)) for each Θ of a batch (B, d, q); Σ = diag(spectrum).

    Exact, no test set (Chatterji & Long 2023, Section 2). Returns shape (B,) (a float for one Θ).

    Used in: Chapter 4, every risk.
    """
    theta = np.asarray(theta, dtype=float)
    D = theta - np.asarray(theta_star, dtype=float)
    lam = _spectrum(spectrum, D.shape[-2])
    out = np.einsum("...dq,d,...dq->...", D, lam, D)
    return out if out.ndim else float(out)


def noise_variance(thetas, spectrum) -> float:
    r"""The across-noise variance (1/(J − 1)) Σ_j ‖Σ^{1/2}(Θ_j − Θ̄)‖²_F of J estimates (J, d, q).

    With X and the initialisation fixed and only the label noise redrawn, this estimates the
    conditional variance E‖Σ^{1/2}(Θ − E[Θ | X])‖²_F, for the min-norm interpolant σ²q tr(C).

    Used in: Chapter 4 (the variance identity).
    """
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim != 3 or thetas.shape[0] < 2:
        raise ValueError(f"thetas must have shape (J, d, q) with J >= 2, got {thetas.shape}")
    lam = _spectrum(spectrum, thetas.shape[1])
    D = thetas - thetas.mean(0)
    return float(np.einsum("jdq,d,jdq->", D, lam, D) / (thetas.shape[0] - 1))


def critical_index(spectrum, n: int, b: float = 1.0) -> int:
    """k = min{j ≥ 0 : r_j ≥ bn}, with r_j = Σ_{i>j} λ_i / λ_{j+1} (Bartlett et al., PNAS 2020).

    Raises ValueError if no j < d qualifies.

    Used in: Chapter 4 (the k of the bounds).
    """
    lam = np.sort(_spectrum(spectrum))[::-1]
    n = require_int("n", n, low=1)
    b = require_real("b", b, low=0.0, low_open=True)
    for j in range(lam.size):
        if effective_ranks(lam, j)[0] >= b * n:
            return j
    raise ValueError(f"no j < d has r_j >= b n = {b * n}: the tail is too short for n = {n}")


def bllt_variance_shape(spectrum, n: int, k: int | None = None, b: float = 1.0) -> float:
    """k/n + n/R_k: the shape of the min-norm variance bound, per unit σ² and per output.

    Theorem 6 (Chatterji & Long 2023) bounds Variance(Θ_ℓ2) by c q log(q/δ)(k/n + n/R_k) (after
    Bartlett et al., PNAS 2020); ``k`` defaults to :func:`critical_index`.

    Used in: Chapter 4 (the BLLT variance shape).
    """
    lam = np.sort(_spectrum(spectrum))[::-1]
    n = require_int("n", n, low=1)
    k = critical_index(lam, n, b) if k is None else require_int("k", k, low=0,
                                                                    high=lam.size - 1)
    _, R = effective_ranks(lam, k)
    return k / n + n / R


def bias_shape(spectrum, n: int, theta_norm2: float, k: int | None = None,
               b: float = 1.0) -> float:
    """(s_k/n)‖Θ*‖², s_k = Σ_{i>k} λ_i: the shape of the min-norm bias bound of Theorem 6.

    Used in: Chapter 4 (explore.ipynb).
    """
    lam = np.sort(_spectrum(spectrum))[::-1]
    n = require_int("n", n, low=1)
    k = critical_index(lam, n, b) if k is None else require_int("k", k, low=0,
                                                                    high=lam.size - 1)
    theta_norm2 = require_real("theta_norm2", theta_norm2, low=0.0)
    return float(lam[k:].sum() / n * theta_norm2)


def init_bias_prediction(X, spectrum, *, alpha: float, beta: float, m: int, q: int) -> float:
    r"""α²β²qm tr(B), B = (I − P_X)Σ(I − P_X): the expected excess of Risk over the min-norm risk
    that the initialisation alone puts outside the row span [derived].

    At initialisation (I − P_X)Θ⁽⁰⁾ = (W_L⁽⁰⁾W_1⁽⁰⁾(I − P_X))ᵀ and, W_1⁽⁰⁾ and W_L⁽⁰⁾ being
    independent with i.i.d. N(0, α²) and N(0, β²) entries,
    E‖Σ^{1/2}(I − P_X)Θ⁽⁰⁾‖²_F = α²β²qm tr(B). If the upper layers moved little during training
    (β large), this is the network's expected risk gap to Θ_ℓ2 (the cross term has mean zero
    over the initialisation): the gap grows like α², and with the width m.

    Used in: Chapter 4 (the bias against α).
    """
    X = _as_matrix("X", X)
    lam = _spectrum(spectrum, X.shape[1])
    alpha = require_real("alpha", alpha, low=0.0)
    beta = require_real("beta", beta, low=0.0)
    m = require_int("m", m, low=1)
    q = require_int("q", q, low=1)
    diag_p = np.sum(min_norm_operator(X) * X.T, axis=1)  # diag(P_X)
    tr_B = float(np.sum(lam * (1.0 - diag_p)))
    return alpha**2 * beta**2 * q * m * tr_B


def theorem7_conditions(*, n: int, d: int, q: int, m: int, alpha: float, beta: float,
                        spectrum, delta: float = 0.05) -> list[tuple[str, bool]]:
    """The *displayed parts* of Theorem 7's assumptions (Chatterji & Long 2023), every unknown
    constant c set to 1.

    β ≥ c·1, α ≤ 1, m ≥ c(d + q + log(1/δ)), n ≥ c·max{r_0, k, log(1/δ)} with r_0 = tr(Σ)/λ_1 and
    k = :func:`critical_index` (b = 1). The theorem's further terms inside the maxima (written
    "…" in the chapter) are **not** evaluated, so all of these holding does not mean that a
    setting satisfies the theorem's assumptions. Returns a list of (statement with the values,
    holds).

    Used in: Chapter 4 (printed next to every figure; the explorer's notes).
    """
    lam = np.sort(_spectrum(spectrum, d))[::-1]
    delta = require_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    r0 = float(lam.sum() / lam[0])
    k = critical_index(lam, n)
    log_d = float(np.log(1 / delta))
    need_m = d + q + log_d
    need_n = max(r0, k, log_d)
    return [
        (f"β = {beta:g} ≥ 1", beta >= 1),
        (f"α = {alpha:g} ≤ 1", alpha <= 1),
        (f"m = {m} ≥ d + q + log(1/δ) = {need_m:.1f}", m >= need_m),
        (f"n = {n} ≥ max(r_0, k, log(1/δ)) = max({r0:.1f}, {k}, {log_d:.1f})", n >= need_n),
    ]


def theorem7_xi_bound(*, spectrum, n: int, q: int, m: int, depth: int, alpha: float,
                      beta: float, theta_norm2: float, delta: float = 0.05) -> float:
    r"""The bound on Ξ displayed in Theorem 7 (Chatterji & Long 2023), unknown constant c = 1.

        Ξ ≤ (α² s_k / n) [ qβ² + L²(α + 1/L)⁴ (λ_1 n² / s_k²)
                             · (λ_1‖Θ*‖² + q + α²β² s_0 q log(n/δ) / m) ],

    with s_j = Σ_{i>j} λ_i and k = :func:`critical_index` (b = 1), as transcribed in the chapter
    spec. Only the displayed terms are evaluated (the theorem's conditions contain further terms,
    written "…"). Its first term has no m: compare with :func:`init_bias_prediction`, which
    grows linearly with m.

    Parameters
    ----------
    spectrum : array (d,)
        Eigenvalues of Σ.
    n, q, m, depth : int
        Samples, outputs, width, depth L ≥ 2.
    alpha, beta : float
        Initialisation scales (Definition 3), ``>= 0``.
    theta_norm2 : float
        ‖Θ*‖² (Frobenius), ``>= 0``.
    delta : float
        Confidence parameter in (0, 1).

    Used in: Chapter 4, verify.ipynb (Figure 3 and the Figure 3 sweep of the authors).
    """
    lam = np.sort(_spectrum(spectrum))[::-1]
    n = require_int("n", n, low=1)
    q = require_int("q", q, low=1)
    m = require_int("m", m, low=1)
    depth = require_int("depth", depth, low=2)
    alpha = require_real("alpha", alpha, low=0.0)
    beta = require_real("beta", beta, low=0.0)
    theta_norm2 = require_real("theta_norm2", theta_norm2, low=0.0)
    delta = require_real("delta", delta, low=0.0, high=1.0, low_open=True, high_open=True)
    k = critical_index(lam, n)
    s0, sk, lam1 = float(lam.sum()), float(lam[k:].sum()), float(lam[0])
    inner = lam1 * theta_norm2 + q + alpha**2 * beta**2 * s0 * q * np.log(n / delta) / m
    bracket = q * beta**2 + depth**2 * (alpha + 1 / depth) ** 4 * lam1 * n**2 / sk**2 * inner
    return float(alpha**2 * sk / n * bracket)


def xi_theorem6(X, theta, spectrum) -> np.ndarray:
    r"""Ξ of Theorem 6 (Chatterji & Long 2023) with its constant c = 1: (s_k/n)‖(I − P_X)Θ‖²_F.

    s_k = Σ_{i>k} λ_i with k = :func:`critical_index` (b = 1); the norm is the Frobenius norm.
    Returns shape (B,) for Θ of shape (B, d, q), a float for one Θ.

    Used in: Chapter 4, verify.ipynb (Theorem 7's bound against the Ξ of trained networks).
    """
    X = _as_matrix("X", X)
    n, d = X.shape
    lam = np.sort(_spectrum(spectrum, d))[::-1]
    sk = float(lam[critical_index(lam, n):].sum())
    _, perp = rowspan_split(X, theta)
    out = sk / n * np.sum(perp**2, axis=(-2, -1))
    return out if np.ndim(out) else float(out)


def rowspan_variance_bound(X, losses, spectrum) -> float:
    r"""Largest possible |√V_row − √V_ℓ2| given the training losses (from Lemma 10).

    For J networks trained on the noise draws Y_j (X fixed), let V_row be the across-noise
    variance (:func:`noise_variance`) of their row-span parts P_XΘ_j and V_ℓ2 that of the
    interpolants Θ_ℓ2,j = X⁺Y_j. Lemma 10 (Chatterji & Long 2023) gives
    ‖P_XΘ_j − Θ_ℓ2,j‖_F ≤ ‖X⁺‖_op √ℒ_j. The reverse triangle inequality for the norm
    ‖Σ^{1/2}·‖_F of the centred stack, and centring not increasing that norm, give

        |√V_row − √V_ℓ2| ≤ ‖X⁺‖_op √(λ_max(Σ) Σ_j ℒ_j / (J − 1)),

    which is 0 at interpolation: the row-span part has *exactly* the variance of Θ_ℓ2.

    Parameters
    ----------
    X : array (n, d)
    losses : array (J,)
        ℒ(Θ_j) = ‖Y_j − XΘ_j‖²_F, ``>= 0``, J ≥ 2.
    spectrum : array (d,)

    Used in: Chapter 4, verify.ipynb (the exact row-span variance identity).
    """
    X = _as_matrix("X", X)
    lam = _spectrum(spectrum, X.shape[1])
    losses = np.asarray(losses, dtype=float).ravel()
    if losses.size < 2 or np.any(~np.isfinite(losses)) or np.any(losses < 0):
        raise ValueError("losses must hold J >= 2 finite values >= 0")
    pinv = float(np.linalg.norm(min_norm_operator(X), 2))
    return pinv * float(np.sqrt(lam.max() * losses.sum() / (losses.size - 1)))


# ----------------------------------------------------------------- the paper's Figure 3 setting
#: The setting of the authors' dimension sweep (their Figure 3): n, k, ε, q, ‖Θ*‖_F, σ, L, β, and
#: their width rule m = 10(d + q).
FIG3_SETTING = {"n": 100, "k": 10, "eps": 0.01, "q": 3, "theta_norm": 1.0, "sigma": 1.0,
                "depth": 3, "beta": 1.0, "width_factor": 10}
#: The dimensions of the sweep.
FIG3_DIMENSIONS = (200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800, 2000)
#: The test risks of the minimum-norm interpolant logged by the authors' runs (20 runs per d), as
#: given in the chapter spec.
FIG3_LOGGED_OLS_RISK = (3.46, 1.22, 0.86, 0.735, 0.645, 0.549, 0.473, 0.446, 0.420, 0.398)


# ----------------------------------------------------------------- the explorer
@dataclass
class Exploration:
    """What :func:`explore_run` measures for one setting (see there)."""

    params: dict
    bias_l2: float
    var_l2: float
    var_l2_mc: float
    bias_net: float
    var_net: float
    var_row: float
    norms: dict
    loss: float
    steps: int
    converged: bool
    notes: list


def explore_run(*, depth: int = 3, width: int = 304, alpha: float = 0.01, beta: float = 1.0,
                d: int = 150, n: int = 30, sigma: float = 1.0, seed: int = 0, q: int = 2,
                k: int = 3, eps: float = 0.05, draws: int = 16, tol: float = 1e-10,
                max_steps: int = 20000) -> Exploration:
    r"""Train one network initialisation on ``draws`` noise draws (X, Θ*, init fixed) and split
    its risk into bias and variance, next to the exact split of the min-norm interpolant.

    Network (Monte Carlo over the J noise draws): variance V̂ = :func:`noise_variance`, bias
    ‖Σ^{1/2}(Θ̄ − Θ*)‖²_F − V̂/J (unbiased). Min-norm: exact bias tr(Θ*ᵀBΘ*) and variance σ²q tr(C)
    (:func:`overparam.min_norm_bias_variance`). ``norms`` holds, for the first draw, ‖Θ_ℓ2‖_F,
    ‖P_XΘ − Θ_ℓ2‖_F (Lemma 10), ‖(I − P_X)Θ‖_F and ‖(I − P_X)Θ⁽⁰⁾‖_F (the part the initialisation
    leaves outside the row span, Lemma 19). ``var_row`` is the across-noise variance of the
    row-span parts P_XΘ_j alone: at interpolation P_XΘ_j = Θ_ℓ2,j (Lemma 10), so it equals
    ``var_l2_mc`` up to the training tolerance, and ``var_net − var_row`` is the noise that reaches
    Θ through its part outside the row span (counted in Ξ). ``notes`` lists the deviations from
    the displayed parts of Theorem 7's assumptions (:func:`theorem7_conditions`, unknown
    constants set to 1).

    The problem is drawn from ``seed``, the initialisation from ``seed + 1``, the noise draws from
    ``seed + 2, …`` (exact in law at any width, see :func:`init_reduced`).

    Used in: Chapter 4, explore.ipynb.
    """
    spectrum = spike_spectrum(d, k, eps)
    prob = draw_problem(seed, n=n, d=d, q=q, spectrum=spectrum, sigma=sigma)
    draws = require_int("draws", draws, low=2)
    noise = noise_draws(range(seed + 2, seed + 2 + draws), n=n, q=q, sigma=sigma)
    Ys = prob.labels(noise)
    ri = init_reduced(seed + 1, prob.X, m=width, q=q, alpha=alpha, beta=beta)
    fit = train(prob.X, Ys, ri.W1, ri.WL, depth=depth, tol=tol, max_steps=max_steps)
    th_l2 = min_norm_batch(prob.X, Ys)
    bias_l2, var_l2 = min_norm_bias_variance(prob.X, spectrum, prob.theta_star, sigma**2)
    var_net = noise_variance(fit.theta, spectrum)
    bias_net = risks(fit.theta.mean(0), prob.theta_star, spectrum) - var_net / draws
    row, perp = rowspan_split(prob.X, fit.theta[0])
    _, perp0 = rowspan_split(prob.X, (ri.WL @ ri.W1).T)
    norms = {
        r"\Theta_{\ell_2}": float(np.linalg.norm(th_l2[0])),
        r"P_X\Theta - \Theta_{\ell_2}": float(np.linalg.norm(row - th_l2[0])),
        r"(I - P_X)\Theta": float(np.linalg.norm(perp)),
        r"(I - P_X)\Theta^{(0)}": float(np.linalg.norm(perp0)),
    }
    notes = [f"outside the displayed assumptions of Theorem 7 (c = 1): {text} fails"
             for text, ok in theorem7_conditions(n=n, d=d, q=q, m=width, alpha=alpha,
                                                 beta=beta, spectrum=spectrum) if not ok]
    converged = bool(np.all(fit.stop_step < max_steps))
    if not converged:
        notes.append(f"not interpolating after {max_steps} steps: ℒ = {fit.loss.max():.2g}")
    return Exploration(
        params=dict(depth=depth, width=width, alpha=alpha, beta=beta, d=d, n=n, sigma=sigma,
                    seed=seed, q=q, k=k, eps=eps, draws=draws),
        bias_l2=bias_l2, var_l2=var_l2, var_l2_mc=noise_variance(th_l2, spectrum),
        bias_net=float(bias_net), var_net=var_net,
        var_row=noise_variance(rowspan_split(prob.X, fit.theta)[0], spectrum), norms=norms,
        loss=float(fit.loss.max()),
        steps=int(fit.stop_step.max()), converged=converged, notes=notes,
    )


# ----------------------------------------------------------------- plots
def _plotting():
    from . import plotting

    return plotting


_L2 = r"\Theta_{\ell_2}"


def _plain_log_ticks(ax) -> None:
    """Ticks at 1, 2, 5 × 10ᵏ labelled 0.2, 0.5, 1, 2 (not 2×10⁻¹) on a log y axis."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_lemmas(histories: dict, alphas: Sequence[float], reduction_error: dict, *,
                show_alpha: int = -1):
    """Figure: the structural lemmas along training, one curve per depth (2 × 2 panels).

    (a) ℒ(Θ⁽ᵗ⁾); (b) ‖P_XΘ⁽ᵗ⁾ − Θ_ℓ2‖_F and the Lemma 10 bound ‖X⁺‖‖XΘ⁽ᵗ⁾ − Y‖_F, both for
    α = ``alphas[show_alpha]``; (c) the relative errors of Lemmas 19 and 20, worst over every α;
    (d) the relative difference between the full-width and the width-reduced networks. In (a)
    and (b) the depths nearly coincide; their markers are staggered so that each stays visible.

    Parameters
    ----------
    histories : dict
        Depth L ↦ the engine History of a full-width run with :func:`lemma_metrics` recorded, one
        batch element per α.
    alphas : sequence of float
        The α of each batch element.
    reduction_error : dict
        Depth L ↦ array (len(alphas),) of ‖Θ_full − Θ_reduced‖_F / ‖Θ_full‖_F.

    Used in: Chapter 4, verify.ipynb (Figure 1).
    """
    pl = _plotting()
    fig, ax = pl.figure(2, 2, width=8.2, height=6.2)
    a = _sci(alphas[show_alpha])
    floor = 1e-18
    for i, (L, h) in enumerate(sorted(histories.items())):
        keep = h.steps >= 1
        t = h.steps[keep]
        c = pl.color(i)
        every = (i, 3)  # staggered markers: the depths' curves coincide
        ax[0].plot(t, h["loss"][keep, show_alpha], color=c, marker=pl.MARKERS[i], ms=4,
                   markevery=every, label=f"L = {L}")
        ax[1].plot(t, h["rowspan_gap"][keep, show_alpha], color=c, marker=pl.MARKERS[i], ms=4,
                   markevery=every, label=f"L = {L}")
        ax[1].plot(t, h["lemma10_bound"][keep, show_alpha], color=c, ls="--", lw=1.1)
        ax[2].plot(t, np.maximum(h["lemma20"][keep].max(1), floor), color=c,
                   marker=pl.MARKERS[i], markevery=8, label=f"Lemma 20, L = {L}")
        ax[2].plot(t, np.maximum(h["lemma19"][keep].max(1), floor), color=c, ls=":", lw=1.4,
                   label=f"Lemma 19, L = {L}")
        pos = np.asarray(alphas) > 0
        ax[3].plot(np.asarray(alphas)[pos], np.maximum(reduction_error[L][pos], floor), color=c,
                   marker=pl.MARKERS[i], label=f"L = {L}")
    ax[1].plot([], [], color="k", ls="--", lw=1.1, label="Lemma 10 bound")
    for k in (2, 3):
        ax[k].axhline(1e-10, color="k", lw=1, ls="--", label=r"check: $10^{-10}$")
        ax[k].set_ylim(1e-18, 1e-6)
    pl.label(ax[0], "GD step t", rf"training loss $\mathcal{{L}}$ ($\alpha = {a}$)",
             xscale="log", yscale="log")
    pl.label(ax[1], "GD step t", rf"$\|P_X\Theta - {_L2}\|_F$ ($\alpha = {a}$)", xscale="log",
             yscale="log")
    pl.label(ax[2], "GD step t", r"relative error, worst over $\alpha$", xscale="log",
             yscale="log")
    ax[2].legend(ncol=2, fontsize=7, loc="upper left")
    pl.label(ax[3], r"first-layer scale $\alpha$", "full width vs reduced: rel. difference",
             xscale="log", yscale="log")
    ax[3].legend(loc="center right")
    _panel_letters(ax)
    return fig


def _sci(x: float) -> str:
    """Mathtext for a number: 0.01 ↦ 10^{-2}, 0.003 ↦ 3 \\cdot 10^{-3}, 0 ↦ 0."""
    if x == 0:
        return "0"
    mant, exp = f"{x:.0e}".split("e")
    power = f"10^{{{int(exp)}}}"
    return power if mant == "1" else rf"{mant} \cdot {power}"


def _panel_letters(ax) -> None:
    for k, letter in enumerate("abcdefgh"[:len(ax)]):
        ax[k].text(0.0, 1.02, f"({letter})", transform=ax[k].transAxes, fontsize=10)


def plot_variance(labels: Sequence[str], deviations: Sequence[float],
                  thresholds: Sequence[float], risk_l2, risk_net, risk_ctrl, *,
                  rowspan: dict | None = None, net_label: str, ctrl_label: str,
                  floor: float = 1e-16):
    r"""Figure: (a) relative deviations |V/V_ref − 1| of across-noise variances on a log axis,
    each row with the threshold of its check (a black bar); (b) per noise draw, the network's
    risk against the min-norm risk.

    Parameters
    ----------
    labels : row labels, top to bottom (mathtext allowed).
    deviations : array (rows,)
        |V/V_ref − 1| of each row (values below ``floor`` are drawn at ``floor``).
    thresholds : array (rows,)
        The threshold of each row's check.
    risk_l2, risk_net, risk_ctrl : arrays (J,)
        Per-draw risks of Θ_ℓ2, of a network inside Theorem 7, of the negative control.
    rowspan : dict, optional
        Row index ↦ |V_row/V_ℓ2 − 1| of the row-span part P_XΘ alone (hollow diamonds).
    net_label, ctrl_label : legend labels of (b).

    Used in: Chapter 4, verify.ipynb (Figure 2).
    """
    pl = _plotting()
    fig, ax = pl.figure(2, width=9.0, height=3.9, gridspec_kw={"width_ratios": [1.35, 1]})
    y = np.arange(len(labels))[::-1].astype(float)
    dev = np.maximum(np.asarray(deviations, dtype=float), floor)
    thr = np.asarray(thresholds, dtype=float)
    cols = ["0.35"] + [pl.color(i) for i in range(len(labels) - 2)] + [pl.color(3)]
    ax[0].vlines(thr, y - 0.35, y + 0.35, color="k", lw=2.2, label="threshold of the check")
    for yi, v, c in zip(y, dev, cols, strict=True):
        ax[0].plot([v], [yi], ls="none", marker="o", ms=7, color=c)
        ax[0].text(v, yi + 0.2, f"{v:.1e}", ha="center", va="bottom", fontsize=7.5)
    if rowspan:
        rows = sorted(rowspan)
        ax[0].plot(np.maximum([rowspan[r] for r in rows], floor), y[rows], ls="none",
                   marker="D", ms=6, mfc="none", mec="k", mew=1.1,
                   label=r"row-span part $P_X\Theta$ alone")
    ax[0].plot([], [], ls="none", marker="o", ms=7, color="0.5", label=r"whole $\Theta$")
    ax[0].set_yticks(y, labels)
    ax[0].set_ylim(y.min() - 0.6, y.max() + 1.9)  # room for the legend above the rows
    smallest = min([dev.min(), *(max(v, floor) for v in (rowspan or {}).values())])
    ax[0].set_xlim(10.0 ** (np.floor(np.log10(smallest)) - 2), 30)
    ax[0].grid(axis="y", visible=False)
    pl.label(ax[0], "relative deviation of the variance |V / reference − 1|", "estimator",
             xscale="log")
    ax[0].legend(fontsize=7, loc="upper left", ncol=2)
    lo = min(np.min(risk_l2), np.min(risk_net), np.min(risk_ctrl))
    hi = max(np.max(risk_l2), np.max(risk_net), np.max(risk_ctrl))
    ax[1].plot([lo, hi], [lo, hi], color="k", lw=1, label="equal risk")
    ax[1].scatter(risk_l2, risk_net, s=12, color=pl.color(1), label=net_label)
    ax[1].scatter(risk_l2, risk_ctrl, s=12, color=pl.color(3), marker="s", label=ctrl_label)
    pl.label(ax[1], rf"risk of ${_L2}$ (one noise draw)", "risk of the network, same draw")
    ax[1].legend(fontsize=7, loc="upper left")
    _panel_letters(ax)
    return fig


def plot_bias(alphas: Sequence[float], gaps: dict, prediction: Sequence[float], bound7: dict,
              widths: Sequence[int], width_gaps: dict, width_prediction: Sequence[float],
              width_bound7: dict, *, width_alpha: float):
    r"""Figure: the risk gap Risk(Θ) − Risk(Θ_ℓ2) against (a) α at fixed width and (b) the width m
    at fixed α (log–log, mean over seeds with two standard errors), one curve per depth, with the
    derived prediction α²β²qm tr(B) (:func:`init_bias_prediction`, dashed) and the bound on Ξ
    displayed in Theorem 7 with c = 1 (:func:`theorem7_xi_bound`, dotted, one per depth).

    Parameters
    ----------
    alphas : the α grid (may include 0, which is not drawn on the log axis).
    gaps : dict
        Depth L ↦ array (S, len(alphas)) of per-seed gaps.
    prediction : array (len(alphas),)
        Mean over seeds of :func:`init_bias_prediction`.
    bound7 : dict
        Depth L ↦ array (len(alphas),) of :func:`theorem7_xi_bound`.
    widths : the width grid of (b).
    width_gaps : dict
        Depth L ↦ array (S, len(widths)).
    width_prediction : array (len(widths),)
    width_bound7 : dict
        Depth L ↦ array (len(widths),).
    width_alpha : float
        The α of (b).

    Used in: Chapter 4, verify.ipynb (Figure 3).
    """
    pl = _plotting()
    fig, ax = pl.figure(2, width=9.0, height=3.8)
    a = np.asarray(alphas, dtype=float)
    pos = a > 0
    w = np.asarray(widths, dtype=float)
    for i, L in enumerate(sorted(gaps)):
        c = pl.color(i)
        for k, (x, g, keep) in enumerate(((a, gaps[L], pos), (w, width_gaps[L], w > 0))):
            se = g.std(0, ddof=1) / np.sqrt(g.shape[0])
            ax[k].errorbar(x[keep] * (1 + 0.06 * (i - 1)), g.mean(0)[keep], yerr=2 * se[keep],
                           color=c, marker=pl.MARKERS[i], ls="-", capsize=2,
                           label=f"network, L = {L}")
        ax[0].plot(a[pos], np.asarray(bound7[L])[pos], color=c, ls=":", lw=1.5)
        ax[1].plot(w, width_bound7[L], color=c, ls=":", lw=1.5)
    ax[0].plot(a[pos], np.asarray(prediction)[pos], color="k", ls="--", lw=1.2)
    ax[1].plot(w, width_prediction, color="k", ls="--", lw=1.2,
               label=r"$\alpha^2\beta^2 qm\,\mathrm{tr}(B)$ (initialisation)")
    ax[1].plot([], [], color="k", ls=":", lw=1.5,
               label="Theorem 7's Ξ bound, c = 1\n(displayed terms; colour: L)")
    gap_label = rf"mean Risk$(\Theta)$ − Risk$({_L2})$"
    pl.label(ax[0], r"first-layer scale $\alpha$ (width $m = 304$)", gap_label, xscale="log",
             yscale="log")
    pl.label(ax[1], rf"width $m$ ($\alpha = {_sci(width_alpha)}$)", gap_label, xscale="log",
             yscale="log")
    from matplotlib.ticker import NullFormatter

    ax[1].set_xticks(w, [f"{int(v)}" for v in w])
    ax[1].xaxis.set_minor_formatter(NullFormatter())
    ax[0].legend(fontsize=7.5, loc="upper left")
    ax[1].legend(fontsize=7, loc="center right")
    _panel_letters(ax)
    return fig


def plot_fig3_min_norm(dims: Sequence[int], risk_l2, logged: Sequence[float], tr_c,
                       shape: Sequence[float]):
    """Figure: the minimum-norm interpolant in the authors' Figure 3 setting.

    (a) exact risk against d (mean over draws of X and Θ*) with the authors' logged values;
    (b) E tr(C) (the variance per output at σ = 1) against the BLLT shape k/n + n/R_k.

    Parameters
    ----------
    risk_l2, tr_c : arrays (D, len(dims))

    Used in: Chapter 4, verify.ipynb (Figure 4).
    """
    pl = _plotting()
    fig, ax = pl.figure(2, width=8.6, height=3.4)
    dims = np.asarray(dims)
    ax[0].plot(dims, risk_l2.mean(0), color=pl.color(0), marker="o",
               label=rf"${_L2}$, exact (this book)")
    ax[0].plot(dims, logged, color="k", marker="x", ls="none", ms=7,
               label=rf"${_L2}$, authors' runs")
    pl.label(ax[0], "dimension d", "excess risk", yscale="log")
    _plain_log_ticks(ax[0])
    ax[1].plot(dims, tr_c.mean(0), color=pl.color(1), marker="s",
               label=r"$\mathbb{E}\,\mathrm{tr}(C)$ (exact)")
    ax[1].plot(dims, shape, color="k", ls="--", label=r"$k/n + n/R_k$")
    pl.label(ax[1], "dimension d", r"variance per output ($\sigma = 1$)", yscale="log")
    _plain_log_ticks(ax[1])
    _panel_letters(ax)
    return fig


def plot_fig3_deep(deep_dims: Sequence[int], deep_gaps: dict, deep_pred: dict,
                   deep_bound7: dict | None = None):
    """Figure: deep networks on the Figure 3 sweep: their risk gap to Θ_ℓ2 on the same draws
    (mean over draws) against d, with the derived prediction α²β²qm tr(B) (dashed) and, if given,
    the bound on Ξ displayed in Theorem 7 with c = 1 (dotted).

    Parameters
    ----------
    deep_gaps : dict α ↦ array (S, len(deep_dims)) (α = 0 is skipped: its gap is at rounding
        level); deep_pred, deep_bound7 : dicts α ↦ array (len(deep_dims),)

    Used in: Chapter 4, verify.ipynb (Figure 5).
    """
    pl = _plotting()
    fig, ax = pl.figure(1, width=5.6, height=3.8)
    for i, (a, g) in enumerate(sorted(deep_gaps.items())):
        if a == 0:
            continue
        c = pl.color(i + 2)
        ax.plot(deep_dims, g.mean(0), color=c, marker=pl.MARKERS[i],
                label=rf"network, $\alpha = {_sci(a)}$")
        ax.plot(deep_dims, deep_pred[a], color=c, ls="--", lw=1.1)
        if deep_bound7 is not None:
            ax.plot(deep_dims, deep_bound7[a], color=c, ls=":", lw=1.5)
    ax.plot([], [], color="k", ls="--", lw=1.1, label=r"$\alpha^2\beta^2 qm\,\mathrm{tr}(B)$")
    if deep_bound7 is not None:
        ax.plot([], [], color="k", ls=":", lw=1.5, label="Theorem 7's Ξ bound, c = 1")
    pl.label(ax, "dimension d", rf"Risk$(\Theta)$ − Risk$({_L2})$, L = 3", yscale="log")
    ax.legend(fontsize=7.5, loc="center right")
    return fig


def plot_explore(res: Exploration):
    """Figure for the explorer: (a) bias and variance of the network and of Θ_ℓ2; (b) the norms
    of the row-span / orthogonal decomposition of Θ (dots on a log axis).

    Used in: Chapter 4, explore.ipynb.
    """
    pl = _plotting()
    fig, ax = pl.figure(2, width=8.6, height=3.6)
    x = np.arange(2)
    bias = [res.bias_l2, res.bias_net]
    var = [res.var_l2, res.var_net]
    ax[0].bar(x, bias, color=pl.color(0), width=0.55, label="bias")
    ax[0].bar(x, var, bottom=bias, color=pl.color(1), width=0.55, label="variance")
    ax[0].plot([0], [res.bias_l2 + res.var_l2_mc], ls="none", marker="_", ms=22, mew=2,
               color="k", label=rf"${_L2}$ with the draws' own variance")
    ax[0].set_xticks(x, [rf"${_L2}$ (exact)", f"network (L = {res.params['depth']})"])
    top = max(b + v for b, v in zip(bias, var, strict=True))
    for xi, b, v in zip(x, bias, var, strict=True):
        ax[0].text(xi, b + v + 0.02 * top, f"bias {b:.3f}\nvariance {v:.3f}", ha="center",
                   va="bottom", fontsize=8)
    ax[0].set_ylim(0, 1.6 * top)
    ax[0].grid(axis="x", visible=False)
    pl.label(ax[0], "estimator", "excess risk", legend=True)
    ax[0].legend(fontsize=7, loc="upper left")
    names = list(res.norms)
    floor = 1e-16
    vals = np.array([res.norms[k] for k in names])
    cols = ["0.35", pl.color(2), pl.color(3), pl.color(4)]
    y = np.arange(len(names))[::-1]
    for yi, v, c in zip(y, vals, cols, strict=True):
        ax[1].plot([max(v, floor)], [yi], ls="none", marker="o", ms=8, color=c)
        text = f"{v:.2g}" if v >= floor else f"{v:.0g} (below the axis)"
        ax[1].text(max(v, floor) * 4, yi, text, va="center", fontsize=8)
    ax[1].set_yticks(y, [rf"$\|{k}\|_F$" for k in names])
    ax[1].set_ylim(y.min() - 0.6, y.max() + 0.6)
    smallest = max(vals.min(), floor)
    ax[1].set_xlim(10.0 ** (np.floor(np.log10(smallest)) - 2), 10.0 ** (
        np.ceil(np.log10(max(vals.max(), floor))) + 3))
    ax[1].grid(axis="y", visible=False)
    pl.label(ax[1], "Frobenius norm (first noise draw)", r"part of $\Theta$", xscale="log")
    _panel_letters(ax)
    return fig
