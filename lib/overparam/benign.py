r"""Chapter 1 — benign overfitting without linearity (Frei, Chatterji & Bartlett, COLT 2022).

The chapter's library side, in one file:

* **the data law** — noisy Gaussian clusters x = z + ỹμ, z ~ N(0, I_p), ỹ ~ Unif{±1}, with
  label noise (exactly round(ηn) flips, or independent flips), the network's initialization
  W⁽⁰⁾ ~ N(0, ω_init²) and fixed second layer a_j ~ Unif{±1/√m}: :func:`sample_problem`, drawn
  either *explicitly* in R^p or *exactly in law* in m + n + 1 coordinates
  (:func:`overparam.gaussian.gaussian_frame`), at a cost independent of p;
* **training** — :func:`train_benign`, the shared GD engine (:func:`overparam.train_two_layer`)
  with the smoothed leaky ReLU, the logistic loss and the chapter's diagnostics as metrics;
* **exact and Monte Carlo diagnostics** — the normalized clean margin E[ỹ f(x)]/‖W‖_F in closed
  form (:func:`expected_clean_margin`), the clean test error by Monte Carlo in R^m without
  materializing test points in R^p (:func:`clean_test_error`);
* **the bounds** of the paper as plain functions citing their source, and the assumptions
  (A1)–(A6) evaluated at a given constant C (:func:`assumptions`);
* **the figures** (``plot_...``), shared by ``verify.ipynb`` and ``explore.ipynb``.

Used in: Chapter 1 (Theorem 1, Proposition 2, Lemmas 3, 11, 13, 14 of Frei, Chatterji & Bartlett,
COLT 2022, arXiv:2202.05928).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from . import plotting
from ._validate import require_choice, require_int, require_real
from .activations import Activation, LeakyReLU, ReLU, SmoothedLeakyReLU
from .gaussian import gaussian_frame
from .rng import numpy_rng
from .two_layer_gd import TwoLayerRun, train_two_layer

__all__ = [
    "BenignProblem",
    "noisy_labels",
    "sample_problem",
    "sample_problems",
    "stack_problems",
    "train_benign",
    "gaussian_mean_activation",
    "expected_clean_margin",
    "normalized_clean_margin",
    "gradient_norm",
    "distance_from_init",
    "clean_test_error",
    "snr",
    "mu_norm_for_snr",
    "clean_error_bound",
    "test_error_bound",
    "loss_ratio_bound",
    "margin_bound",
    "G_bound",
    "pl_lower_bound",
    "prop2_bound",
    "steps_required",
    "assumptions",
    "deviations",
    "assumption_table_html",
    "collapse_statistic",
    "log_slope",
    "spearman",
    "summarize",
    "until_stop",
    "truncate_at_stop",
    "simulate",
    "plot_clean_error",
    "plot_collapse",
    "plot_loss_ratio",
    "plot_G_and_loss",
    "plot_margin",
    "plot_train_accuracy",
    "plot_frame_vs_explicit",
    "plot_summary",
]


# ===================================================================== the data law
@dataclass
class BenignProblem:
    """One draw of the chapter's setting: training data, initialization and second layer.

    Vectors are given in *coordinates*: R^p itself (``method="explicit"``) or the exact-in-law
    coordinates of :func:`overparam.gaussian.gaussian_frame` (``method="frame"``), in which the
    first coordinate is the direction of μ. Either way, every inner product among the rows of
    ``X``, ``W0`` and ``mu`` has the law it has in R^p, which is all that GD and the clean test
    error depend on.

    Attributes
    ----------
    X : ndarray (n, D)
        Training inputs x_i = z_i + ỹ_i μ.
    y : ndarray (n,)
        Observed (possibly flipped) labels.
    y_clean : ndarray (n,)
        Clean labels ỹ_i.
    noisy : ndarray of bool (n,)
        Which labels were flipped (y_i ≠ ỹ_i).
    W0 : ndarray (m, D)
        Initial first layer, entries N(0, ω_init²) in R^p.
    a : ndarray (m,)
        Fixed second layer, entries ±1/√m.
    mu : ndarray (D,)
        The cluster mean μ (norm ``mu_norm``).
    p, mu_norm, eta, omega_init, seed, method :
        The parameters it was drawn with.
    """

    X: np.ndarray
    y: np.ndarray
    y_clean: np.ndarray
    noisy: np.ndarray
    W0: np.ndarray
    a: np.ndarray
    mu: np.ndarray
    p: int
    mu_norm: float
    eta: float
    omega_init: float
    seed: int
    method: str

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def m(self) -> int:
        return self.W0.shape[0]

    @property
    def dim(self) -> int:
        """D, the number of coordinates (p for explicit draws, m + n + 1 for frames)."""
        return self.X.shape[1]

    @property
    def snr(self) -> float:
        """s = n‖μ‖⁴/p, the exponent of Theorem 1's bound (with C = 1)."""
        return snr(self.n, self.p, self.mu_norm)


