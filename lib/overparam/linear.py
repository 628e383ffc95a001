r"""Linear estimators and their exact risks: the minimum ℓ2-norm interpolant, basis pursuit
(minimum ℓ1-norm interpolation), and closed-form bias and variance.

For a linear estimator θ̂ = A y of y = Xθ* + ξ, ξ ~ N(0, σ²I), conditionally on X:

* excess risk of any θ̂: R(θ̂) = (θ̂ − θ*)ᵀ Σ (θ̂ − θ*) (a trace over outputs when θ̂ is a matrix);
* conditional variance: σ² tr(Aᵀ Σ A);
* minimum-norm interpolant: A = Xᵀ(XXᵀ)⁻¹, bias θ*ᵀ B θ* with B = (I − P_X) Σ (I − P_X), variance
  σ² tr(C) with C = (XXᵀ)⁻¹ X Σ Xᵀ (XXᵀ)⁻¹ (Bartlett, Long, Lugosi & Tsigler, PNAS 2020).

``Sigma`` may be a full matrix (d, d) or the diagonal of a diagonal covariance (d,).

Used in: Chapter 3 (Chatterji & Long, JMLR 2022), Chapter 4 (Chatterji & Long, JMLR 2023).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
from scipy.optimize import linprog

from ._validate import require_finite_array

__all__ = [
    "min_norm_operator",
    "min_norm_interpolant",
    "excess_risk",
    "estimator_variance",
    "min_norm_bias_variance",
    "BasisPursuitError",
    "BasisPursuitResult",
    "basis_pursuit",
    "effective_ranks",
]


def _as_matrix(name: str, X) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n, d), got shape {X.shape}")
    require_finite_array(name, X)
    return X


def _sigma_times(Sigma, M: np.ndarray) -> np.ndarray:
    """Σ M for Σ given as a (d,) diagonal or a (d, d) matrix."""
    S = np.asarray(Sigma, dtype=float)
    if S.ndim == 1:
        if S.shape[0] != M.shape[0]:
            raise ValueError(f"Sigma must have d = {M.shape[0]} entries, got {S.shape[0]}")
        return S[:, None] * M if M.ndim == 2 else S * M
    if S.shape != (M.shape[0], M.shape[0]):
        raise ValueError(f"Sigma must have shape ({M.shape[0]}, {M.shape[0]}), got {S.shape}")
    return S @ M


def min_norm_operator(X) -> np.ndarray:
    """Xᵀ(XXᵀ)⁻¹, shape (d, n): the map y ↦ minimum ℓ2-norm interpolant. Needs rank(X) = n ≤ d."""
    X = _as_matrix("X", X)
    n, d = X.shape
    if n > d:
        raise ValueError(f"X must have at least as many columns as rows, got shape {X.shape}")
    try:
        c = sla.cho_factor(X @ X.T)
    except np.linalg.LinAlgError as err:
        raise ValueError("X must have full row rank (XXᵀ is singular)") from err
    return sla.cho_solve(c, X).T


def min_norm_interpolant(X, y) -> np.ndarray:
    """θ̂ = Xᵀ(XXᵀ)⁻¹y, for y of shape (n,) or (n, q)."""
    X = _as_matrix("X", X)
    y = np.asarray(y, dtype=float)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have n = {X.shape[0]} rows, got {y.shape[0]}")
    return min_norm_operator(X) @ y


def excess_risk(theta_hat, theta_star, Sigma) -> float:
    """R(θ̂) = tr((θ̂ − θ*)ᵀ Σ (θ̂ − θ*)) — exact, no test set (Lemma 4 of Chatterji & Long 2022)."""
    D = np.asarray(theta_hat, dtype=float) - np.asarray(theta_star, dtype=float)
    return float(np.sum(D * _sigma_times(Sigma, D)))


def estimator_variance(A, Sigma, sigma2: float) -> float:
    """σ² tr(Aᵀ Σ A): the conditional variance (per output) of the linear estimator y ↦ A y."""
    A = np.asarray(A, dtype=float)
    if sigma2 < 0:
        raise ValueError(f"sigma2 must be >= 0, got {sigma2}")
    return float(sigma2 * np.sum(A * _sigma_times(Sigma, A)))


def min_norm_bias_variance(X, Sigma, theta_star, sigma2: float) -> tuple[float, float]:
    """Exact conditional (bias, variance) of the minimum-norm interpolant.

    bias = tr(Θ*ᵀ B Θ*) with B = (I − P_X)Σ(I − P_X); variance = σ² q tr(C),
    C = (XXᵀ)⁻¹XΣXᵀ(XXᵀ)⁻¹, q the number of outputs (columns of Θ*).
    """
    X = _as_matrix("X", X)
    T = np.asarray(theta_star, dtype=float)
    T2 = T[:, None] if T.ndim == 1 else T
    Aop = min_norm_operator(X)  # (d, n)
    resid = T2 - Aop @ (X @ T2)  # (I − P_X) Θ*
    bias = float(np.sum(resid * _sigma_times(Sigma, resid)))
    var = estimator_variance(Aop, Sigma, sigma2) * T2.shape[1]
    return bias, var


class BasisPursuitError(RuntimeError):
    """The basis-pursuit linear program failed or is infeasible; the message gives the status."""


@dataclass
class BasisPursuitResult:
    """Solution of min ‖θ‖₁ s.t. Xθ = y.

    Attributes
    ----------
    theta : ndarray (d,)
    status : int
        scipy/HiGHS status (0 = optimal).
    message : str
    seconds : float
        Wall time of the solve.
    residual : float
        ‖Xθ − y‖₂.
    """

    theta: np.ndarray
    status: int
    message: str
    seconds: float
    residual: float

    def support(self, rel_tol: float = 1e-9) -> np.ndarray:
        """Indices with |θ_i| > rel_tol · ‖θ‖_∞."""
        t = np.abs(self.theta)
        return np.flatnonzero(t > rel_tol * t.max()) if t.max() > 0 else np.array([], int)


def basis_pursuit(X, y) -> BasisPursuitResult:
    """Minimum ℓ1-norm interpolation by a linear program (HiGHS through scipy).

    Writes θ = u − v with u, v ≥ 0 and solves min 1ᵀ(u + v) s.t. X(u − v) = y. HiGHS returns a
    vertex, hence at most n non-zeros (Chatterji & Long 2022, Lemmas 10–11: the minimizer is a.s.
    unique and n-sparse).

    Raises
    ------
    BasisPursuitError
        If the solver does not report an optimal solution (the status and message are included).
    """
    X = _as_matrix("X", X)
    y = np.asarray(y, dtype=float).ravel()
    n, d = X.shape
    if y.shape[0] != n:
        raise ValueError(f"y must have n = {n} entries, got {y.shape[0]}")
    require_finite_array("y", y)
    t0 = time.perf_counter()
    res = linprog(np.ones(2 * d), A_eq=np.hstack([X, -X]), b_eq=y, bounds=(0, None),
                  method="highs")
    seconds = time.perf_counter() - t0
    if res.status != 0 or res.x is None:
        raise BasisPursuitError(
            f"basis pursuit LP did not solve (HiGHS status {res.status}: {res.message})"
        )
    theta = res.x[:d] - res.x[d:]
    return BasisPursuitResult(theta, int(res.status), str(res.message), seconds,
                              float(np.linalg.norm(X @ theta - y)))


def effective_ranks(eigenvalues, k: int) -> tuple[float, float]:
    """The effective ranks (r_k, R_k) of Bartlett et al. (PNAS 2020).

    With λ₁ ≥ λ₂ ≥ …: r_k = Σ_{i>k} λ_i / λ_{k+1} and R_k = (Σ_{i>k} λ_i)² / Σ_{i>k} λ_i².
    """
    lam = np.sort(np.asarray(eigenvalues, dtype=float))[::-1]
    if not 0 <= k < lam.size:
        raise ValueError(f"k must satisfy 0 <= k < {lam.size}, got {k}")
    if np.any(lam < 0):
        raise ValueError("eigenvalues must be >= 0")
    tail = lam[k:]
    s = tail.sum()
    if tail[0] <= 0:
        raise ValueError("the (k+1)-th eigenvalue must be > 0")
    return float(s / tail[0]), float(s * s / np.sum(tail * tail))
