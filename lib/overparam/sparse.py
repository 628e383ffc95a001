r"""Sparse versus dense interpolation: the (k, p, n, ε, σ)-scenario, basis pursuit against the
minimum ℓ2-norm interpolant, exact risks, lower-bound certificates and sparse interpolators.

Source: N. S. Chatterji and P. M. Long, *Foolish crowds support benign overfitting*, JMLR 23(125),
2022 (arXiv:2110.02914), "Paper A" below. In the (k, p, n, ε, σ)-scenario the rows of
X ∈ R^{n×p} are i.i.d. N(0, Σ), Σ = diag(1, …, 1, ε, …, ε) with k ones (the *head* H = {1..k})
and p − k entries ε (the *tail* T), θ* is supported on the head, and y = Xθ* + ξ with
ξ ~ N(0, σ² I_n). A draw carries the diagonal of Σ as a vector ``lam`` of length p; the risk
formulas and the certificate hold for any diagonal Σ.

What lives here (the linear-algebra core — min-norm interpolation, basis pursuit, exact risk —
is in :mod:`overparam.linear`):

* the data law: :func:`scenario_covariance`, :func:`draw_scenario` (:class:`ScenarioDraw`);
* the two interpolators and everything the chapter measures on one draw: :func:`fit`
  (:class:`Fit`), and :func:`sweep` over grid points and seeds;
* the bounds, as plain functions: :func:`theorem1_shape`, :func:`theorem2_shape`,
  :func:`ols_order`, :func:`bp_order`, :func:`isotropic_ols_variance`,
  :func:`sparse_op_norm_bound`, :func:`explicit_sparse_lower_bound`, :func:`explicit_bp_curve`;
* diagnostics: :func:`risk_split` (Lemma 4), :func:`certificate` (Lemmas 4–5),
  :func:`noise_energy`, :func:`participation_ratio`, :func:`assumption_deviations`,
  :func:`assumption_table`;
* other sparse interpolators (Theorem 1 beyond basis pursuit): :func:`support_interpolant`,
  :func:`random_support`, :func:`screening_support`, :func:`sparse_family`;
* the chapter's figures: the ``plot_*`` functions.

Used in: Chapter 3 (Sparse versus dense interpolation).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from . import plotting
from ._validate import require_choice, require_int, require_real
from .linear import BasisPursuitResult, basis_pursuit, excess_risk, min_norm_operator
from .progressbar import progress
from .rng import numpy_rng

__all__ = [
    "ScenarioDraw",
    "Fit",
    "scenario_covariance",
    "draw_scenario",
    "risk_split",
    "certificate",
    "noise_energy",
    "participation_ratio",
    "fit",
    "sweep",
    "theorem1_shape",
    "theorem2_shape",
    "ols_order",
    "bp_order",
    "isotropic_ols_variance",
    "sparse_op_norm_bound",
    "explicit_sparse_lower_bound",
    "explicit_bp_curve",
    "assumption_deviations",
    "assumption_table",
    "support_interpolant",
    "random_support",
    "screening_support",
    "sparse_family",
    "loglog_slope",
    "format_table",
    "plot_worked_example",
    "plot_isotropic",
    "plot_separation",
    "plot_foolish_crowd",
    "plot_sparse_family",
    "plot_explore",
]

#: Relative threshold under which a coefficient counts as zero (the spec's "10⁻⁹‖θ̂‖_∞").
ZERO_TOL = 1e-9


# ----------------------------------------------------------------------------- the data law
def scenario_covariance(p: int, k: int, ε: float) -> np.ndarray:
    """The diagonal of Σ_{k,ε} = diag(1, …, 1 [k times], ε, …, ε [p − k times]).

    Source: Paper A, Section 2 (the (k, p, n, ε, σ)-scenario).

    Used in: Chapter 3.
    """
    p = require_int("p", p, low=1)
    k = require_int("k", k, low=0, high=p)
    ε = require_real("ε", ε, low=0.0, low_open=True)
    lam = np.full(p, ε)
    lam[:k] = 1.0
    return lam


@dataclass
class ScenarioDraw:
    """One draw of a Gaussian linear-regression design with diagonal covariance.

    Attributes
    ----------
    X : ndarray (n, p)
        Rows i.i.d. N(0, diag(lam)).
    y : ndarray (n,)
        y = X θ* + ξ.
    xi : ndarray (n,)
        The noise ξ ~ N(0, σ² I_n).
    theta_star : ndarray (p,)
    lam : ndarray (p,)
        The diagonal of Σ.
    k : int
        Size of the head H = {0, …, k − 1} (0-based); θ* vanishes off the head.
    σ : float
    seed : int
    """

    X: np.ndarray
    y: np.ndarray
    xi: np.ndarray
    theta_star: np.ndarray
    lam: np.ndarray
    k: int
    σ: float
    seed: int

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[1]

    @property
    def ε(self) -> float:
        """The tail variance."""
        return float(self.lam[self.k])


def draw_scenario(seed: int, n: int, p: int, k: int, ε: float, σ: float, *,
                  truth: str | np.ndarray = "random", theta_norm: float = 1.0) -> ScenarioDraw:
    """Draw X, ξ and θ* of the (k, p, n, ε, σ)-scenario from one seed.

    The generator ``numpy_rng(seed)`` draws, in this order, the n × p standard Gaussian matrix
    (then X = G diag(lam)^{1/2}), the noise ξ, and (for ``truth="random"``) the direction of θ*.
    So two calls with the same seed and sizes share X and ξ whatever the truth.

    Parameters
    ----------
    seed : int
        Each draw comes from its own seed.
    n, p : int
        ``1 <= n < p``: overparameterized, so that interpolation is possible.
    k : int
        Head size, ``0 <= k <= p - n``.
    ε : float
        Tail variance, > 0.
    σ : float
        Noise level, >= 0.
    truth : {"random", "e1", "zero"} or array
        θ* = ``theta_norm`` times a uniformly random unit vector on the head (Paper A's worked
        example), ``theta_norm · e_1`` (needs k >= 1), 0, or an explicit vector of length k or p
        (zero off the head).
    theta_norm : float
        ‖θ*‖₂ for ``"random"`` and ``"e1"``.

    Used in: Chapter 3, every figure.
    """
    n = require_int("n", n, low=1)
    p = require_int("p", p, low=n + 1)
    k = require_int("k", k, low=0, high=p - n)
    σ = require_real("σ", σ, low=0.0)
    theta_norm = require_real("theta_norm", theta_norm, low=0.0)
    lam = scenario_covariance(p, k, ε)
    rng = numpy_rng(seed)
    X = rng.standard_normal((n, p))
    X *= np.sqrt(lam)
    xi = σ * rng.standard_normal(n)
    θ = np.zeros(p)
    if isinstance(truth, str):
        require_choice("truth", truth, ["random", "e1", "zero"])
        if truth != "zero" and k == 0:
            raise ValueError(f"truth={truth!r} needs a head: k must be >= 1")
        if truth == "random":
            u = rng.standard_normal(k)
            θ[:k] = theta_norm * u / np.linalg.norm(u)
        elif truth == "e1":
            θ[0] = theta_norm
    else:
        t = np.asarray(truth, dtype=float).ravel()
        if t.size not in (k, p) or not np.all(np.isfinite(t)):
            raise ValueError(f"truth must be a finite vector of length k = {k} or p = {p}")
        if t.size == p and np.any(t[k:] != 0):
            raise ValueError("truth must vanish off the head (θ*_T = 0 in the scenario)")
        θ[:k] = t[:k]
    y = X @ θ + xi
    return ScenarioDraw(X, y, xi, θ, lam, k, σ, int(seed))


# ----------------------------------------------------------------------------- diagnostics
def risk_split(draw: ScenarioDraw, theta_hat: np.ndarray) -> tuple[float, float]:
    r"""(head bias, tail term) with R(θ̂) = head + tail, exactly.

    head = Σ_{i∈H} λ_i (θ̂_i − θ*_i)², tail = Σ_{i∈T} λ_i θ̂_i²; for Σ_{k,ε} this is Paper A's
    Lemma 4: R(θ̂) = ‖θ*_H − θ̂_H‖² + ε‖θ̂_T‖².

    Used in: Chapter 3.
    """
    D = np.asarray(theta_hat, dtype=float) - draw.theta_star
    w = draw.lam * D * D
    return float(w[: draw.k].sum()), float(w[draw.k:].sum())


def _support(theta: np.ndarray, rel_tol: float = ZERO_TOL) -> np.ndarray:
    t = np.abs(theta)
    m = t.max() if t.size else 0.0
    return np.flatnonzero(t > rel_tol * m) if m > 0 else np.array([], dtype=int)


def _op_norm(M: np.ndarray) -> float:
    """Largest singular value of M (n × s), through the smaller Gram matrix."""
    if M.size == 0:
        return 0.0
    G = M @ M.T if M.shape[0] <= M.shape[1] else M.T @ M
    return float(np.sqrt(max(sla.eigvalsh(G, subset_by_index=[G.shape[0] - 1] * 2)[0], 0.0)))


def certificate(draw: ScenarioDraw, theta_hat: np.ndarray) -> float:
    r"""A per-instance lower bound on the tail part of the risk of an interpolator θ̂.

    With S = supp(θ̂_T) and Z = X Σ^{−1/2} (columns rescaled to unit variance),

        R(θ̂) ≥ Σ_{i∈T} λ_i θ̂_i² ≥ ‖y − X_H θ̂_H‖² / ‖Z_S‖²_op,

    because X_T θ̂_T = y − X_H θ̂_H (Paper A, Lemma 5) equals Z_S (Σ_S^{1/2} θ̂_S) and
    ‖Z_S v‖ ≤ ‖Z_S‖_op ‖v‖ (Lemma 4 for the first inequality). Deterministic: it holds on every
    draw. An inexact interpolant (residual r = Xθ̂ − y) is accounted for by using
    (‖y − X_H θ̂_H‖ − ‖r‖)₊ in the numerator, which keeps the bound valid.

    Returns 0 when θ̂ has no tail coefficient (then nothing is stored in the tail).

    Used in: Chapter 3 (deterministic check on every draw, Theorem 1 beyond basis pursuit).
    """
    θ = np.asarray(theta_hat, dtype=float)
    k = draw.k
    S = k + _support(θ[k:])
    if S.size == 0:
        return 0.0
    resid = float(np.linalg.norm(draw.X @ θ - draw.y))
    head_fit = draw.X[:, :k] @ θ[:k]
    num = max(float(np.linalg.norm(draw.y - head_fit)) - resid, 0.0)
    Z_S = draw.X[:, S] / np.sqrt(draw.lam[S])
    return num**2 / _op_norm(Z_S) ** 2


def noise_energy(draw: ScenarioDraw, theta_hat: np.ndarray) -> dict[str, float]:
    r"""Where an interpolator put the noise: energy stored in the tail and the price paid.

    Returns ``noise`` = ‖ξ‖², ``stored`` = ‖X_T θ̂_T‖² (= ‖y − X_H θ̂_H‖², Lemma 5: what the tail
    must carry), ``price`` = Σ_{i∈T} λ_i θ̂_i² (the tail part of the risk, Lemma 4), and
    ``efficiency`` = stored / price = ‖Z_T v‖²/‖v‖² with v = Σ_T^{1/2} θ̂_T: how many units of
    training-set energy one unit of risk buys. A dense interpolant reaches ≈ p (the "foolish
    crowd"); an s-sparse one at most ‖Z_S‖²_op ≈ (√n + √(2 s log(ep/s)))².

    Used in: Chapter 3 (explore page, proof idea).
    """
    θ = np.asarray(theta_hat, dtype=float)
    k = draw.k
    stored = float(np.sum((draw.X[:, k:] @ θ[k:]) ** 2))
    price = float(np.sum(draw.lam[k:] * θ[k:] ** 2))
    return {"noise": float(draw.xi @ draw.xi), "stored": stored, "price": price,
            "efficiency": stored / price if price > 0 else float("nan")}


def participation_ratio(theta: np.ndarray) -> float:
    r"""‖θ‖₁² / (p ‖θ‖₂²) ∈ [1/p, 1]: the fraction of coordinates that carry θ.

    At most s/p for an s-sparse vector; ≈ 2/π for a vector with i.i.d. Gaussian-like entries.

    Used in: Chapter 3 ("foolish crowd" figure and check).
    """
    θ = np.asarray(theta, dtype=float).ravel()
    n2 = float(θ @ θ)
    if θ.size == 0 or n2 == 0:
        raise ValueError("theta must be a non-zero vector")
    return float(np.abs(θ).sum() ** 2 / (θ.size * n2))


# ----------------------------------------------------------------------------- the two fits
@dataclass
class Fit:
    """Basis pursuit and the minimum-norm interpolant on one draw, and what the chapter measures.

    Risks are exact, from Σ (Lemma 4); ``ols_bias`` and ``ols_variance`` are the exact
    conditional (given X) bias and variance of the minimum-norm interpolant, whose sum is
    E[R(θ̂_OLS) | X]; ``risk_ols`` is the risk of the realized estimate.
    """

    draw: ScenarioDraw
    bp: BasisPursuitResult
    theta_ols: np.ndarray
    risk_bp: float
    risk_ols: float
    split_bp: tuple[float, float]
    split_ols: tuple[float, float]
    ols_bias: float
    ols_variance: float
    cert_bp: float

    @property
    def theta_bp(self) -> np.ndarray:
        return self.bp.theta

    def summary(self) -> dict[str, float]:
        """Scalars for a sweep table."""
        d = self.draw
        ynorm = float(np.linalg.norm(d.y))
        return {
            "risk_bp": self.risk_bp,
            "risk_ols": self.risk_ols,
            "head_bp": self.split_bp[0],
            "tail_bp": self.split_bp[1],
            "head_ols": self.split_ols[0],
            "tail_ols": self.split_ols[1],
            "ols_bias": self.ols_bias,
            "ols_variance": self.ols_variance,
            "cert_bp": self.cert_bp,
            "nnz_bp": float(_support(self.theta_bp).size),
            "rel_residual_bp": self.bp.residual / ynorm if ynorm > 0 else self.bp.residual,
            "l1_bp": float(np.abs(self.theta_bp).sum()),
            "l1_ols": float(np.abs(self.theta_ols).sum()),
            "pr_bp": participation_ratio(self.theta_bp),
            "pr_ols": participation_ratio(self.theta_ols),
            "noise2": float(d.xi @ d.xi),
            "y2": ynorm**2,
            "bp_seconds": self.bp.seconds,
            "bp_gap": self.bp.gap,
        }


def fit(draw: ScenarioDraw, *, bp_method: str = "working-set") -> Fit:
    """Basis pursuit (:func:`overparam.basis_pursuit`) and the minimum-norm interpolant
    θ̂ = Xᵀ(XXᵀ)⁻¹y on ``draw``, with exact risks, their Lemma-4 split, the minimum-norm
    interpolant's exact conditional bias and variance σ² tr(AᵀΣA), and the certificate.

    Used in: Chapter 3.
    """
    X, y, lam = draw.X, draw.y, draw.lam
    bp = basis_pursuit(X, y, method=bp_method)
    A = min_norm_operator(X)  # (p, n)
    θ_ols = A @ y
    resid = draw.theta_star - A @ (X @ draw.theta_star)  # (I − P_X) θ*
    ols_bias = float(np.sum(lam * resid * resid))
    ols_var = float(draw.σ**2 * np.sum(lam[:, None] * A * A))
    return Fit(
        draw=draw,
        bp=bp,
        theta_ols=θ_ols,
        risk_bp=excess_risk(bp.theta, draw.theta_star, lam),
        risk_ols=excess_risk(θ_ols, draw.theta_star, lam),
        split_bp=risk_split(draw, bp.theta),
        split_ols=risk_split(draw, θ_ols),
        ols_bias=ols_bias,
        ols_variance=ols_var,
        cert_bp=certificate(draw, bp.theta),
    )


def sweep(points: Sequence[Mapping], seeds: Sequence[int], *, desc: str | None = None,
          keep: Sequence[tuple[int, int]] = ()) -> dict:
    """Run :func:`fit` on every (grid point, seed): the table of one design.

    Parameters
    ----------
    points : sequence of dicts
        Keyword arguments of :func:`draw_scenario` other than ``seed`` (n, p, k, ε, σ, truth, …).
    seeds : sequence of int
        Every grid point is drawn once per seed, each draw from its own seed.
    keep : sequence of (point index, seed index)
        Fits to keep whole (for pictures), under ``table["fits"][(i, j)]``.

    Returns
    -------
    dict
        ``table[name]`` is an array (len(points), len(seeds)) for every key of
        :meth:`Fit.summary`, plus ``n``, ``p``, ``k``, ``ε``, ``σ`` per point (arrays of
        len(points)), ``seeds`` and ``fits``.

    Used in: Chapter 3, every sweep.
    """
    if not points:
        raise ValueError("points must name at least one grid point")
    seeds = [require_int("seeds[i]", s, low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    rows: dict[str, np.ndarray] = {}
    fits = {}
    keep = set(keep)
    for i, pt in enumerate(progress(points, desc=desc)):
        for j, seed in enumerate(seeds):
            f = fit(draw_scenario(seed, **pt))
            for name, v in f.summary().items():
                rows.setdefault(name, np.empty((len(points), len(seeds))))[i, j] = v
            if (i, j) in keep:
                fits[(i, j)] = f
    table: dict = dict(rows)
    for name in ("n", "p", "k"):
        table[name] = np.array([pt[name] for pt in points], dtype=int)
    table["ε"] = np.array([pt["ε"] for pt in points], dtype=float)
    table["σ"] = np.array([pt["σ"] for pt in points], dtype=float)
    table["seeds"] = np.array(seeds)
    table["fits"] = fits
    return table


# ----------------------------------------------------------------------------- the bounds
def _log_arg(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(x)) or np.any(x <= 1):
        raise ValueError(f"{name} must be > 1 for the bound to be defined")
    return x


def theorem1_shape(n, p, s, σ: float = 1.0):
    r"""σ² n / (s log²(3p/s)): the shape of Paper A's Theorem 1 (constant c3 left out).

    Every (s, δ)-sparse interpolator with n ≤ s ≤ p − k has R(θ̂) ≥ c3 σ² n/(s log²(3p/s)) w.p.
    ≥ 1 − 4δ, under the theorem's assumptions.

    Used in: Chapter 3 (Theorem 1 beyond basis pursuit).
    """
    n, p, s = (np.asarray(v, dtype=float) for v in (n, p, s))
    if np.any(n < 1) or np.any(s < n) or np.any(s > p):
        raise ValueError("theorem1_shape needs 1 <= n <= s <= p")
    return σ**2 * n / (s * np.log(_log_arg("3p/s", 3 * p / s)) ** 2)


def theorem2_shape(n, p, σ: float = 1.0):
    r"""σ² / log²(3p/n): the shape of Paper A's Theorem 2 for basis pursuit (c3 left out).

    Used in: Chapter 3.
    """
    return theorem1_shape(n, p, n, σ)


def ols_order(k, n, p, ε):
    r"""k/n + εp/n + n/p: the order of the minimum-norm interpolant's excess risk in the
    (k, p, n, ε, 1)-scenario with ‖θ*‖ = 1, as quoted by Paper A from Bartlett et al. (2020).

    Used in: Chapter 3 (the worked example p = n², ε = 1/n²: order (k + 2)/n).
    """
    k, n, p, ε = (np.asarray(v, dtype=float) for v in (k, n, p, ε))
    return k / n + ε * p / n + n / p


def bp_order(n, p, σ: float = 1.0):
    r"""σ² / log(p/n): the tight order of basis pursuit's risk for isotropic features (Wang,
    Donhauser & Yang, AISTATS 2022, matching upper and lower bounds).

    Used in: Chapter 3 (isotropic sweep).
    """
    return σ**2 / np.log(_log_arg("p/n", np.asarray(p, dtype=float) / np.asarray(n)))


def isotropic_ols_variance(n, p, σ: float = 1.0):
    r"""E[σ² tr((XXᵀ)⁻¹)] = σ² n / (p − n − 1) for Σ = I: the inverse-Wishart mean (Muirhead
    1982, Section 3.2), the exact expected variance of the minimum-norm interpolant.

    Used in: Chapter 3 (isotropic sweep).
    """
    n, p = np.asarray(n, dtype=float), np.asarray(p, dtype=float)
    if np.any(p <= n + 1):
        raise ValueError("isotropic_ols_variance needs p > n + 1")
    return σ**2 * n / (p - n - 1)


def sparse_op_norm_bound(n, p, s, u: float):
    r"""√n + √s + √(2 s log(e p/s)) + u: with probability ≥ 1 − e^{−u²/2}, every n × s
    submatrix Z_S of an n × p standard Gaussian matrix has ‖Z_S‖_op below it (simultaneously
    for all |S| ≤ s).

    Derivation: for a fixed S, E‖Z_S‖_op ≤ √n + √s (Gordon; Vershynin 2012, Theorem 5.32) and
    ‖Z_S‖_op is 1-Lipschitz in the entries, so P(‖Z_S‖_op ≥ √n + √s + t) ≤ e^{−t²/2} (Gaussian
    concentration; Boucheron, Lugosi & Massart 2013, Theorem 5.6). A union bound over the
    C(p, s) ≤ (ep/s)^s supports with t = √(2 s log(ep/s)) + u, and monotonicity in S, give the
    claim.

    Used in: Chapter 3 (explicit-constant lower bounds).
    """
    n, p, s = (np.asarray(v, dtype=float) for v in (n, p, s))
    u = require_real("u", u, low=0.0)
    if np.any(n < 1) or np.any(s < 1) or np.any(s > p):
        raise ValueError("sparse_op_norm_bound needs n >= 1 and 1 <= s <= p")
    return np.sqrt(n) + np.sqrt(s) + np.sqrt(2 * s * np.log(np.e * p / s)) + u


def explicit_sparse_lower_bound(energy, n, p, s, u: float):
    r"""energy / (√n + √s + √(2 s log(ep/s)) + u)²: an explicit-constant lower bound.

    For Σ = I (so Z = X) and θ* = 0, every interpolator θ̂ with at most s non-zeros has
    R(θ̂) = ‖θ̂‖² ≥ ‖Xθ̂‖²/‖X_S‖²_op = ‖y‖²/‖X_S‖²_op ≥ ‖y‖²/ :func:`sparse_op_norm_bound`²,
    with probability ≥ 1 − e^{−u²/2} over X, for all such θ̂ at once. ``energy`` is ‖y‖² (the
    noise energy ‖ξ‖² when θ* = 0). In general, with energy = ‖y − X_Hθ̂_H‖² it bounds the tail
    part of the risk. Of order σ²n/(2 s log(ep/s)) for s ≫ n: Theorem 1's shape with one log.

    Used in: Chapter 3.
    """
    return np.asarray(energy, dtype=float) / sparse_op_norm_bound(n, p, s, u) ** 2


def explicit_bp_curve(n, p, σ: float = 1.0, u: float = 3.0):
    r"""σ² n / (2√n + √(2n log(ep/n)) + u)² ≈ σ² / (2 + √(2 log(ep/n)))²: the explicit bound of
    :func:`explicit_sparse_lower_bound` for basis pursuit (s = n) with ‖ξ‖² replaced by its
    mean σ²n. Of order σ²/log(p/n), the tight order.

    Used in: Chapter 3 (isotropic sweep; the checks use each draw's own ‖y‖²).
    """
    return explicit_sparse_lower_bound(σ**2 * np.asarray(n, dtype=float), n, p, n, u)


def assumption_deviations(n: int, p: int, k: int, σ: float, theta_norm: float,
                          c1: float = 1.0) -> list[str]:
    r"""The assumptions of Paper A's Theorems 1–2 that can be checked at a given scale, as lines
    to print next to a figure.

    The theorems hold for any 0 < c1 ≤ 1 with constants c2, c3 depending on c1 only, when
    σ ≥ c1‖θ*‖, p ≥ n + k and n ≥ log²(1/δ) + k^{1+c1} for some 0 ≤ δ ≤ c2. Since c2 is not
    explicit, the last condition is reported as the smallest δ it allows.

    Used in: Chapter 3.
    """
    lines = []
    ok_sigma = σ >= c1 * theta_norm
    lines.append(f"σ ≥ c1‖θ*‖: {σ:g} {'≥' if ok_sigma else '<'} {c1 * theta_norm:g}"
                 + ("" if ok_sigma else "  <-- DEVIATION"))
    ok_p = p >= n + k
    lines.append(f"p ≥ n + k: {p} {'≥' if ok_p else '<'} {n + k}"
                 + ("" if ok_p else "  <-- DEVIATION"))
    need = k ** (1 + c1)
    room = n - need
    if room >= 0:
        lines.append(f"n ≥ k^(1+c1) + log²(1/δ) iff δ ≥ {math.exp(-math.sqrt(room)):.2g}")
    else:
        lines.append(f"n ≥ k^(1+c1): {n} < {need:g}  <-- DEVIATION")
    return lines


def assumption_table(n, p, k, σ: float, theta_norm: float, c1: float = 1.0) -> str:
    r"""The checkable assumptions of Paper A's Theorems 1–2 at several grid points, as a text
    table with one row per point (lines of at most 80 characters).

    Columns: n, p, k; σ ≥ c1‖θ*‖ and p ≥ n + k written out; and the smallest δ for which
    n ≥ k^{1+c1} + log²(1/δ) holds (see :func:`assumption_deviations`). A failed condition is
    marked "NO". ``n``, ``p``, ``k`` are integers or equal-length sequences; σ and theta_norm
    are shared by all points.

    Used in: Chapter 3, verify page (printed next to each figure).
    """
    n, p, k = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v)) for v in (n, p, k)))
    if not all(np.issubdtype(v.dtype, np.integer) for v in (n, p, k)):
        raise ValueError("n, p and k must be integers (or sequences of integers)")
    cols: dict[str, list] = {"n": n, "p": p, "k": k}
    sig, pk, dl = [], [], []
    for ni, pi, ki in zip(n.tolist(), p.tolist(), k.tolist(), strict=True):
        ok = σ >= c1 * theta_norm
        sig.append(f"{σ:g} {'≥' if ok else '<'} {c1 * theta_norm:g}" + ("" if ok else " NO"))
        ok = pi >= ni + ki
        pk.append(f"{pi} {'≥' if ok else '<'} {ni + ki}" + ("" if ok else " NO"))
        room = ni - ki ** (1 + c1)
        dl.append(f"{math.exp(-math.sqrt(room)):.2g}" if room >= 0 else "none: NO")
    cols |= {"σ ≥ c1‖θ*‖": sig, "p ≥ n + k": pk, "δ ≥": dl}
    return format_table(cols)


def format_table(columns: Mapping[str, Sequence]) -> str:
    """An aligned text table, one column per entry (integers as they are, floats with 4
    significant digits, strings as they are).

    Used in: Chapter 3 (the printed summaries of each sweep).
    """
    if not columns:
        raise ValueError("columns must hold at least one column")
    cols = []
    for name, vals in columns.items():
        vals = np.asarray(vals).ravel()
        if vals.dtype.kind in "USO":
            cells = [str(v) for v in vals]
        else:
            cells = [str(int(v)) if np.issubdtype(vals.dtype, np.integer)
                     else f"{float(v):.4g}" for v in vals]
        cols.append([name, *cells])
    if len({len(c) for c in cols}) != 1:
        raise ValueError("every column must have the same length")
    widths = [max(len(x) for x in c) for c in cols]
    return "\n".join("  ".join(c[i].rjust(w) for c, w in zip(cols, widths, strict=True))
                     for i in range(len(cols[0])))


def loglog_slope(x, y) -> float:
    """Least-squares slope of log y against log x.

    Used in: Chapter 3 (decay rates in p).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2 or np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive arrays of the same length >= 2")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


# ----------------------------------------------------------------------------- sparse family
def support_interpolant(X, y, support) -> np.ndarray:
    r"""The minimum ℓ2-norm interpolant supported on S: θ̂_S = X_Sᵀ(X_S X_Sᵀ)⁻¹y, θ̂ = 0 off S.

    An |S|-sparse interpolator (least squares restricted to S; unique when |S| = n). Needs
    |S| ≥ n and X_S of full row rank.

    Used in: Chapter 3 (Theorem 1 beyond basis pursuit).
    """
    X = np.asarray(X, dtype=float)
    S = np.unique(np.asarray(support, dtype=int))
    n, p = X.shape
    if S.size < n:
        raise ValueError(f"support must hold at least n = {n} indices, got {S.size}")
    if S.min() < 0 or S.max() >= p:
        raise ValueError(f"support indices must lie in [0, {p})")
    # X_Sᵀ = QR: θ_S = Q R⁻ᵀ y, without forming X_S X_Sᵀ (whose condition number is squared)
    Q, R = sla.qr(X[:, S].T, mode="economic")
    if np.any(np.abs(np.diag(R)) <= 1e-12 * np.abs(R).max()):
        raise ValueError("X restricted to support must have full row rank")
    θ = np.zeros(p)
    θ[S] = Q @ sla.solve_triangular(R, np.asarray(y, dtype=float), trans="T")
    return θ


def random_support(rng: np.random.Generator, p: int, s: int, keep: Sequence[int] = ()):
    """``keep`` plus s − |keep| indices drawn uniformly without replacement from the rest.

    Used in: Chapter 3.
    """
    keep = np.unique(np.asarray(keep, dtype=int))
    s = require_int("s", s, low=max(keep.size, 1), high=p)
    rest = np.setdiff1d(np.arange(p), keep)
    return np.sort(np.concatenate([keep, rng.choice(rest, s - keep.size, replace=False)]))


def screening_support(X, y, s: int) -> np.ndarray:
    r"""The s columns with the largest |X_jᵀy| / ‖X_j‖ (correlation screening): a greedy,
    data-driven support that uses no oracle knowledge of the head.

    Used in: Chapter 3.
    """
    X = np.asarray(X, dtype=float)
    s = require_int("s", s, low=1, high=X.shape[1])
    score = np.abs(X.T @ np.asarray(y, dtype=float)) / np.linalg.norm(X, axis=0)
    return np.sort(np.argsort(-score, kind="stable")[:s])


def sparse_family(draw: ScenarioDraw, sizes: Sequence[int], *, rng_seed: int,
                  u: float = 3.0) -> dict[str, np.ndarray]:
    r"""Sparse interpolators of each size s on one draw: least squares restricted to a random
    support that keeps the head (an oracle-aided choice) and to the correlation-screening
    support, with their exact risks, certificates and the explicit bound.

    Returns arrays of len(sizes) under ``risk_<rule>``, ``cert_<rule>``, ``nnz_<rule>`` and
    ``relres_<rule>`` (‖Xθ̂ − y‖/‖y‖) for rule in ("random", "screening"); when Σ = I and θ* = 0
    also ``explicit``, the bound ‖y‖² / (√n + √s + √(2s log(ep/s)) + u)² of
    :func:`explicit_sparse_lower_bound`, valid for all of them at once w.p. ≥ 1 − e^{−u²/2}.

    Used in: Chapter 3 (Theorem 1 beyond basis pursuit).
    """
    rng = numpy_rng(rng_seed)
    isotropic_null = bool(np.all(draw.lam == 1.0) and not np.any(draw.theta_star))
    out: dict[str, list] = {}
    for s in sizes:
        s = require_int("s", s, low=draw.n, high=draw.p)
        sup = {"random": random_support(rng, draw.p, s, keep=np.arange(draw.k)),
               "screening": screening_support(draw.X, draw.y, s)}
        for rule, S in sup.items():
            θ = support_interpolant(draw.X, draw.y, S)
            out.setdefault(f"risk_{rule}", []).append(
                excess_risk(θ, draw.theta_star, draw.lam))
            out.setdefault(f"cert_{rule}", []).append(certificate(draw, θ))
            out.setdefault(f"nnz_{rule}", []).append(_support(θ).size)
            out.setdefault(f"relres_{rule}", []).append(
                float(np.linalg.norm(draw.X @ θ - draw.y) / np.linalg.norm(draw.y)))
        if isotropic_null:
            out.setdefault("explicit", []).append(
                float(explicit_sparse_lower_bound(draw.y @ draw.y, draw.n, draw.p, s, u)))
    res = {name: np.asarray(v, dtype=float) for name, v in out.items()}
    res["s"] = np.asarray(sizes, dtype=int)
    return res


# ----------------------------------------------------------------------------- figures
def _plain_ticks(ax, values) -> None:
    """Log-scaled x axis labelled at ``values`` in plain numbers."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.xaxis.set_major_locator(FixedLocator(list(values)))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([f"{v:g}" for v in values])


def _band(ax, x, vals, i: int, label: str, marker: bool = True, stat: str = "median"):
    """The median or mean over seeds (axis 1), with the min–max band."""
    centre = np.median(vals, axis=1) if stat == "median" else np.mean(vals, axis=1)
    plotting.shade_band(ax, x, vals.min(axis=1), vals.max(axis=1), i=i)
    ax.plot(x, centre, marker=plotting.MARKERS[i] if marker else None, color=plotting.color(i),
            label=label)
    return centre


def plot_worked_example(tab: Mapping):
    """Paper A's worked example (k = 5, p = n², ε = 1/n²) as n grows, in four panels, each
    showing the statistic that its check uses: (a) the risks against their shapes; (b) the
    median of R_BP log²(3p/n)/σ² against c3 = 1 (Theorem 2's shape); (c) the median of
    R_OLS n against the pre-registered 20; (d) the ratio of the mean risks against 3.

    Used in: Chapter 3, verify page.
    """
    n = tab["n"]
    p = tab["p"]
    σ = float(tab["σ"][0])
    xlab = r"$n$  ($p = n^2$, $\varepsilon = 1/n^2$)"
    fig, ax = plotting.figure(2, 2, width=9.5, height=6.6)
    _band(ax[0], n, tab["risk_bp"], 0, "basis pursuit")
    _band(ax[0], n, tab["risk_ols"], 1, r"min $\ell_2$-norm")
    ax[0].plot(n, theorem2_shape(n, p, σ), ls="--", color=plotting.color(0),
               label=r"$\sigma^2/\log^2(3p/n)$")
    ax[0].plot(n, ols_order(tab["k"], n, p, tab["ε"]), ls=":", color=plotting.color(1),
               label=r"$k/n + \varepsilon p/n + n/p$")
    plotting.label(ax[0], xlab, r"excess risk $R$ (medians)", xscale="log", yscale="log")
    _band(ax[1], n, tab["risk_bp"] * np.log(3 * p / n)[:, None] ** 2 / σ**2, 0,
          "basis pursuit (median)")
    ax[1].axhline(1.0, color="k", ls="--", lw=1, label=r"$c_3 = 1$ (check: $\geq$)")
    ax[1].set_ylim(bottom=0)
    plotting.label(ax[1], xlab, r"$R_{\mathrm{BP}}\,\log^2(3p/n)\,/\,\sigma^2$", xscale="log")
    _band(ax[2], n, tab["risk_ols"] * n[:, None], 1, r"min $\ell_2$-norm (median)")
    ax[2].axhline(20.0, color="k", ls="--", lw=1, label=r"20 (check: $\leq$, $n \geq 50$)")
    ax[2].set_ylim(0, 27)
    plotting.label(ax[2], xlab, r"$R_{\mathrm{OLS}}\,n$", xscale="log")
    ratio = tab["risk_bp"].mean(axis=1) / tab["risk_ols"].mean(axis=1)
    ax[3].plot(n, ratio, marker="D", color=plotting.color(2), label="ratio of the means")
    ax[3].axhline(3.0, color="k", ls="--", lw=1, label=r"3 (check at the largest $n$: $\geq$)")
    ax[3].set_ylim(bottom=0)
    plotting.label(ax[3], xlab,
                   r"$\overline{R}_{\mathrm{BP}}\,/\,\overline{R}_{\mathrm{OLS}}$ (means)",
                   xscale="log")
    for a, letter in zip(ax, "abcd", strict=True):
        _plain_ticks(a, n)
        a.text(-0.02, 1.03, f"({letter})", transform=a.transAxes, ha="right", va="bottom",
               fontweight="bold")
    return fig


def plot_isotropic(tab0: Mapping, tab1: Mapping | None = None, u: float = 3.0):
    """Isotropic sweep in p/n: basis pursuit (θ* = 0 and θ* = e1) against the explicit lower
    curve and σ²/log(p/n); the minimum-norm interpolant against n/(p − n − 1). Lines are means
    over seeds (the statistic the chapter's checks use), bands min to max.

    Used in: Chapter 3, verify page.
    """
    n, p = tab0["n"], tab0["p"]
    σ = float(tab0["σ"][0])
    r = p / n
    fig, ax = plotting.figure(2, width=9.5, height=3.8)
    _band(ax[0], r, tab0["risk_bp"], 0, r"BP, $\theta^* = 0$", stat="mean")
    if tab1 is not None:
        _band(ax[0], r, tab1["risk_bp"], 3, r"BP, $\theta^* = e_1$", stat="mean")
    _band(ax[0], r, tab0["ols_variance"], 1,
          r"min-norm variance $\sigma^2\,\mathrm{tr}((XX^\top)^{-1})$", stat="mean")
    ax[0].plot(r, bp_order(n, p, σ), ls="--", color="k", label=r"$\sigma^2/\log(p/n)$")
    ax[0].plot(r, explicit_bp_curve(n, p, σ, u), ls="-.", color=plotting.color(0),
               label=f"explicit lower curve, $u = {u:g}$")
    ax[0].plot(r, isotropic_ols_variance(n, p, σ), ls=":", color=plotting.color(1),
               label=r"$\sigma^2 n/(p - n - 1)$")
    plotting.label(ax[0], r"$p/n$", r"excess risk $R$ (means)", xscale="log", yscale="log")
    _band(ax[1], r, tab0["risk_bp"] * np.log(r)[:, None] / σ**2, 0, r"$\theta^* = 0$",
          stat="mean")
    if tab1 is not None:
        _band(ax[1], r, tab1["risk_bp"] * np.log(r)[:, None] / σ**2, 3, r"$\theta^* = e_1$",
              stat="mean")
    ax[1].axhspan(0.6, 1.8, color="0.85", alpha=0.5, lw=0, label="pre-registered [0.6, 1.8]")
    ax[1].set_ylim(0, max(2.2, 1.05 * float(ax[1].get_ylim()[1])))
    plotting.label(ax[1], r"$p/n$", r"$R_{\mathrm{BP}}\,\log(p/n)\,/\,\sigma^2$ (means)",
                   xscale="log")
    return fig


def plot_separation(tab: Mapping):
    """Sparse non-zero truth (θ* = e1, tail eigenvalues ε = 10/(p − 1)): basis pursuit against
    the minimum-norm interpolant as p grows, with their head/tail split (means over seeds,
    bands min to max).

    Used in: Chapter 3, verify page.
    """
    n, p = tab["n"], tab["p"]
    σ = float(tab["σ"][0])
    fig, ax = plotting.figure(2, width=9.5, height=3.8)
    _band(ax[0], p, tab["risk_bp"], 0, "basis pursuit", stat="mean")
    _band(ax[0], p, tab["risk_ols"], 1, r"min $\ell_2$-norm", stat="mean")
    ax[0].plot(p, bp_order(n, p, σ), ls="--", color=plotting.color(0),
               label=r"$\sigma^2/\log(p/n)$")
    ax[0].plot(p, np.mean(tab["ols_bias"] + tab["ols_variance"], axis=1), ls=":",
               color=plotting.color(1), label=r"min-norm $\mathbb{E}[R \mid X]$ (exact)")
    plotting.label(ax[0], r"dimension $p$", r"excess risk $R$ (means)", xscale="log",
                   yscale="log")
    for i, (name, lab) in enumerate([("bp", "BP"), ("ols", "min-norm")]):
        ax[1].plot(p, np.mean(tab[f"tail_{name}"], axis=1), marker=plotting.MARKERS[i],
                   ls="--", color=plotting.color(i),
                   label=lab + r": tail $\varepsilon\Vert\hat\theta_T\Vert^2$")
        ax[1].plot(p, np.mean(tab[f"head_{name}"], axis=1), marker=plotting.MARKERS[i],
                   color=plotting.color(i),
                   label=lab + r": head $\Vert\theta^*_H-\hat\theta_H\Vert^2$")
    plotting.label(ax[1], r"dimension $p$", "risk part (means)", xscale="log", yscale="log",
                   legend=False)
    lo, hi = ax[1].get_ylim()
    ax[1].set_ylim(lo, hi * 30)  # room for the legend above the curves
    ax[1].legend(loc="upper center", ncol=2, fontsize=8)
    return fig


def plot_foolish_crowd(f: Fit, tables: Sequence[tuple[str, Mapping]]):
    """Sorted |θ̂_i| of both interpolants on one draw, and the participation ratios against p/n.

    Used in: Chapter 3, verify page.
    """
    fig, ax = plotting.figure(2, width=9.5, height=3.8)
    for i, (θ, lab) in enumerate([(f.theta_bp, "basis pursuit"),
                                  (f.theta_ols, r"min $\ell_2$-norm")]):
        a = np.sort(np.abs(θ))[::-1]
        a = a[a > 0]
        ax[0].plot(np.arange(1, a.size + 1), a, color=plotting.color(i), label=lab)
    ax[0].axvline(f.draw.n, color="0.4", ls=":", lw=1, label=f"$n = {f.draw.n}$")
    plotting.label(ax[0], r"rank $i$ of the coefficient", r"$|\hat\theta|_{(i)}$", xscale="log",
                   yscale="log")
    for j, (name, tab) in enumerate(tables):
        r = tab["p"] / tab["n"]
        ax[1].plot(r, np.median(tab["pr_ols"], axis=1), marker=plotting.MARKERS[j], ls="-",
                   color=plotting.color(1), label=f"min-norm, {name}")
        ax[1].plot(r, np.median(tab["pr_bp"], axis=1), marker=plotting.MARKERS[j], ls="--",
                   color=plotting.color(0), label=f"BP, {name}")
    rr = np.geomspace(2, 1000, 50)
    ax[1].plot(rr, 1 / rr, color="0.5", lw=1, label=r"$n/p$ (ceiling for $n$-sparse)")
    plotting.label(ax[1], r"$p/n$",
                   r"participation ratio $\Vert\hat\theta\Vert_1^2/(p\Vert\hat\theta\Vert_2^2)$",
                   xscale="log", yscale="log")
    return fig


def plot_sparse_family(fam: Sequence[Mapping], bp_risk: Sequence[float], n: int, p: int,
                       σ: float, *, explicit: bool = False):
    """Risks of s-sparse interpolators against s, with Theorem 1's shape σ²n/(s log²(3p/s)).

    ``fam`` holds one :func:`sparse_family` result per seed; ``bp_risk`` basis pursuit's risk
    on the same draws (s = n).

    Used in: Chapter 3, verify page.
    """
    s = fam[0]["s"]
    fig, ax = plotting.figure(2, width=9.5, height=3.8)
    for i, (rule, lab) in enumerate([("random", "LS on head + random support"),
                                     ("screening", "LS on screening support")]):
        vals = np.stack([f[f"risk_{rule}"] for f in fam], axis=1)
        _band(ax[0], s, vals, i + 1, lab)
        _band(ax[1], s, vals / theorem1_shape(n, p, s, σ)[:, None], i + 1, lab)
    ax[0].plot([n] * len(bp_risk), bp_risk, "o", color=plotting.color(0), label="basis pursuit")
    ax[1].plot([n] * len(bp_risk), np.asarray(bp_risk) / theorem2_shape(n, p, σ), "o",
               color=plotting.color(0), label="basis pursuit")
    ss = np.geomspace(n, s.max(), 60)
    ax[0].plot(ss, theorem1_shape(n, p, ss, σ), "k--", label=r"$\sigma^2 n/(s\,\log^2(3p/s))$")
    if explicit:
        vals = np.stack([f["explicit"] for f in fam], axis=1)
        ax[0].plot(s, vals.min(axis=1), "k-.", label=r"explicit bound ($u = 3$), min over seeds")
    plotting.label(ax[0], r"support size $s$", r"excess risk $R$", xscale="log", yscale="log")
    ax[1].axhline(1.0, color="k", ls="--", lw=1, label=r"$c_3 = 1$")
    plotting.label(ax[1], r"support size $s$", r"$R\,s\,\log^2(3p/s)\,/\,(\sigma^2 n)$",
                   xscale="log", yscale="log")
    return fig


def plot_explore(n: int = 100, p: int = 5000, k: int = 5, ε: float = 1e-3, σ: float = 1.0,
                 theta_norm: float = 1.0, seed: int = 0):
    """The explore page's figure: both solutions' coefficients (by coordinate and sorted), their
    risks split into head bias and tail term ε‖θ̂_T‖² (Lemma 4), and where the noise energy
    went.

    Used in: Chapter 3, explore page.
    """
    n, k = int(n), int(k)
    p_asked = int(round(p))
    p = max(p_asked, n + k + 1)  # the scenario needs p ≥ n + k; interpolation needs p > n
    d = draw_scenario(seed, n, p, k, ε, σ, truth="random" if k > 0 else "zero",
                      theta_norm=theta_norm)
    f = fit(d)
    fig, axs = plotting.figure(2, 2, width=9.5, height=7.0)
    ax = [axs[0], axs[2], axs[3], axs[1]]  # coefficients, risk split, cost; sorted on the right
    idx = np.arange(1, p + 1)
    ols = np.abs(f.theta_ols)
    ax[0].plot(idx, np.maximum(ols, 1e-12), ".", ms=2, color=plotting.color(1), alpha=0.6,
               label=r"min $\ell_2$-norm")
    S = _support(f.theta_bp)
    ax[0].plot(S + 1, np.abs(f.theta_bp[S]), "o", ms=4, mfc="none", color=plotting.color(0),
               label=f"basis pursuit ({S.size} non-zeros)")
    if k:
        ax[0].plot(np.arange(1, k + 1), np.maximum(np.abs(d.theta_star[:k]), 1e-12), "k*",
                   ms=8, label=r"$|\theta^*_i|$ (head)")
        ax[0].axvspan(0.5, k + 0.5, color="0.85", alpha=0.6, lw=0)
    plotting.label(ax[0], r"coordinate $i$ (head first)", r"$|\hat\theta_i|$", xscale="log",
                   yscale="log")
    for i, (θ, lab) in enumerate([(f.theta_bp, "basis pursuit"),
                                  (f.theta_ols, r"min $\ell_2$-norm")]):
        a_sorted = np.sort(np.abs(θ))[::-1]
        a_sorted = a_sorted[a_sorted > ZERO_TOL * max(a_sorted[0], 1e-300)]
        if a_sorted.size:
            ax[3].plot(np.arange(1, a_sorted.size + 1), a_sorted, color=plotting.color(i),
                       label=f"{lab} (participation ratio {participation_ratio(θ):.2g})"
                       if np.any(θ) else lab)
    ax[3].axvline(n, color="0.4", ls=":", lw=1, label=f"$n = {n}$")
    plotting.label(ax[3], r"rank $i$ of the coefficient", r"$|\hat\theta|_{(i)}$ (sorted)",
                   xscale="log", yscale="log")
    heads = [f.split_bp[0], f.split_ols[0]]
    tails = [f.split_bp[1], f.split_ols[1]]
    x = np.arange(2)
    ax[1].bar(x, heads, width=0.55, color=plotting.color(2),
              label=r"head bias $\Vert\theta^*_H-\hat\theta_H\Vert^2$")
    ax[1].bar(x, tails, width=0.55, bottom=heads, color=plotting.color(3),
              label=r"tail term $\varepsilon\Vert\hat\theta_T\Vert^2$")
    ax[1].set_xticks(x, ["basis pursuit", r"min $\ell_2$-norm"])
    top = max(h + t for h, t in zip(heads, tails, strict=True))
    for i in range(2):
        ax[1].text(x[i], heads[i] + tails[i], f"R = {heads[i] + tails[i]:.3g}", ha="center",
                   va="bottom", fontsize=9)
    ax[1].set_ylim(0, 1.45 * top if top > 0 else 1.0)
    plotting.label(ax[1], "interpolator", r"excess risk $R$ (Lemma 4 split)", legend=False)
    ax[1].legend(loc="upper center", fontsize=8)
    e = [noise_energy(d, f.theta_bp), noise_energy(d, f.theta_ols)]
    cost = [v["price"] / v["stored"] if v["stored"] > 0 else np.nan for v in e]
    ax[2].bar(x, cost, width=0.55, color=[plotting.color(0), plotting.color(1)])
    ax[2].axhline(1 / (p - k), color="k", ls=":", lw=1.2, label=r"$1/(p - k)$: the whole crowd")
    s_bound = float(sparse_op_norm_bound(n, p - k, n, 3.0)) ** 2
    ax[2].axhline(1 / s_bound, color="k", ls="--", lw=1.2,
                  label=r"floor for $n$-sparse ($u = 3$)")
    names = ["basis pursuit", r"min $\ell_2$-norm"]
    held = [f"\n(tail holds ${v['stored'] / v['noise']:.2f}\\,\\Vert\\xi\\Vert^2$)"
            if v["noise"] > 0 else "" for v in e]
    ax[2].set_xticks(x, [lab + h for lab, h in zip(names, held, strict=True)])
    ax[2].set_yscale("log")
    finite = [c for c in cost if np.isfinite(c) and c > 0]
    lo = min([1 / (p - k), 1 / s_bound, *finite])
    hi = max([1 / (p - k), 1 / s_bound, *finite])
    ax[2].set_ylim(0.3 * lo, 40 * hi)
    plotting.label(ax[2], "interpolator",
                   r"$\varepsilon\Vert\hat\theta_T\Vert^2\,/\,\Vert X_T\hat\theta_T\Vert^2$",
                   legend=False)
    ax[2].legend(loc="upper right", fontsize=8)
    from matplotlib.ticker import NullLocator

    for a in ax:  # minor ticks on log axes cost most of a redraw's layout time
        a.xaxis.set_minor_locator(NullLocator())
        a.yaxis.set_minor_locator(NullLocator())
    notes = [] if p == p_asked else [f"p raised from {p_asked} to n + k + 1 = {p}"]
    notes += [ln.replace("  <-- DEVIATION", "").replace("k^(1+c1)", r"$k^{1+c_1}$") for ln in
              assumption_deviations(n, p, k, σ, float(np.linalg.norm(d.theta_star)))
              if "DEVIATION" in ln]
    if notes:
        fig.supxlabel("Outside Theorems 1–2: " + "; ".join(notes), fontsize=9,
                      color=plotting.color(3))
    return fig