def noisy_labels(rng: np.random.Generator, y_clean, eta: float,
                 flips: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    """Observed labels: the clean labels with a fraction η of them flipped.

    Parameters
    ----------
    rng : numpy Generator
    y_clean : array (n,)
        Clean labels in {−1, +1}.
    eta : float
        Noise rate, ``0 <= eta < 1/2``.
    flips : "exact" or "independent"
        ``"exact"``: exactly round(ηn) labels, chosen uniformly at random, are flipped (the
        training sample then has noise rate η to the letter); ``"independent"``: each label is
        flipped independently with probability η (the test distribution's noise model).

    Returns
    -------
    y : ndarray (n,)
        Observed labels.
    noisy : ndarray of bool (n,)
        The flipped positions.

    Used in: Chapter 1 (the noisy-label setting of Theorem 1; the paper also allows adversarial
    flips with d_TV ≤ η).
    """
    y_clean = np.asarray(y_clean, dtype=float)
    if y_clean.ndim != 1 or y_clean.size == 0 or not np.all(np.abs(y_clean) == 1):
        raise ValueError("y_clean must be a non-empty 1-D array of labels +1 and -1")
    eta = require_real("eta", eta, low=0.0, high=0.5, high_open=True)
    require_choice("flips", flips, ["exact", "independent"])
    n = y_clean.size
    noisy = np.zeros(n, dtype=bool)
    if flips == "exact":
        noisy[rng.choice(n, int(round(eta * n)), replace=False)] = True
    else:
        noisy = rng.random(n) < eta
    return np.where(noisy, -y_clean, y_clean), noisy


def sample_problem(seed: int, *, n: int, p: int, m: int, mu_norm: float, eta: float,
                   omega_init: float, flips: str = "exact",
                   method: str = "frame") -> BenignProblem:
    r"""Draw one instance of the setting of Theorem 1 with Gaussian clusters, from its own seed.

    The draws, in order, from ``numpy_rng(seed)``: the m rows of W⁽⁰⁾ (i.i.d. N(0, ω_init² I_p))
    and the n cluster-noise vectors z_i (i.i.d. N(0, I_p)); the clean labels ỹ_i ~ Unif{±1};
    the flips (:func:`noisy_labels`); the second layer a_j ~ Unif{±1/√m}. Then x_i = z_i + ỹ_i μ.

    Parameters
    ----------
    seed : int
        Non-negative; the same seed gives the same problem whatever else is drawn or batched.
    n, p, m : int
        Samples (≥ 2), dimension (≥ 2), width (≥ 1).
    mu_norm : float
        ‖μ‖ > 0.
    eta : float
        Noise rate, 0 ≤ η < 1/2.
    omega_init : float
        Initialization scale ω_init > 0.
    flips : "exact" or "independent"
        See :func:`noisy_labels`.
    method : "frame" or "explicit"
        ``"frame"``: W⁽⁰⁾ and the z_i in the exact-in-law coordinates of
        :func:`overparam.gaussian.gaussian_frame` (D = m + n + 1 coordinates, the first along μ;
        cost independent of p). ``"explicit"``: in R^p itself, with μ = ‖μ‖ e₁.

    Returns
    -------
    BenignProblem

    Used in: Chapter 1 (every run of the verification and the widgets).
    """
    seed = require_int("seed", seed, low=0)
    n = require_int("n", n, low=2)
    p = require_int("p", p, low=2)
    m = require_int("m", m, low=1)
    mu_norm = require_real("mu_norm", mu_norm, low=0.0, low_open=True)
    eta = require_real("eta", eta, low=0.0, high=0.5, high_open=True)
    omega_init = require_real("omega_init", omega_init, low=0.0, low_open=True)
    require_choice("method", method, ["frame", "explicit"])
    require_choice("flips", flips, ["exact", "independent"])
    rng = numpy_rng(seed)
    if method == "frame":
        frame = gaussian_frame(rng, p, np.r_[np.full(m, omega_init), np.ones(n)], k=1)
        W0, Z = frame.coords[:m], frame.coords[m:]
        mu = mu_norm * frame.fixed_direction(0)
    else:
        W0 = omega_init * rng.standard_normal((m, p))
        Z = rng.standard_normal((n, p))
        mu = np.zeros(p)
        mu[0] = mu_norm
    y_clean = rng.choice([-1.0, 1.0], size=n)
    y, noisy = noisy_labels(rng, y_clean, eta, flips)
    a = rng.choice([-1.0, 1.0], size=m) / math.sqrt(m)
    X = Z + y_clean[:, None] * mu[None, :]
    return BenignProblem(X, y, y_clean, noisy, W0, a, mu, p, mu_norm, eta, omega_init, seed,
                         method)


def sample_problems(seeds: Sequence[int], **kwargs) -> list[BenignProblem]:
    """:func:`sample_problem` for each seed (same keyword arguments)."""
    if len(seeds) == 0:
        raise ValueError("seeds must hold at least one seed")
    return [sample_problem(s, **kwargs) for s in seeds]


def stack_problems(problems: Sequence[BenignProblem]) -> dict[str, np.ndarray]:
    """Batch problems for the engine: arrays X (B, n, D), y, W0, a, mu (B, D).

    Problems of different p (and frame or explicit draws) can share a batch: coordinates are
    padded with zeros to the largest D, which changes no inner product. They must share n and m.
    """
    if len(problems) == 0:
        raise ValueError("problems must hold at least one BenignProblem")
    n, m = problems[0].n, problems[0].m
    for i, pb in enumerate(problems):
        if pb.n != n or pb.m != m:
            raise ValueError(f"problems[{i}] has (n, m) = {(pb.n, pb.m)}, expected {(n, m)}: "
                             "a batch shares n and m")
    D = max(pb.dim for pb in problems)

    def pad(a: np.ndarray) -> np.ndarray:
        return np.pad(a, [(0, 0)] * (a.ndim - 1) + [(0, D - a.shape[-1])])

    return {
        "X": np.stack([pad(pb.X) for pb in problems]),
        "y": np.stack([pb.y for pb in problems]),
        "W0": np.stack([pad(pb.W0) for pb in problems]),
        "a": np.stack([pb.a for pb in problems]),
        "mu": np.stack([pad(pb.mu) for pb in problems]),
    }


# ===================================================================== exact diagnostics
_SQRT2PI = math.sqrt(2 * math.pi)


def _pdf(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / _SQRT2PI


def _moments_between(c, s, lo: float, hi: float):
    """E[1{lo ≤ X ≤ hi}], E[X 1{..}], E[X² 1{..}] for X ~ N(c, s²), finite lo < hi."""
    a, b = (lo - c) / s, (hi - c) / s
    M0 = torch.special.ndtr(b) - torch.special.ndtr(a)
    dpdf = _pdf(a) - _pdf(b)
    M1 = c * M0 + s * dpdf
    M2 = c * c * M0 + 2 * c * s * dpdf + s * s * (M0 + a * _pdf(a) - b * _pdf(b))
    return M0, M1, M2


def _moments_below(c, s, hi: float):
    """E[1{X ≤ hi}], E[X 1{X ≤ hi}] for X ~ N(c, s²)."""
    b = (hi - c) / s
    M0 = torch.special.ndtr(b)
    return M0, c * M0 - s * _pdf(b)


def _moments_above(c, s, lo: float):
    """E[1{X ≥ lo}], E[X 1{X ≥ lo}] for X ~ N(c, s²)."""
    a = (lo - c) / s
    M0 = torch.special.ndtr(-a)
    return M0, c * M0 + s * _pdf(a)


def gaussian_mean_activation(activation: Activation, mean, sd) -> torch.Tensor:
    r"""E[φ(X)] for X ~ N(mean, sd²), in closed form (elementwise).

    For the smoothed leaky ReLU (three pieces: γz − k below −1/H, (1−γ)Hz²/4 + (1+γ)z/2 on
    [−1/H, 1/H], z − k above 1/H, with k = (1−γ)/(4H)), E[φ(X)] is a combination of the truncated
    moments E[Xʲ 1{X ∈ I}] (j ≤ 2) of the Gaussian on each piece, each a polynomial in Φ and the
    normal density at the standardized break points. The (leaky) ReLU is the limit H → ∞.

    Parameters
    ----------
    activation : SmoothedLeakyReLU, LeakyReLU or ReLU
    mean : tensor
    sd : tensor, same shape, every entry > 0

    Used in: Chapter 1, Lemma 13 (the exact normalized clean margin, :func:`expected_clean_margin`).
    """
    mean = torch.as_tensor(mean)
    sd = torch.as_tensor(sd, dtype=mean.dtype, device=mean.device)
    if not torch.is_floating_point(mean):
        mean, sd = mean.double(), sd.double()
    if mean.shape != sd.shape:
        raise ValueError(f"mean and sd must have the same shape, got {tuple(mean.shape)} and "
                         f"{tuple(sd.shape)}")
    if not bool(torch.all(torch.isfinite(mean))) or not bool(torch.all(torch.isfinite(sd))):
        raise ValueError("mean and sd must be finite")
    if bool(torch.any(sd <= 0)):
        raise ValueError("sd must be > 0 everywhere")
    if not isinstance(activation, SmoothedLeakyReLU | LeakyReLU | ReLU):
        raise ValueError("activation must be SmoothedLeakyReLU, LeakyReLU or ReLU, got "
                         f"{activation!r}")
    return _gaussian_mean(activation, mean, sd)


def _gaussian_mean(activation: Activation, mean: torch.Tensor, sd: torch.Tensor) -> torch.Tensor:
    """:func:`gaussian_mean_activation` without argument checks (the engine's hot path)."""
    if isinstance(activation, SmoothedLeakyReLU):
        g, H = activation.gamma, activation.H
        b, k = 1 / H, (1 - g) / (4 * H)
        lo0, lo1 = _moments_below(mean, sd, -b)
        hi0, hi1 = _moments_above(mean, sd, b)
        M0, M1, M2 = _moments_between(mean, sd, -b, b)
        return (g * lo1 - k * lo0) + ((1 - g) * H / 4 * M2 + (1 + g) / 2 * M1) + (hi1 - k * hi0)
    g = activation.gamma if isinstance(activation, LeakyReLU) else 0.0
    _, lo1 = _moments_below(mean, sd, 0.0)
    _, hi1 = _moments_above(mean, sd, 0.0)
    return g * lo1 + hi1


def expected_clean_margin(run: TwoLayerRun, probe: str = "mu",
                          row_norms: torch.Tensor | None = None) -> torch.Tensor:
    r"""E[ỹ f(x; W)] over the clean law x = z + ỹμ, z ~ N(0, I_p), ỹ ~ Unif{±1}, exactly.

    Each neuron sees ⟨w_j, x⟩ ~ N(ỹ⟨w_j, μ⟩, ‖w_j‖²), so by linearity

    .. math::
        \E[\tilde y f(x; W)] = \sum_j \frac{a_j}{2}\big(\E φ(N(c_j, σ_j^2))
        - \E φ(N(-c_j, σ_j^2))\big), \quad c_j = ⟨w_j, μ⟩,\ σ_j = \norm{w_j},

    with :func:`gaussian_mean_activation` for each term. Cost O(m) given ‖w_j‖ and Wμ.

    Parameters
    ----------
    run : TwoLayerRun
        With the cluster mean registered as probe ``probe``.
    row_norms : tensor (B, m), optional
        ‖w_j‖ if already computed (default: ``run.row_norms()``).

    Returns
    -------
    tensor (B,)

    Used in: Chapter 1, Lemma 13 and Lemma 3 (the normalized margin controls the clean error).
    """
    c = run.project(probe)[..., 0]  # (B, m)
    sd = run.row_norms() if row_norms is None else row_norms
    if not isinstance(run.activation, SmoothedLeakyReLU | LeakyReLU | ReLU):
        raise ValueError("the run's activation must be SmoothedLeakyReLU, LeakyReLU or ReLU")
    if bool(torch.any(sd <= 0)):
        raise ValueError("every neuron must have ‖w_j‖ > 0")
    both = _gaussian_mean(run.activation, torch.stack([c, -c]), torch.stack([sd, sd]))
    return (run.a * 0.5 * (both[0] - both[1])).sum(-1)


def normalized_clean_margin(run: TwoLayerRun, probe: str = "mu") -> torch.Tensor:
    """E[ỹ f(x; W)] / ‖W‖_F (Frei et al. 2022, Lemma 13), shape (B,). Used in: Chapter 1."""
    norms = run.row_norms()
    return expected_clean_margin(run, probe, norms) / norms.pow(2).sum(-1).sqrt()


def gradient_norm(run: TwoLayerRun) -> torch.Tensor:
    r"""‖∇L̂(W)‖_F at the run's current iterate, shape (B,).

    ∇_{w_j} L̂ = −(1/n) Σ_i g_i y_i a_j φ'(⟨w_j, x_i⟩) x_i, so with D_{ji} = g_i y_i a_j φ'(Z_{ji}),
    ‖∇L̂‖_F² = tr(D K Dᵀ)/n², K = XXᵀ (O(mn²), independent of p).

    Used in: Chapter 1, Lemma 14 (the proxy-PL inequality ‖∇L̂(W)‖_F ≥ (γ‖μ‖/4) Ĝ(W)).
    """
    D = run.activation.deriv(run.Z) * run.a.unsqueeze(2) * (run.g * run.y).unsqueeze(1)
    K = run.K if run.parametrization == "rowspan" else run.X @ run.X.transpose(1, 2)
    return ((D @ K) * D).sum((1, 2)).clamp_min(0).sqrt() / run.n


def distance_from_init(run: TwoLayerRun) -> torch.Tensor:
    """‖W⁽ᵗ⁾ − W⁽⁰⁾‖_F, shape (B,) (row span: ‖AX‖_F² = tr(AKAᵀ)). Used in: Chapter 1, Prop. 2."""
    if run.parametrization == "rowspan":
        return ((run.A @ run.K) * run.A).sum((1, 2)).clamp_min(0).sqrt()
    return (run.W - run.W0).flatten(1).norm(dim=1)


def _metrics(noisy: torch.Tensor, gradients: bool) -> dict[str, Callable]:
    """The chapter's per-step diagnostics (see :func:`train_benign`).

    In the row-span parametrization W = W⁽⁰⁾ + AX, the row norms and ‖W − W⁽⁰⁾‖_F both need AK;
    it is computed once per recorded step and shared.
    """
    clean = ~noisy
    n_noisy = noisy.sum(1)
    n_clean = clean.sum(1).clamp_min(1)
    cache: dict = {}

    def quantities(run):
        if cache.get("t") != run.t:
            if "w0" not in cache:
                cache["w0"] = (run.W0 * run.W0).sum(-1)
            AK = run.A @ run.K
            AKA = (AK * run.A).sum(-1)  # (B, m): ‖(AX)_j‖²
            sq = cache["w0"] + 2 * (run.P0 * run.A).sum(-1) + AKA
            cache.update(t=run.t, norms=sq.clamp_min(0).sqrt(), moved=AKA.sum(-1).clamp_min(0))
        return cache

    def margin(run):
        norms = quantities(run)["norms"]
        return expected_clean_margin(run, "mu", norms) / norms.pow(2).sum(-1).sqrt()

    def mean_over(run, mask, count):
        return (run.margins * mask).sum(1) / count

    nan = torch.tensor(float("nan"), dtype=torch.float64)
    out = {
        "train_acc_clean": lambda run: ((run.margins > 0) & clean).sum(1).to(run.dtype) / n_clean,
        "train_acc_noisy": lambda run: torch.where(
            n_noisy > 0, ((run.margins > 0) & noisy).sum(1).to(run.dtype)
            / n_noisy.clamp_min(1), nan.to(run.dtype)),
        "margin_clean": lambda run: mean_over(run, clean, n_clean),
        "margin_noisy": lambda run: torch.where(
            n_noisy > 0, mean_over(run, noisy, n_noisy.clamp_min(1)), nan.to(run.dtype)),
        "noisy_share": lambda run: (run.g * noisy).sum(1) / run.g.sum(1),
        "normalized_margin": margin,
        "distance_from_init": lambda run: quantities(run)["moved"].sqrt(),
    }
    if gradients:
        out["grad_norm"] = gradient_norm
    return out


def train_benign(problems: Sequence[BenignProblem], *, gamma: float = 0.5, H: float = 1.0,
                 step, max_steps: int = 20_000, tol=None, record="log", gradients: bool = False,
                 dtype: str = "float64", device: str = "cpu", check_every: int | None = None,
                 progress: bool | None = None) -> TwoLayerRun:
    r"""Train the network of Theorem 1 on a batch of problems (one engine call).

    f(x; W) = Σ_j a_j φ(⟨w_j, x⟩) with the γ-leaky, H-smooth activation of the paper
    (:class:`overparam.activations.SmoothedLeakyReLU`), logistic loss, full-batch GD with fixed step
    α from W⁽⁰⁾; only W is trained (:func:`overparam.train_two_layer`, row-span parametrization).

    Parameters
    ----------
    problems : sequence of BenignProblem
        Sharing n and m (see :func:`stack_problems`).
    gamma, H : float
        Leak 0 < γ ≤ 1 and smoothness H > 0.
    step : float or array (B,)
        Step size α of each element.
    max_steps : int
        Cap on the number of steps.
    tol : float or array (B,), optional
        Stop element b at the first t with L̂ < tol_b; default 1/(4n) (then every training margin
        is positive: each loss term is < n/(4n) = 1/4 < log 2).
    record : None, int, "log" or sequence of int
        When to record the history (see :func:`overparam.gd.record_steps`).
    gradients : bool
        Also record ‖∇L̂(W⁽ᵗ⁾)‖_F (``grad_norm``; costs about one more step per record).
    dtype, device, check_every, progress :
        Passed to :func:`overparam.train_two_layer` (``check_every``: how often to check for
        divergence and for "all stopped"; stopping itself is decided at every step).

    Returns
    -------
    TwoLayerRun
        Its history has, besides the engine's ``loss``, ``G``, ``g_ratio``, ``train_error`` and
        ``frobenius_norm``: ``train_acc_clean`` and ``train_acc_noisy`` (fraction of clean / noisy
        training points with y_i f(x_i) > 0; NaN without noisy points), ``margin_clean`` and
        ``margin_noisy`` (mean y_i f(x_i) over each group), ``noisy_share``
        (Σ_{i noisy} g_i / Σ_i g_i), ``normalized_margin`` (exact E[ỹf]/‖W‖_F),
        ``distance_from_init`` (‖W⁽ᵗ⁾ − W⁽⁰⁾‖_F) and, if asked, ``grad_norm``.
        The probe ``"mu"`` gives W⁽ᵗ⁾μ.

    Used in: Chapter 1 (all runs).
    """
    if len(problems) == 0:
        raise ValueError("problems must hold at least one BenignProblem")
    act = SmoothedLeakyReLU(gamma, H)
    batch = stack_problems(problems)
    n = problems[0].n
    tol = 1.0 / (4 * n) if tol is None else tol
    noisy = torch.as_tensor(np.stack([pb.noisy for pb in problems]))
    return train_two_layer(
        batch["X"], batch["y"], batch["W0"], batch["a"], activation=act, step=step,
        max_steps=max_steps, tol=tol, record=record, probes={"mu": batch["mu"]},
        metrics=_metrics(noisy.to(device), gradients), dtype=dtype, device=device,
        check_every=check_every, progress=progress,
    )


def _test_basis(pb: BenignProblem) -> np.ndarray | None:
    """An orthonormal basis (D × r) of the span of W⁽⁰⁾'s rows, the x_i and μ, or ``None`` when
    the problem's own coordinates are already that small (frames: D ≤ m + n + 1)."""
    if pb.dim <= pb.m + pb.n + 1:
        return None
    Q, _ = np.linalg.qr(np.vstack([pb.W0, pb.X, pb.mu[None, :]]).T)
    return Q


def clean_test_error(run: TwoLayerRun, problems: Sequence[BenignProblem], count: int = 100_000,
                     chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    r"""Clean test error P(ỹ f(x; W) < 0), x = z + ỹμ, by Monte Carlo in R^m (never in R^p).

    A trained network sees a test point only through u = Wz ∈ R^m. Every row of W lies in the span
    S of W⁽⁰⁾'s rows, the x_i and μ, and for z ~ N(0, I_p) the coordinates ξ of its projection on
    S in an orthonormal basis are i.i.d. N(0, 1), independent of the rest of z, which no row of W
    sees. So u = W_S ξ exactly, where W_S is W in that basis: in the exact-in-law coordinates of a
    frame problem W_S is W itself (ξ ∈ R^D, D = m + n + 1); for an explicit problem in R^p,
    W_S = WQ with Q an orthonormal basis of S (from a QR factorization, fixed by the problem).
    With ``count`` draws ξ_k, each used for both classes,
    v_k = ½(1{f(u_k + Wμ) < 0} + 1{f(u_k − Wμ) > 0}), error = mean(v), standard error
    std(v)/√count. The cost is O(count · m · D) per network, whatever p is.

    **Paired comparisons.** Element b draws its ξ from the child stream
    ``numpy_rng(seed).spawn(1)[0]`` of its problem's seed, independent of the training draws.
    Networks trained on the *same problem* (same seed and parameters, e.g. with two step sizes)
    are therefore evaluated on the same test points z, so their difference is a paired
    comparison. The network is evaluated in float32 (only the sign of f matters; rounding can flip
    the decision of a test point only when |f| is below ~1e-7 of its scale).

    Parameters
    ----------
    run : TwoLayerRun
        A trained batch, with probe ``"mu"`` (as from :func:`train_benign`).
    problems : sequence of BenignProblem
        The problems of the batch, in order.
    count : int
        Test draws per network (≥ 2).
    chunk : int
        Draws evaluated at once (memory: a few chunk × max(m, D) arrays).

    Returns
    -------
    err, se : ndarray (B,)
        The estimate and its Monte Carlo standard error.

    Used in: Chapter 1, Theorem 1(2) and Lemma 3 (the clean error is what decays like
    exp(−n‖μ‖⁴/(Cp))).
    """
    count = require_int("count", count, low=2)
    chunk = require_int("chunk", chunk, low=1)
    if len(problems) != run.batch:
        raise ValueError(f"problems must hold the run's {run.batch} problems, got {len(problems)}")
    W = run.weights().cpu().numpy()  # (B, m, D_max): each problem's D coordinates, zero-padded
    WS = []
    for b, pb in enumerate(problems):
        Wb = W[b, :, :pb.dim]
        Q = _test_basis(pb)
        WS.append(torch.from_numpy(np.ascontiguousarray(Wb if Q is None else Wb @ Q).T)
                  .to(torch.float32))  # (r, m): u = ξ W_Sᵀ
    c = run.project("mu")[..., 0].to(torch.float32).cpu()  # (B, m)
    a = run.a.to(torch.float32).cpu()
    act = run.activation
    total, total_sq = np.zeros(run.batch), np.zeros(run.batch)
    groups: dict[tuple[int, int], list[int]] = {}
    for b, pb in enumerate(problems):
        groups.setdefault((pb.seed, WS[b].shape[0]), []).append(b)
    for (seed, r), members in groups.items():
        rng = numpy_rng(seed).spawn(1)[0]
        done = 0
        while done < count:
            k = min(chunk, count - done)
            xi = torch.from_numpy(rng.standard_normal((k, r), dtype=np.float32))
            for b in members:
                u = xi @ WS[b]
                wrong_pos = (act.value(u + c[b]) @ a[b]) < 0
                wrong_neg = (act.value(u - c[b]) @ a[b]) > 0
                v = 0.5 * (wrong_pos.double() + wrong_neg.double())
                total[b] += float(v.sum())
                total_sq[b] += float((v * v).sum())
            done += k
    err = total / count
    var = np.clip(total_sq / count - err**2, 0.0, None)
    return err, np.sqrt(var / (count - 1))


# ===================================================================== bounds of the paper
def snr(n, p, mu_norm):
    """s = n‖μ‖⁴/p, the exponent of Theorem 1 (Frei et al. 2022) with C = 1. Used in: Ch. 1."""
    return np.asarray(n, dtype=float) * np.asarray(mu_norm, dtype=float) ** 4 / np.asarray(
        p, dtype=float)


def mu_norm_for_snr(s, n, p):
    """‖μ‖ = (s p / n)^{1/4}: the cluster-mean norm giving n‖μ‖⁴/p = s. Used in: Chapter 1."""
    s = np.asarray(s, dtype=float)
    if np.any(s <= 0):
        raise ValueError("s must be > 0")
    return (s * np.asarray(p, dtype=float) / np.asarray(n, dtype=float)) ** 0.25


def clean_error_bound(s, C: float):
    r"""2 exp(−s/C), s = n‖μ‖⁴/p: the clean part of Theorem 1(2) (Frei et al. 2022; Lemma 3 splits
    the test error into η + clean error). Used in: Chapter 1, the benign check (C = 8)."""
    C = require_real("C", C, low=0.0, low_open=True)
    return 2 * np.exp(-np.asarray(s, dtype=float) / C)


def test_error_bound(s, eta: float, C: float):
    """η + 2 exp(−s/C): Theorem 1(2) of Frei et al. (2022). Used in: Chapter 1."""
    eta = require_real("eta", eta, low=0.0, high=0.5, high_open=True)
    return eta + clean_error_bound(s, C)


def loss_ratio_bound(gamma: float, C1: float = 1.0) -> float:
    """16 C1²/γ²: Lemma 11 of Frei et al. (2022), max_{i,j} g_i⁽ᵗ⁾/g_j⁽ᵗ⁾ ≤ this for all t.
    Used in: Chapter 1 (checked with C1 = 1)."""
    gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    C1 = require_real("C1", C1, low=0.0, low_open=True)
    return 16 * C1**2 / gamma**2


def margin_bound(n, p, mu_norm, gamma: float, C1: float = 1.0, C2: float = 1.0):
    r"""γ²‖μ‖²√n / (8 max(√C1, C2) √p): Lemma 13 of Frei et al. (2022), a lower bound on the
    normalized clean margin E[ỹ f(x; W⁽ᵗ⁾)]/‖W⁽ᵗ⁾‖_F for all t ≥ 1.

    Used in: Chapter 1 (checked with C1 = C2 = 1).
    """
    gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    mu = np.asarray(mu_norm, dtype=float)
    return gamma**2 * mu**2 * np.sqrt(np.asarray(n, float)) / (
        8 * max(math.sqrt(C1), C2) * np.sqrt(np.asarray(p, float)))


def G_bound(t, loss0, gamma: float, mu_norm, alpha):
    r"""√(32 L̂(W⁽⁰⁾) / (γ²‖μ‖² α (t+1))): Lemma 14 of Frei et al. (2022), Ĝ(W⁽ᵀ⁻¹⁾) ≤ this with
    T = t + 1 ≥ 1. Used in: Chapter 1."""
    t = np.asarray(t, dtype=float)
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    return np.sqrt(32 * np.asarray(loss0, float) / (
        gamma**2 * np.asarray(mu_norm, float) ** 2 * np.asarray(alpha, float) * (t + 1)))


def pl_lower_bound(G, gamma: float, mu_norm):
    r"""(γ‖μ‖/4) Ĝ(W): Lemma 14 of Frei et al. (2022), a lower bound on ‖∇L̂(W)‖_F (the proxy-PL
    inequality). Used in: Chapter 1."""
    gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    return gamma * np.asarray(mu_norm, float) / 4 * np.asarray(G, float)


def prop2_bound(alpha, gamma: float, mu_norm, omega_init, m: int, p):
    r"""αγ‖μ‖ / (48 ω_init √(mp)): Proposition 2 of Frei et al. (2022) with its constant read off
    the proof (‖W⁽¹⁾ − W⁽⁰⁾‖_F ≥ αγ‖μ‖/24 and ‖W⁽⁰⁾‖_F ≤ 2ω_init√(mp)), a lower bound on
    ‖W⁽¹⁾ − W⁽⁰⁾‖_F / ‖W⁽⁰⁾‖_F: the first step already moves W far from its initialization (not
    the NTK regime). Used in: Chapter 1."""
    gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    return (np.asarray(alpha, float) * gamma * np.asarray(mu_norm, float)
            / (48 * np.asarray(omega_init, float) * np.sqrt(m * np.asarray(p, float))))


def steps_required(loss0, mu_norm, alpha, eps, C: float = 1.0):
    r"""C L̂(W⁽⁰⁾)/(‖μ‖² α ε²): the number of steps after which Theorem 1 of Frei et al. (2022)
    speaks (T ≥ this, 0 < ε < 1/(2n)). Used in: Chapter 1 (printed as a deviation)."""
    return C * np.asarray(loss0, float) / (
        np.asarray(mu_norm, float) ** 2 * np.asarray(alpha, float) * np.asarray(eps, float) ** 2)


_ASSUMPTION_TEXT = {
    "A1": "n ≥ C log(1/δ)",
    "A2": "p ≥ C max{n‖μ‖², n² log(n/δ)}",
    "A3": "‖μ‖² ≥ C log(n/δ)",
    "A4": "η ≤ 1/C",
    "A5": "α ≤ 1/(C max{1, H/√m} p²)",
    "A6": "ω_init √(mp) ≤ α",
}


def assumptions(*, n: int, p, mu_norm, eta: float, alpha, omega_init, m: int, H: float,
                delta: float, C: float = 1.0) -> dict[str, dict]:
    r"""Assumptions (A1)–(A6) of Theorem 1 (Frei et al. 2022), evaluated at constant C.

    Each entry maps "A1".."A6" to ``{"text", "lhs", "rhs", "holds"}`` where the assumption reads
    lhs ≥ rhs (A1–A3) or lhs ≤ rhs (A4–A6).

    Parameters
    ----------
    delta : float
        The failure probability, 0 < δ < 1/2 (the theorem holds with probability ≥ 1 − 2δ).
    C : float
        The unknown constant of the theorem, set to a value (C = 1 is the most lenient natural
        choice for the assumptions; the theorem needs C "large enough").

    Used in: Chapter 1 (the table of which assumptions hold at each grid point).
    """
    delta = require_real("delta", delta, low=0.0, high=0.5, low_open=True, high_open=True)
    C = require_real("C", C, low=0.0, low_open=True)
    p, mu = float(p), float(mu_norm)
    L = math.log(n / delta)
    rows = {
        "A1": (n, C * math.log(1 / delta), ">="),
        "A2": (p, C * max(n * mu**2, n**2 * L), ">="),
        "A3": (mu**2, C * L, ">="),
        "A4": (eta, 1 / C, "<="),
        "A5": (float(alpha), 1 / (C * max(1.0, H / math.sqrt(m)) * p**2), "<="),
        "A6": (float(omega_init) * math.sqrt(m * p), float(alpha), "<="),
    }
    return {k: {"text": _ASSUMPTION_TEXT[k], "lhs": lhs, "rhs": rhs, "op": op,
                "holds": lhs >= rhs if op == ">=" else lhs <= rhs}
            for k, (lhs, rhs, op) in rows.items()}


def deviations(status: Mapping[str, dict], short: bool = False) -> list[str]:
    """One line per assumption that fails in ``status`` (from :func:`assumptions`), with the
    factor by which it fails; ``short=True`` gives just "(A2) ×62"."""
    out = []
    for k, r in status.items():
        if not r["holds"]:
            factor = r["rhs"] / r["lhs"] if r["op"] == ">=" else r["lhs"] / r["rhs"]
            out.append(f"({k}) ×{factor:.3g}" if short else
                       f"({k}) {r['text']} fails: {r['lhs']:.4g} vs {r['rhs']:.4g} "
                       f"(off by a factor {factor:.3g})")
    return out


def assumption_table_html(labels: Sequence[str], statuses: Sequence[Mapping[str, dict]]) -> str:
    """An HTML table: one row per grid point, one column per assumption (✓ holds, ✗ fails)."""
    if len(labels) != len(statuses):
        raise ValueError("labels and statuses must have the same length")
    keys = list(_ASSUMPTION_TEXT)
    head = "<tr><th>grid point</th>" + "".join(
        f"<th>({k})<br><small>{_ASSUMPTION_TEXT[k]}</small></th>" for k in keys) + "</tr>"
    rows = []
    for lab, st in zip(labels, statuses, strict=True):
        cells = "".join(
            f"<td title='{st[k]['lhs']:.3g} vs {st[k]['rhs']:.3g}'>"
            f"{'✓' if st[k]['holds'] else '✗'} <small>{st[k]['lhs']:.3g} vs {st[k]['rhs']:.3g}"
            "</small></td>" for k in keys)
        rows.append(f"<tr><td>{lab}</td>{cells}</tr>")
    return ("<table class='overparam-checks'><thead>" + head + "</thead><tbody>"
            + "".join(rows) + "</tbody></table>")


# ===================================================================== statistics
def summarize(values, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard error of the mean (std with ddof = 1 over √count) along ``axis``."""
    v = np.asarray(values, dtype=float)
    k = v.shape[axis]
    if k < 2:
        raise ValueError("values need at least 2 entries along axis to estimate a standard error")
    return v.mean(axis), v.std(axis, ddof=1) / math.sqrt(k)


def until_stop(steps, stop_step) -> np.ndarray:
    """Which recorded steps belong to each run: ``mask[r, b] = steps[r] <= stop_step[b]``.

    A batch trains until its *last* element stops; an element that stopped earlier keeps its
    iterate, so its recorded values after its stop step merely repeat the final ones. Figures and
    checks use only the steps a run actually took (shape (R, B)).

    Used in: Chapter 1 (Figures 4, 5 and 7 of verify; the Lemma 11 and 14 checks).
    """
    steps = np.asarray(steps)
    stop_step = np.asarray(stop_step)
    if steps.ndim != 1 or stop_step.ndim != 1:
        raise ValueError("steps and stop_step must be 1-D arrays")
    return steps[:, None] <= stop_step[None, :]


def truncate_at_stop(values, steps, stop_step) -> np.ndarray:
    """``values`` (R, B, ...) as floats with NaN at the steps after each run's stop step
    (:func:`until_stop`); matplotlib leaves NaN out of lines. Used in: Chapter 1."""
    v = np.array(values, dtype=float)
    mask = until_stop(steps, stop_step)
    if v.shape[:2] != mask.shape:
        raise ValueError(f"values must have shape (R, B, ...) = {mask.shape} + (...), "
                         f"got {v.shape}")
    v[~mask] = np.nan
    return v


def collapse_statistic(e1: float, se1: float, e2: float, se2: float, tau: float) -> float:
    r"""|e1 − e2| / (2√(se1² + se2²) + τ (e1 + e2)/2): ≤ 1 when two mean errors agree within twice
    their combined standard error plus a relative tolerance τ. Used in: Chapter 1 (collapse and
    step-size checks)."""
    tau = require_real("tau", tau, low=0.0)
    denom = 2 * math.hypot(se1, se2) + tau * (e1 + e2) / 2
    if denom <= 0:
        raise ValueError("the standard errors and tau*mean must not all be zero")
    return abs(e1 - e2) / denom


def log_slope(s, err) -> float:
    """Least-squares slope of log(err) against s (entries with err > 0). Used in: Chapter 1."""
    s, err = np.asarray(s, float).ravel(), np.asarray(err, float).ravel()
    keep = err > 0
    if keep.sum() < 2:
        raise ValueError("need at least two positive errors to fit a slope")
    return float(np.polyfit(s[keep], np.log(err[keep]), 1)[0])


def spearman(x, y) -> float:
    """Spearman rank correlation of x and y (ties get average ranks). Used in: Chapter 1."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.size != y.size or x.size < 3:
        raise ValueError("x and y need the same length, at least 3")
    return float(spearmanr(x, y).statistic)


# ===================================================================== one run, for the widgets
@dataclass
class Simulation:
    """One trained network and its diagnostics (see :func:`simulate`)."""

    problem: BenignProblem
    run: TwoLayerRun
    gamma: float
    alpha: float
    clean_error: float
    clean_error_se: float
    params: dict = field(default_factory=dict)


def simulate(*, n: int = 50, p: int = 2000, mu_norm: float = 4.0, eta: float = 0.1, m: int = 64,
             gamma: float = 0.5, H: float = 1.0, step_scale: float = 5.0, seed: int = 0,
             max_steps: int = 20_000, test_count: int = 20_000) -> Simulation:
    """Draw one problem (exact-in-law frame), train to L̂ < 1/(4n), estimate the clean error.

    ``step_scale`` is αp (α = step_scale/p); ω_init = 0.1 α/√(mp), as in the chapter's grid.
    Used in: Chapter 1, explore.ipynb.
    """
    step_scale = require_real("step_scale", step_scale, low=0.0, low_open=True)
    alpha = step_scale / p
    omega = 0.1 * alpha / math.sqrt(m * p)
    pb = sample_problem(seed, n=n, p=p, m=m, mu_norm=mu_norm, eta=eta, omega_init=omega)
    run = train_benign([pb], gamma=gamma, H=H, step=alpha, max_steps=max_steps, record="log",
                       check_every=16, progress=False)
    err, se = clean_test_error(run, [pb], count=test_count)
    return Simulation(pb, run, gamma, alpha, float(err[0]), float(se[0]),
                      dict(n=n, p=p, mu_norm=mu_norm, eta=eta, m=m, gamma=gamma, H=H,
                           step_scale=step_scale, seed=seed))


# ===================================================================== figures
def _steps_axis(steps: np.ndarray) -> np.ndarray:
    """Recorded steps for a log axis (step 0 is drawn at 1/2)."""
    return np.where(steps == 0, 0.5, steps).astype(float)


def _ordered_colors(k: int) -> list:
    """k colours of a colour-blind-safe sequential map (viridis), dark to light."""
    import matplotlib as mpl

    return [mpl.colormaps["viridis"](v) for v in np.linspace(0.0, 0.85, max(k, 1))]


_T_LABEL = "GD step $t$ (step 0 drawn at 1/2)"


def plot_clean_error(s, err, se, *, C: float = 8.0, fit: tuple[float, float] | None = None,
                     ax=None, label: str = "measured (mean over seeds, ± 2 s.e.)"):
    """Clean test error against s = n‖μ‖⁴/p (log scale), with the bound 2exp(−s/C) and,
    optionally, a fitted line exp(b₀ + b₁ s). Returns the figure.

    Used in: Chapter 1, verify (Figure 2)."""
    if ax is None:
        fig, ax = plotting.figure(width=6.4, height=3.9)
    else:
        fig = ax.figure
    s, err, se = (np.asarray(v, float) for v in (s, err, se))
    grid = np.linspace(0, s.max() * 1.05, 200)
    ax.plot(grid, clean_error_bound(grid, C), color=plotting.color(7), ls="--",
            label=rf"bound $2e^{{-s/C}}$, $C = {C:g}$")
    if fit is not None:
        ax.plot(grid, np.exp(fit[1] + fit[0] * grid), color=plotting.color(1), ls=":",
                label=rf"fit $e^{{b_0 + b_1 s}}$, $b_1 = {fit[0]:.3f}$")
    lo = np.clip(err - 2 * se, err * 0.05, None)
    ax.errorbar(s, err, yerr=[err - lo, 2 * se], fmt="o", color=plotting.color(0),
                capsize=3, label=label)
    positive = err[err > 0]
    ax.set_ylim(max(1e-5, 0.3 * float(positive.min())) if positive.size else 1e-5, 2.5)
    plotting.label(ax, r"$s = n\|\mu\|^4 / p$", "clean test error", yscale="log")
    return fig


def plot_collapse(p_values, s_values, err, se, *, p_regime: float, ax=None):
    """Clean error against p at fixed s (one curve per s), the (A2) threshold p = n² log(n/δ)
    shaded: curves should flatten (collapse) inside the regime. ``err``, ``se``: (len(s), len(p)).

    Used in: Chapter 1, verify (Figure 3)."""
    if ax is None:
        fig, ax = plotting.figure(width=6.4, height=3.9)
    else:
        fig = ax.figure
    p_values = np.asarray(p_values, float)
    err, se = np.asarray(err, float), np.asarray(se, float)
    ax.axvspan(p_regime, p_values.max() * 1.5, color=plotting.color(2), alpha=0.12, lw=0,
               label=r"(A2) holds with $C = 1$")
    for i, s in enumerate(s_values):
        ax.errorbar(p_values, err[i], yerr=2 * se[i], fmt="-" + plotting.MARKERS[i],
                    color=plotting.color(i), capsize=3, label=f"$s = {s:g}$")
    ax.set_xlim(p_values.min() / 1.5, p_values.max() * 1.5)
    plotting.label(ax, r"dimension $p$ (at fixed $s = n\|\mu\|^4/p$)",
                   "clean test error (± 2 s.e.)", xscale="log", yscale="log")
    return fig


def plot_loss_ratio(steps, g_ratio, noisy_share, *, bound: float, eta: float,
                    labels: Sequence[str], axes=None):
    """Left: max_i g_i / min_j g_j against t (one line per run) with Lemma 11's bound 16/γ²;
    right: the noisy points' share Σ_noisy g_i / Σ_i g_i, with η and the share the bound allows,
    ηR/(ηR + 1 − η). Arrays: (R, B).

    Used in: Chapter 1, verify (Figure 4)."""
    if axes is None:
        fig, axes = plotting.figure(2, 1, width=8.5, height=3.5)
    fig = axes[0].figure
    x = _steps_axis(np.asarray(steps))
    g_ratio, noisy_share = np.asarray(g_ratio, float), np.asarray(noisy_share, float)
    colors = _ordered_colors(g_ratio.shape[1])
    for b in range(g_ratio.shape[1]):
        axes[0].plot(x, g_ratio[:, b], color=colors[b], label=labels[b])
        axes[1].plot(x, noisy_share[:, b], color=colors[b])
    axes[0].axhline(bound, color=plotting.color(7), ls="--",
                    label=rf"Lemma 11: $16/\gamma^2 = {bound:g}$")
    axes[0].set_ylim(0.9, bound * 2)
    plotting.label(axes[0], _T_LABEL,
                   r"loss ratio $\mathrm{max}_i\, g_i \,/\, \mathrm{min}_j\, g_j$",
                   xscale="log", yscale="log", legend=False)
    axes[0].legend(ncols=2, fontsize=8, loc="center left")
    allowed = eta * bound / (eta * bound + 1 - eta)
    axes[1].axhline(eta, color=plotting.color(7), ls=":",
                    label=rf"$\eta = {eta:g}$ (share at $t = 0$)")
    axes[1].axhline(allowed, color=plotting.color(7), ls="--",
                    label=rf"allowed by Lemma 11: $\eta R/(\eta R + 1 - \eta) = {allowed:.2f}$")
    axes[1].set_ylim(0, 1)
    plotting.label(axes[1], _T_LABEL, r"share of the noisy points in $\Sigma_i\, g_i$",
                   xscale="log")
    return fig


def plot_G_and_loss(steps, G, loss, G_upper, pl_ratio, *, run: int, labels: Sequence[str],
                    axes=None):
    """Left: Ĝ(W⁽ᵗ⁾) and L̂(W⁽ᵗ⁾) of run ``run`` against t with Lemma 14's bound on Ĝ;
    right: the proxy-PL ratio ‖∇L̂‖_F / ((γ‖μ‖/4) Ĝ) of every run, which Lemma 14 puts above 1.
    Arrays: (R, B).

    Used in: Chapter 1, verify (Figure 5)."""
    if axes is None:
        fig, axes = plotting.figure(2, 1, width=8.5, height=3.5)
    fig = axes[0].figure
    x = _steps_axis(np.asarray(steps))
    G, loss, G_upper = (np.asarray(v, float) for v in (G, loss, G_upper))
    ax = axes[0]
    ax.plot(x, G[:, run], color=plotting.color(0),
            label=r"$\hat G(W^{(t)}) = \frac{1}{n}\sum_i g_i$")
    ax.plot(x, loss[:, run], color=plotting.color(1), ls="-.", label=r"$\hat L(W^{(t)})$")
    ax.plot(x, G_upper[:, run], color=plotting.color(7), ls="--",
            label=r"Lemma 14: $\sqrt{32\hat L(W^{(0)})/(\gamma^2\|\mu\|^2\alpha (t+1))}$")
    plotting.label(ax, _T_LABEL, r"proxy $\hat G$ and loss $\hat L$ (log scale)", xscale="log",
                   yscale="log", legend=False)
    ax.legend(fontsize=8, loc="lower left")
    pl_ratio = np.asarray(pl_ratio, float)
    colors = _ordered_colors(pl_ratio.shape[1])
    for b in range(pl_ratio.shape[1]):
        axes[1].plot(x, pl_ratio[:, b], color=colors[b], label=labels[b])
    axes[1].axhline(1.0, color=plotting.color(7), ls="--", label="Lemma 14: ratio ≥ 1")
    axes[1].set_ylim(0.5, np.nanmax(pl_ratio) * 12)
    plotting.label(axes[1], _T_LABEL,
                   r"$\|\nabla\hat L(W)\|_F \,/\, ((\gamma\|\mu\|/4)\,\hat G(W))$",
                   xscale="log", yscale="log", legend=False)
    axes[1].legend(ncols=3, fontsize=8, loc="upper center")
    return fig


def plot_margin(sqrt_s, margin_first, margin_last, p, *, slope: float, ax=None):
    """Normalized clean margin after one step and at the end against √s = ‖μ‖²√(n/p),
    coloured by log₁₀ p, with Lemma 13's lower bound (slope γ²/8).

    Used in: Chapter 1, verify (Figure 6)."""
    if ax is None:
        fig, ax = plotting.figure(width=7.0, height=3.9)
    else:
        fig = ax.figure
    x, p = np.asarray(sqrt_s, float), np.log10(np.asarray(p, float))
    kw = dict(c=p, cmap="viridis", vmin=p.min(), vmax=p.max(), zorder=3)
    sc = ax.scatter(x, margin_last, marker="o", s=22, label="at the end of training", **kw)
    ax.scatter(x, margin_first, marker="s", s=22, facecolors="none", label="after one step",
               edgecolors=sc.cmap(sc.norm(p)), zorder=3)
    grid = np.linspace(0, x.max() * 1.05, 50)
    ax.plot(grid, slope * grid, "--", color=plotting.color(7),
            label=r"Lemma 13 bound $(\gamma^2/8)\sqrt{s}$ ($C_1 = C_2 = 1$)")
    fig.colorbar(sc, ax=ax, label=r"$\log_{10} p$")
    plotting.label(ax, r"$\sqrt{s} = \|\mu\|^2\sqrt{n/p}$",
                   r"$E[\tilde y f(x; W)] \,/\, \|W\|_F$")
    return fig


def plot_train_accuracy(steps, acc_clean, acc_noisy, margin_clean, margin_noisy, *, axes=None):
    """Left: fraction of clean and of noisy training points fitted (y_i f(x_i) > 0) against t;
    right: their mean margins. Lines are means over runs, bands the range; NaN entries (steps
    after a run stopped, see :func:`truncate_at_stop`) are left out. Arrays: (R, B).

    Used in: Chapter 1, verify (Figure 7)."""
    if axes is None:
        fig, axes = plotting.figure(2, 1, width=8.5, height=3.4)
    fig = axes[0].figure
    x = _steps_axis(np.asarray(steps))
    groups = (("clean points", acc_clean, margin_clean), ("noisy (flipped) points", acc_noisy,
                                                          margin_noisy))
    for i, (name, acc, marg) in enumerate(groups):
        for ax, v in ((axes[0], acc), (axes[1], marg)):
            v = np.asarray(v, float)
            ax.plot(x, np.nanmean(v, 1), color=plotting.color(i), marker=plotting.MARKERS[i],
                    ms=3, markevery=0.08, label=name)
            plotting.shade_band(ax, x, np.nanmin(v, 1), np.nanmax(v, 1), i=i)
    axes[0].set_ylim(-0.03, 1.03)
    plotting.label(axes[0], _T_LABEL, r"fraction fitted: $y_i f(x_i) > 0$", xscale="log")
    axes[1].axhline(0, color=plotting.color(7), lw=1)
    plotting.label(axes[1], _T_LABEL, r"mean margin $y_i f(x_i)$", xscale="log")
    return fig


def plot_frame_vs_explicit(err_frame, err_explicit, *, ax=None):
    """Per-seed clean errors of the exact-in-law frame and of explicit sampling in R^p, with
    their means ± 2 standard errors. Used in: Chapter 1, verify (Figure 1)."""
    if ax is None:
        fig, ax = plotting.figure(width=5.0, height=3.3)
    else:
        fig = ax.figure
    for i, e in enumerate((err_frame, err_explicit)):
        e = np.asarray(e, float)
        jitter = np.linspace(-0.12, 0.12, e.size)
        ax.plot(i + jitter, e, plotting.MARKERS[i], color=plotting.color(i), alpha=0.6)
        mean, se = summarize(e)
        ax.errorbar([i + 0.3], [mean], yerr=[2 * se], fmt="D", color=plotting.color(7),
                    capsize=4)
    ax.set_xticks([0, 1], ["exact-in-law\n(m + n + 1 coordinates)",
                           r"explicit in $\mathbb{R}^p$"])
    ax.set_xlim(-0.5, 1.6)
    plotting.label(ax, "how W⁽⁰⁾ and the cluster noise were drawn", "clean test error per seed")
    return fig


def plot_summary(sim: Simulation, *, C: float = 8.0):
    """The widget figure: training accuracy (clean / noisy) against t, the clean test error
    against the bound's shape, margins of clean and noisy training points, and the loss-ratio
    trace with Lemma 11's bound. Used in: Chapter 1, explore.ipynb."""
    pb, run, h = sim.problem, sim.run, sim.run.history
    fig, axes = plotting.figure(2, 2, width=8.5, height=6.4)
    x = _steps_axis(h.steps)
    n_noisy = int(pb.noisy.sum())
    # (a) training accuracy on clean and noisy points
    ax = axes[0]
    ax.plot(x, h["train_acc_clean"][:, 0], color=plotting.color(0),
            label=f"clean points ({pb.n - n_noisy})")
    if n_noisy:
        ax.plot(x, h["train_acc_noisy"][:, 0], color=plotting.color(3), ls="--",
                label=f"noisy (flipped) points ({n_noisy})")
    ax.set_ylim(-0.03, 1.03)
    stop = int(run.stop_step[0])
    plotting.label(ax, "GD step t", "(a) fraction fitted: yᵢ f(xᵢ) > 0", xscale="log")
    ax.text(0.98, 0.04, f"stopped at t = {stop}, L̂ = {float(run.loss[0]):.2g}",
            transform=ax.transAxes, ha="right", fontsize=9)
    # (b) clean test error against the bound
    ax = axes[1]
    s_here = pb.snr
    grid = np.linspace(0, max(2 * s_here, 10.0), 200)
    ax.plot(grid, clean_error_bound(grid, C), "--", color=plotting.color(7),
            label=f"2 exp(−s/C), C = {C:g}")
    err = max(sim.clean_error, 1e-5)
    ax.errorbar([s_here], [err], yerr=[[min(2 * sim.clean_error_se, err * 0.9)],
                                       [2 * sim.clean_error_se]],
                fmt="o", ms=8, color=plotting.color(0), capsize=3,
                label=f"this run: {sim.clean_error:.4f} ± {2 * sim.clean_error_se:.4f}")
    ax.axhline(0.5, color=plotting.color(1), ls=":", lw=1, label="chance (0.5)")
    ax.set_ylim(1e-5, 2.5)
    plotting.label(ax, f"s = n‖μ‖⁴/p  (this run: s = {s_here:.3g})",
                   "(b) clean test error", yscale="log")
    # (c) margins y_i f(x_i) of clean and noisy training points at the end
    ax = axes[2]
    margins = run.margins[0].cpu().numpy()
    noisy = pb.noisy
    jitter = np.linspace(-0.15, 0.15, len(margins))
    ax.plot(0 + jitter[~noisy], margins[~noisy], "o", color=plotting.color(0), alpha=0.7)
    if n_noisy:
        ax.plot(1 + jitter[noisy], margins[noisy], "s", color=plotting.color(3), alpha=0.8)
    ax.axhline(0, color=plotting.color(7), lw=1)
    ax.set_xticks([0, 1], ["clean", "noisy (flipped)"])
    ax.set_xlim(-0.5, 1.5)
    plotting.label(ax, "training points, at the end of training", "(c) margin yᵢ f(xᵢ; W)")
    # (d) loss ratio with Lemma 11's bound
    ax = axes[3]
    bound = loss_ratio_bound(sim.gamma)
    ax.plot(x, h["g_ratio"][:, 0], color=plotting.color(0),
            label="max gᵢ / min gⱼ")
    ax.axhline(bound, color=plotting.color(7), ls="--",
               label=f"Lemma 11: 16/γ² = {bound:g}")
    ax.set_ylim(0.9, max(bound, float(np.nanmax(h["g_ratio"]))) * 2)
    plotting.label(ax, "GD step t", "(d) loss ratio", xscale="log", yscale="log")
    for ax in axes:
        ax.minorticks_off()   # a redraw costs half as much without the log axes' minor ticks
    return fig
