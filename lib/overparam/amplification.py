r"""Random feature amplification: XOR-like clusters, a two-layer ReLU network trained by a few
large GD steps, and the diagnostics of its proof (Frei, Chatterji & Bartlett, JMLR 2023).

**The law.** μ₁, μ₂ ∈ R^d are orthonormal; a clean example is x = μ + z with μ drawn uniformly from
the four cluster means {+μ₁, −μ₁, +μ₂, −μ₂} and z ~ N(0, σ²I_d) (the paper allows any log-concave
law with mean 0 and covariance σ²I_d; the book draws Gaussian noise); its clean label is ỹ = +1 on
the clusters ±μ₁ and ỹ = −1 on ±μ₂ (an XOR of the signs of ⟨μ₁ + μ₂, x⟩ and ⟨μ₁ − μ₂, x⟩). The
observed label y is ỹ flipped with probability η (the paper allows adversarial flips). Cluster
``c`` is numbered 0, 1, 2, 3 for +μ₁, −μ₁, +μ₂, −μ₂ (:data:`CLUSTER_MEANS`, :data:`CLUSTER_LABELS`).

**The network.** f(x; W) = Σ_j a_j ReLU(⟨w_j, x⟩) with m even, a_j = +1/√m for the first m/2
neurons and −1/√m for the others (fixed), W⁽⁰⁾ i.i.d. N(0, ω²), logistic loss, full-batch GD
with constant step α: :func:`train` calls the book's engine :func:`overparam.train_two_layer`.

**Coordinates.** μ₁ = e₁, μ₂ = e₂, and the m rows of W⁽⁰⁾ and the n cluster noises are drawn by
:func:`overparam.gaussian_frame`, exactly in law in D = 2 + m + n coordinates when d is larger
(the cost is then independent of d). Fresh test noise has i.i.d. N(0, σ²) coordinates in the same
frame: its component outside the frame is orthogonal to every w_j⁽ᵗ⁾ and cannot change a prediction.

**Diagnostics** are computed from the engine's ``run.project`` (W⁽ᵗ⁾μ₁, W⁽ᵗ⁾μ₂), ``run.row_norms``
and training preactivations — in the row-span form from the Gram representation
W⁽ᵗ⁾ = W⁽⁰⁾ + A⁽ᵗ⁾X, in the direct form from W⁽ᵗ⁾ itself: alignment of each neuron with its own
cluster mean, the sets J_μ of Lemma 4, the neuron-alignment condition (Condition 9), almost
orthogonality (Condition 10), the norm growth of Lemma 14 and the relative feature change of
Proposition 2.

Used in: Chapter 2 (Theorem 1, Proposition 2, Lemmas 4, 12, 13, 14 and Conditions 9–10 of
Frei, Chatterji & Bartlett, JMLR 2023).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from ._validate import require_choice, require_int, require_real
from .activations import ReLU
from .gaussian import gaussian_frame
from .losses import Logistic
from .rng import numpy_rng
from .two_layer_gd import TwoLayerRun, train_two_layer

__all__ = [
    "CLUSTER_MEANS",
    "CLUSTER_LABELS",
    "XORData",
    "sample_xor",
    "stack",
    "second_layer",
    "horizon",
    "assumption_ranges",
    "lemma14_condition",
    "train",
    "Trace",
    "trace",
    "own_means",
    "alignment",
    "lemma4_sets",
    "nac",
    "orthogonality_ratio",
    "norm_growth_ratio",
    "feature_change",
    "test_errors",
    "test_accuracy_metric",
    "assumption_table",
    "plot_explore",
    "fit_linear",
    "linear_test_error",
    "plane_outputs",
    "train_accuracy_metrics",
    "plot_amplification",
    "plot_alignment_histograms",
    "plot_conditions",
    "plot_boundary",
    "plot_errors",
    "plot_training_curves",
]

#: Cluster c ↦ (index k of the mean direction μ_{k+1}, sign): +μ₁, −μ₁, +μ₂, −μ₂.
CLUSTER_MEANS = ((0, 1.0), (0, -1.0), (1, 1.0), (1, -1.0))
#: Clean label of each cluster: +1 on ±μ₁, −1 on ±μ₂.
CLUSTER_LABELS = np.array([1.0, 1.0, -1.0, -1.0])
_FLIPS = ("random", "per_cluster")


# ============================================================================ the law
@dataclass
class XORData:
    """One draw of the training set and the initialization, in frame coordinates.

    Attributes
    ----------
    X : ndarray (n, D)
        Training inputs x_i = μ_{c_i} + z_i; coordinates 0 and 1 are along μ₁ and μ₂.
    y : ndarray (n,)
        Observed labels (clean labels with the flips applied).
    y_clean : ndarray (n,)
        Clean labels ỹ_i.
    cluster : ndarray (n,) of int
        Cluster index c_i ∈ {0, 1, 2, 3} (+μ₁, −μ₁, +μ₂, −μ₂).
    noisy : ndarray (n,) of bool
        True where the label was flipped.
    W0 : ndarray (m, D)
        Initial first layer, i.i.d. N(0, ω²) entries in R^d.
    a : ndarray (m,)
        Fixed second layer (:func:`second_layer`).
    d, sigma, eta, omega, seed : the parameters of the draw.
    reduced : bool
        True if the exact low-dimensional (Bartlett) representation was used.

    Used in: Chapter 2 (every draw of the verification and the explorer).
    """

    X: np.ndarray
    y: np.ndarray
    y_clean: np.ndarray
    cluster: np.ndarray
    noisy: np.ndarray
    W0: np.ndarray
    a: np.ndarray
    d: int
    sigma: float
    eta: float
    omega: float
    seed: int
    reduced: bool
    _test_seed: int = field(repr=False, default=0)

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def m(self) -> int:
        return self.W0.shape[0]

    @property
    def dim(self) -> int:
        """D, the number of coordinates (d if the vectors were drawn directly)."""
        return self.X.shape[1]

    @property
    def mu(self) -> np.ndarray:
        """μ₁ and μ₂ as the columns of a (D, 2) array."""
        return np.eye(self.dim)[:, :2]

    def padded(self, dim: int) -> XORData:
        """The same draw with zero coordinates appended up to ``dim`` (inner products unchanged)."""
        dim = require_int("dim", dim, low=self.dim)
        pad = dim - self.dim
        if pad == 0:
            return self
        return XORData(np.pad(self.X, ((0, 0), (0, pad))), self.y, self.y_clean, self.cluster,
                       self.noisy, np.pad(self.W0, ((0, 0), (0, pad))), self.a, self.d,
                       self.sigma, self.eta, self.omega, self.seed, self.reduced, self._test_seed)

    def test_chunks(self, count: int, chunk: int = 2000) -> Iterator[tuple[np.ndarray, ...]]:
        """Fresh test examples from the law P, in chunks (the same points whatever ``chunk``).

        Yields ``(X_test, y_clean, y_noisy)`` with X_test of shape (k, D): clusters uniform,
        noise σ·``frame.fresh`` (i.i.d. N(0, σ²) coordinates), labels flipped with probability η.
        Drawn from a stream of their own, derived from the seed, so they do not depend on how many
        training draws were made.
        """
        count = require_int("count", count, low=1)
        chunk = require_int("chunk", chunk, low=1)
        rng = numpy_rng(self._test_seed)
        clusters = rng.integers(0, 4, size=count)
        flips = rng.random(count) < self.eta
        noise_rng = numpy_rng(self._test_seed + 1)
        for start in range(0, count, chunk):
            c = clusters[start:start + chunk]
            Xt = self.sigma * noise_rng.standard_normal((c.size, self.dim))
            _add_means(Xt, c)
            yc = CLUSTER_LABELS[c]
            yield Xt, yc, np.where(flips[start:start + chunk], -yc, yc)


def _add_means(X: np.ndarray, cluster: np.ndarray) -> None:
    for c, (k, s) in enumerate(CLUSTER_MEANS):
        X[cluster == c, k] += s


def second_layer(m: int) -> np.ndarray:
    """a_j = +1/√m for j < m/2 and −1/√m otherwise (m even): the paper's fixed second layer.

    Used in: Chapter 2, the network of Theorem 1.
    """
    m = require_int("m", m, low=2)
    if m % 2:
        raise ValueError(f"m must be even (half the a_j are +1/√m, half −1/√m), got {m}")
    return np.r_[np.ones(m // 2), -np.ones(m // 2)] / math.sqrt(m)


def sample_xor(seed: int, *, d: int, n: int, m: int, sigma: float, eta: float, omega: float,
               flips: str = "random") -> XORData:
    r"""Draw a training set from the XOR cluster law and the initialization W⁽⁰⁾.

    Parameters
    ----------
    seed : int
        Everything (clusters, flips, noise, W⁽⁰⁾, and the test stream) derives from it.
    d : int
        Dimension, ``d >= 2``.
    n : int
        Number of training examples, ``n >= 1``.
    m : int
        Width, even, ``m >= 2``.
    sigma : float
        Cluster noise standard deviation σ > 0 (covariance σ²I_d).
    eta : float
        Label-flip rate, ``0 <= eta < 1/2``.
    omega : float
        Initialization scale ω_init > 0 (entries of W⁽⁰⁾ are N(0, ω²)).
    flips : "random" or "per_cluster"
        "random": each label flips independently with probability η; "per_cluster": exactly
        round(η n_c) labels flip in each cluster c (the paper's Figure 2).

    Returns
    -------
    XORData
        With μ₁ = e₁, μ₂ = e₂; when d − 2 > n + m the noises and the rows of W⁽⁰⁾ are drawn exactly
        in law in D = 2 + n + m coordinates (:func:`overparam.gaussian_frame`), else directly
        in R^d.

    Used in: Chapter 2 (the data law of Theorem 1).
    """
    seed = require_int("seed", seed, low=0)
    d = require_int("d", d, low=2)
    n = require_int("n", n, low=1)
    a = second_layer(m)
    sigma = require_real("sigma", sigma, low=0.0, low_open=True)
    eta = require_real("eta", eta, low=0.0, high=0.5, high_open=True)
    omega = require_real("omega", omega, low=0.0, low_open=True)
    require_choice("flips", flips, _FLIPS)
    rng = numpy_rng(seed)
    test_seed = int(rng.integers(0, 2**62))
    cluster = rng.integers(0, 4, size=n)
    if flips == "random":
        noisy = rng.random(n) < eta
    else:
        noisy = np.zeros(n, dtype=bool)
        for c in range(4):
            idx = np.flatnonzero(cluster == c)
            k = int(round(eta * idx.size))
            noisy[rng.choice(idx, size=k, replace=False)] = True
    # k = 2 fixed directions (μ₁, μ₂) when d >= 3; in d = 2 the frame draws directly in R² anyway.
    frame = gaussian_frame(rng, p=d, scales=np.r_[np.full(n, sigma), np.full(a.size, omega)],
                           k=2 if d > 2 else 0)
    X = frame.coords[:n].copy()
    _add_means(X, cluster)
    y_clean = CLUSTER_LABELS[cluster]
    y = np.where(noisy, -y_clean, y_clean)
    return XORData(X, y, y_clean, cluster, noisy, frame.coords[n:], a, d, sigma, eta, omega,
                   seed, frame.reduced, test_seed)


def stack(datas: Sequence[XORData]) -> dict[str, np.ndarray]:
    """Stack draws of equal (n, m) into batch arrays for the engine, zero-padding to a common D.

    Returns a dict with X (B, n, D), y, y_clean, noisy, cluster (B, n), W0 (B, m, D), a (B, m) and
    mu (D, 2).

    Used in: Chapter 2 (:func:`train`; the paper's Figure 2 batches two dimensions).
    """
    if not datas:
        raise ValueError("datas must hold at least one XORData")
    shapes = {(x.n, x.m) for x in datas}
    if len(shapes) != 1:
        raise ValueError(f"datas must share n and m to be batched, got {sorted(shapes)}")
    dim = max(x.dim for x in datas)
    padded = [x.padded(dim) for x in datas]
    out = {k: np.stack([getattr(x, k) for x in padded])
           for k in ("X", "y", "y_clean", "noisy", "cluster", "W0", "a")}
    out["mu"] = np.eye(dim)[:, :2]
    return out


# ============================================================================ the statements
def horizon(alpha: float) -> int:
    """T = 1 + 1/(4α), the stopping time of Theorem 1 (1/(4α) must be an integer).

    Used in: Chapter 2, Theorem 1.
    """
    alpha = require_real("alpha", alpha, low=0.0, high=0.25, low_open=True)
    q = 1 / (4 * alpha)
    if abs(q - round(q)) > 1e-9:
        raise ValueError(f"alpha must make 1/(4 alpha) an integer (e.g. 0.05, 0.125), got {alpha}")
    return 1 + int(round(q))


def assumption_ranges(*, d: int, n: int, m: int, sigma2: float, eta: float, omega2: float,
                      alpha: float, delta: float = 0.05) -> dict[str, tuple[float, float]]:
    r"""For each assumption (A1)–(A7) of Theorem 1, the interval of constants C for which it holds.

    The theorem needs one C ≥ 1, "large enough", satisfying all seven at once:

    * (A1) d ≥ C max{log²(n/δ), log(m/δ)}
    * (A2) σ² ≤ 1/(C² d)
    * (A3) n ≥ C log(m/δ)
    * (A4) η ≤ 1/C
    * (A5) m ≥ C log(1/δ)
    * (A6) ω_init² ≤ 1/(C⁴ m d)
    * (A7) 1/(2√C) ≤ α ≤ 1/√C, i.e. 1/(4α²) ≤ C ≤ 1/α²

    Returns
    -------
    dict
        name ↦ (C_low, C_high); the assumptions hold together for C in
        [max C_low, min C_high] when that interval is not empty.

    Used in: Chapter 2 (Theorem 1 of Frei, Chatterji & Bartlett, JMLR 2023, assumptions (A1)–(A7)).
    """
    d = require_int("d", d, low=2)
    n = require_int("n", n, low=1)
    m = require_int("m", m, low=2)
    sigma2 = require_real("sigma2", sigma2, low=0.0, low_open=True)
    eta = require_real("eta", eta, low=0.0, high=0.5, high_open=True)
    omega2 = require_real("omega2", omega2, low=0.0, low_open=True)
    alpha = require_real("alpha", alpha, low=0.0, low_open=True)
    delta = require_real("delta", delta, low=0.0, high=0.5, low_open=True, high_open=True)
    inf = math.inf
    return {
        "A1": (0.0, d / max(math.log(n / delta) ** 2, math.log(m / delta))),
        "A2": (0.0, 1 / math.sqrt(sigma2 * d)),
        "A3": (0.0, n / math.log(m / delta)),
        "A4": (0.0, inf if eta == 0 else 1 / eta),
        "A5": (0.0, m / math.log(1 / delta)),
        "A6": (0.0, (omega2 * m * d) ** -0.25),
        "A7": (1 / (4 * alpha**2), 1 / alpha**2),
    }


def assumption_table(configs: Mapping[str, Mapping]) -> str:
    """A text table: for each assumption (A1)–(A7) and each configuration, the constants C it
    allows (:func:`assumption_ranges`), and a last row saying whether one C ≥ 1 satisfies all
    seven. This is the deviation from Theorem 1's assumptions to print by the figures.

    Parameters
    ----------
    configs : mapping label ↦ keyword arguments of :func:`assumption_ranges`

    Used in: Chapter 2 (the deviations from Theorem 1's assumptions at the simulated scale).
    """
    if not configs:
        raise ValueError("configs must name at least one configuration")
    ranges = {lab: assumption_ranges(**kw) for lab, kw in configs.items()}
    width = max(14, *(len(lab) + 2 for lab in configs))
    lines = ["C allowed by".ljust(8) + "".join(lab.rjust(width) for lab in configs)]

    def cell(lo: float, hi: float) -> str:
        return f"{lo:.3g}..{hi:.3g}" if lo > 0 else f"<= {hi:.3g}"

    for k in ("A1", "A2", "A3", "A4", "A5", "A6", "A7"):
        lines.append(f"({k})".ljust(8) + "".join(cell(*r[k]).rjust(width) for r in ranges.values()))
    verdict = []
    for r in ranges.values():
        lo = max(1.0, max(v[0] for v in r.values()))
        hi = min(v[1] for v in r.values())
        verdict.append(cell(lo, hi) if lo <= hi else "none")
    lines.append("all".ljust(8) + "".join(v.rjust(width) for v in verdict))
    return "\n".join(lines)


def lemma14_condition(*, omega: float, m: int, d: int, alpha: float) -> tuple[float, float]:
    """(ω_init √(md), α/3): Lemma 14's norm bound needs the first to be at most the second.

    Used in: Chapter 2, Lemma 14.
    """
    omega = require_real("omega", omega, low=0.0, low_open=True)
    m = require_int("m", m, low=1)
    d = require_int("d", d, low=1)
    alpha = require_real("alpha", alpha, low=0.0, low_open=True)
    return omega * math.sqrt(m * d), alpha / 3


# ============================================================================ training
def own_means(a, proj0) -> tuple[np.ndarray, np.ndarray]:
    r"""Each neuron's own cluster mean, fixed at initialization.

    A neuron with a_j > 0 belongs to the label +1, whose clusters are ±μ₁; its own mean is
    s_j μ₁ with s_j = sgn⟨w_j⁽⁰⁾, μ₁⟩ (likewise ±μ₂ for a_j < 0): the mean it correlates with
    positively at initialization, the one Lemma 4 counts it for.

    Parameters
    ----------
    a : array (..., m)
    proj0 : array (..., m, 2)
        W⁽⁰⁾μ₁ and W⁽⁰⁾μ₂.

    Returns
    -------
    cluster : ndarray (..., m) of int
        The own cluster c(j) ∈ {0, 1, 2, 3}; its opposite is c(j) XOR 1.
    k : ndarray (..., m) of int
        0 if the own mean is ±μ₁, 1 if ±μ₂.

    Used in: Chapter 2, Lemma 4 and Conditions 9–10.
    """
    a = np.asarray(a, dtype=float)
    proj0 = np.asarray(proj0, dtype=float)
    if proj0.shape != (*a.shape, 2):
        raise ValueError(f"proj0 must have shape {(*a.shape, 2)}, got {proj0.shape}")
    k = np.where(a > 0, 0, 1)
    v = np.take_along_axis(proj0, k[..., None], axis=-1)[..., 0]
    cluster = 2 * k + (v < 0)
    return cluster.astype(int), k


def _nac_metric(cluster_train: torch.Tensor, own: torch.Tensor):
    """Metric: 1 where neuron j satisfies Condition 9 at the current step, else 0 (B, m)."""
    onehot = torch.nn.functional.one_hot(cluster_train.long(), 4).to(torch.float64)  # (B, n, 4)
    size = onehot.sum(1)  # (B, 4)
    own_c = own.long()
    opp_c = own_c ^ 1

    def metric(run: TwoLayerRun) -> torch.Tensor:
        active = (run.Z > 0).to(torch.float64)  # φ'(⟨w_j, x_k⟩) = 1[⟨w_j, x_k⟩ > 0]
        counts = active @ onehot.to(active.device)  # (B, m, 4)
        on_own = counts.gather(2, own_c[..., None]).squeeze(2)
        on_opp = counts.gather(2, opp_c[..., None]).squeeze(2)
        full = size.gather(1, own_c)
        return ((on_own == full) & (on_opp == 0)).to(run.dtype)

    return metric


def _feature_change(phi0: torch.Tensor, Z: torch.Tensor, activation) -> torch.Tensor:
    """min over i of ‖φ(Z[..., i]) − φ0[..., i]‖ / ‖φ0[..., i]‖ (columns are training points)."""
    num = (activation.value(Z) - phi0).norm(dim=-2)
    return (num / phi0.norm(dim=-2)).min(-1).values


def train_accuracy_metrics(noisy) -> dict:
    """Metrics for the accuracy on the clean and on the noisy training points (B,) each.

    ``clean_acc``: fraction of clean points with sgn f(x_i) = y_i; ``noisy_fit``: fraction of noisy
    points with sgn f(x_i) = y_i (the flipped label), i.e. how much of the noise is fitted.

    Used in: Chapter 2 (Theorem 1(1) and Figure 2 of the paper).
    """
    noisy = torch.as_tensor(np.asarray(noisy, dtype=bool))
    if noisy.ndim == 1:
        noisy = noisy[None]

    def clean_acc(run: TwoLayerRun) -> torch.Tensor:
        ok = (run.margins > 0).to(run.dtype)
        w = (~noisy).to(run.dtype)
        return (ok * w).sum(1) / w.sum(1).clamp_min(1)

    def noisy_fit(run: TwoLayerRun) -> torch.Tensor:
        ok = (run.margins > 0).to(run.dtype)
        w = noisy.to(run.dtype)
        return (ok * w).sum(1) / w.sum(1).clamp_min(1)

    return {"clean_acc": clean_acc, "noisy_fit": noisy_fit}


def train(datas: Sequence[XORData] | XORData, *, alpha, steps: int, record=1,
          parametrization: str = "direct", dtype: str = "float64", metrics=None, probes=None,
          progress: bool | None = None) -> TwoLayerRun:
    r"""Train the paper's network on a batch of draws (one engine call) and record the diagnostics.

    The network f(x; W) = Σ_j a_j ReLU(⟨w_j, x⟩), logistic loss, W⁽⁰⁾ and the data from each
    :class:`XORData`, constant step α (a number, or one per draw), ``steps`` GD steps.

    At every recorded step the history holds, besides the engine's own diagnostics:
    ``proj`` = W⁽ᵗ⁾[μ₁ μ₂] (B, m, 2), ``norms`` = ‖w_j⁽ᵗ⁾‖ (B, m), ``nac`` (B, m): 1 where neuron j
    satisfies Condition 9 for its own mean (see :func:`own_means`), ``out`` (B, n): f(x_i; W⁽ᵗ⁾),
    and ``clean_acc``/``noisy_fit`` (:func:`train_accuracy_metrics`). The returned run also
    carries ``run.feature_change`` (B,): at the last step, the smallest relative change of the
    features φ(W x_i) over the training points (Proposition 2).

    Parameters
    ----------
    datas : XORData or sequence of XORData with equal n and m
    alpha : float or array (B,)
    steps : int
    record : see :func:`overparam.record_steps` (default: every step)
    parametrization : "direct" (default; the frame has only D = 2 + n + m coordinates, so the
        row-span form gains nothing and the direct form makes test predictions cheap) or "rowspan"
    dtype, metrics, probes, progress : passed to the engine (extra metrics and probes are added)

    Used in: Chapter 2 (every network of the chapter).
    """
    datas = [datas] if isinstance(datas, XORData) else list(datas)
    batch = stack(datas)
    X = torch.as_tensor(batch["X"])
    W0 = torch.as_tensor(batch["W0"])
    proj0 = (W0 @ torch.as_tensor(batch["mu"])).numpy()
    own, _ = own_means(batch["a"], proj0)
    Z0 = W0 @ X.transpose(1, 2)
    act = ReLU()
    all_metrics = {
        "proj": lambda run: run.project("mu"),
        "norms": lambda run: run.row_norms(),
        "out": lambda run: run.outputs_train,
        "nac": _nac_metric(torch.as_tensor(batch["cluster"]), torch.as_tensor(own)),
        **train_accuracy_metrics(batch["noisy"]),
        **dict(metrics or {}),
    }
    run = train_two_layer(batch["X"], batch["y"], batch["W0"], batch["a"], activation=act,
                          loss=Logistic(), step=alpha, max_steps=steps, record=record,
                          metrics=all_metrics, probes={"mu": batch["mu"], **dict(probes or {})},
                          parametrization=parametrization, dtype=dtype, progress=progress)
    run.xor = batch
    run.own_cluster = own
    run.feature_change = _feature_change(act.value(Z0), run.Z, act).cpu().numpy()
    return run


# ============================================================================ diagnostics
@dataclass
class Trace:
    """The chapter's diagnostics along a run, as arrays over recorded steps R and runs B.

    Attributes
    ----------
    steps : (R,)
    cos : (R, B, m)
        cos(w_j⁽ᵗ⁾, own mean) (:func:`alignment`).
    J : (B, m) bool
        Lemma 4's set J (all four J_μ together), fixed at initialization.
    J_sizes : (B, 4)
        |J_μ| for μ = +μ₁, −μ₁, +μ₂, −μ₂.
    nac : (R, B)
        Fraction of J satisfying Condition 9.
    ortho : (R, B)
        max over J of |⟨w_j, other mean⟩| / (3α|a_j|) (Condition 10 holds iff ≤ 1).
    growth : (R, B)
        max over j of ‖w_j⁽ᵗ⁾‖ / (2|a_j|αt) (Lemma 14 holds iff ≤ 1; NaN at t = 0).
    frobenius : (R, B)
        ‖W⁽ᵗ⁾‖_F.
    feature_change : (B,)
        min_i ‖φ(W⁽ᵗ⁾x_i) − φ(W⁽⁰⁾x_i)‖ / ‖φ(W⁽⁰⁾x_i)‖ at the last step t of the run.
    out : (R, B, n)
        Training outputs f(x_i; W⁽ᵗ⁾).

    Used in: Chapter 2 (the checks and figures of the verification).
    """

    steps: np.ndarray
    cos: np.ndarray
    J: np.ndarray
    J_sizes: np.ndarray
    nac: np.ndarray
    ortho: np.ndarray
    growth: np.ndarray
    frobenius: np.ndarray
    feature_change: np.ndarray
    out: np.ndarray

    def at(self, t: int) -> int:
        """Index of step ``t`` among the recorded steps."""
        idx = np.flatnonzero(self.steps == t)
        if idx.size == 0:
            raise ValueError(f"t must be a recorded step {self.steps.tolist()}, got {t}")
        return int(idx[0])

    def cos_quantile(self, q: float) -> np.ndarray:
        """The q-quantile over J of cos(w_j, own mean), (R, B)."""
        q = require_real("q", q, low=0.0, high=1.0)
        out = np.empty(self.cos.shape[:2])
        for b in range(self.cos.shape[1]):
            out[:, b] = np.quantile(self.cos[:, b, self.J[b]], q, axis=1)
        return out


def alignment(proj, norms, a, own_cluster) -> np.ndarray:
    r"""cos(w_j, own mean) = s_j⟨w_j, μ_{k_j}⟩ / ‖w_j‖ for every neuron (see :func:`own_means`).

    Parameters
    ----------
    proj : array (..., m, 2)
        W[μ₁ μ₂].
    norms : array (..., m)
        ‖w_j‖.
    a : array (m,) or (B, m)
    own_cluster : array (B, m) or (m,)

    Used in: Chapter 2, Lemmas 4 and 12.
    """
    proj = np.asarray(proj, dtype=float)
    norms = np.asarray(norms, dtype=float)
    own_cluster = np.asarray(own_cluster)
    k = own_cluster // 2
    s = np.where(own_cluster % 2 == 0, 1.0, -1.0)
    kk = np.broadcast_to(k, proj.shape[:-1])[..., None]
    v = np.take_along_axis(proj, kk, axis=-1)[..., 0]
    return s * v / norms


def lemma4_sets(cos0, own_cluster, d: int, C0: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    r"""Lemma 4's sets: J_μ = {j : own mean μ, cos(w_j⁽⁰⁾, μ) ≥ 1/(3C₀√d)} and J = ∪ J_μ.

    Parameters
    ----------
    cos0 : array (B, m)
        cos(w_j⁽⁰⁾, own mean).
    own_cluster : array (B, m)
    d : int
    C0 : float, > 1

    Returns
    -------
    J : ndarray (B, m) of bool
    sizes : ndarray (B, 4)
        |J_μ| for μ = +μ₁, −μ₁, +μ₂, −μ₂. Lemma 4: each ≥ (m/4)(1 − 1/C₀)² and
        |J| ≥ m(1 − 1/C₀)² with high probability.

    Used in: Chapter 2, Lemma 4.
    """
    d = require_int("d", d, low=1)
    C0 = require_real("C0", C0, low=1.0, low_open=True)
    cos0 = np.atleast_2d(np.asarray(cos0, dtype=float))
    own_cluster = np.atleast_2d(np.asarray(own_cluster))
    J = cos0 >= 1 / (3 * C0 * math.sqrt(d))
    sizes = np.stack([(J & (own_cluster == c)).sum(1) for c in range(4)], axis=1)
    return J, sizes


def nac(nac_per_neuron, J) -> np.ndarray:
    """Fraction of J satisfying the neuron alignment condition (Condition 9): (R, B).

    Used in: Chapter 2, Condition 9 and Lemma 13.
    """
    nac_per_neuron = np.asarray(nac_per_neuron, dtype=float)
    J = np.asarray(J, dtype=bool)
    return (nac_per_neuron * J).sum(-1) / np.maximum(J.sum(-1), 1)


def orthogonality_ratio(proj, a, J, alpha) -> np.ndarray:
    r"""max over j ∈ J of |⟨w_j⁽ᵗ⁾, μ_other⟩| / (3α|a_j|): Condition 10 holds iff it is ≤ 1.

    μ_other is μ₂ for the neurons with a_j > 0 (J_{±μ₁}) and μ₁ for a_j < 0 (J_{±μ₂}).

    Parameters
    ----------
    proj : array (R, B, m, 2)
    a : array (B, m)
    J : array (B, m) of bool
    alpha : float or array (B,)

    Used in: Chapter 2, Condition 10 and Lemma 13.
    """
    proj = np.asarray(proj, dtype=float)
    a = np.asarray(a, dtype=float)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), a.shape[:1])[:, None]
    other = np.where(a > 0, proj[..., 1], proj[..., 0])
    ratio = np.abs(other) / (3 * alpha * np.abs(a))
    return np.where(J, ratio, -np.inf).max(-1)


def norm_growth_ratio(norms, steps, a, alpha) -> np.ndarray:
    r"""max_j ‖w_j⁽ᵗ⁾‖ / (2|a_j|αt) for t ≥ 1 (NaN at t = 0): Lemma 14 holds iff ≤ 1.

    Parameters
    ----------
    norms : array (R, B, m)
    steps : array (R,)
    a : array (B, m)
    alpha : float or array (B,)

    Used in: Chapter 2, Lemma 14.
    """
    norms = np.asarray(norms, dtype=float)
    steps = np.asarray(steps, dtype=float)
    a = np.asarray(a, dtype=float)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), a.shape[:1])[:, None]
    t = np.where(steps > 0, steps, np.nan)[:, None, None]
    return (norms / (2 * np.abs(a) * alpha * t)).max(-1)


def feature_change(Z0, Zt) -> np.ndarray:
    r"""min_i ‖φ(Zt[:, i]) − φ(Z0[:, i])‖ / ‖φ(Z0[:, i])‖ for preactivations (..., m, n).

    Proposition 2 bounds it below by 1/(C ω_init √(md)).

    Used in: Chapter 2, Proposition 2.
    """
    Z0 = torch.as_tensor(np.asarray(Z0, dtype=float))
    Zt = torch.as_tensor(np.asarray(Zt, dtype=float))
    if Z0.shape != Zt.shape:
        raise ValueError(f"Z0 and Zt must have the same shape, got {tuple(Z0.shape)} and "
                         f"{tuple(Zt.shape)}")
    act = ReLU()
    return _feature_change(act.value(Z0), Zt, act).numpy()


def trace(run: TwoLayerRun, d: int, alpha, C0: float = 2.0) -> Trace:
    """Collect the diagnostics of a run made by :func:`train` (all arrays over steps and runs).

    Used in: Chapter 2 (every figure and check of the verification).
    """
    h = run.history
    a = run.xor["a"]
    cos = alignment(h["proj"], h["norms"], a, run.own_cluster)
    first = np.flatnonzero(h.steps == 0)
    if first.size == 0:
        raise ValueError("the run must record step 0 (Lemma 4 defines its sets at t = 0)")
    J, sizes = lemma4_sets(cos[first[0]], run.own_cluster, d, C0)
    return Trace(
        steps=h.steps,
        cos=cos,
        J=J,
        J_sizes=sizes,
        nac=nac(h["nac"], J),
        ortho=orthogonality_ratio(h["proj"], a, J, alpha),
        growth=norm_growth_ratio(h["norms"], h.steps, a, alpha),
        frobenius=h["frobenius_norm"],
        feature_change=run.feature_change,
        out=h["out"],
    )


# ============================================================================ test error
def test_errors(runs: TwoLayerRun | Sequence[TwoLayerRun], datas: Sequence[XORData], *,
                count: int = 20_000, chunk: int = 500, linear=None) -> dict[str, np.ndarray]:
    """Test errors of trained networks on ``count`` fresh draws per seed from the law P.

    Several runs trained on the same draws (e.g. two step sizes) are evaluated on the same test
    points, drawn once chunk by chunk (:meth:`XORData.test_chunks`); predictions use the engine's
    ``run.outputs``. sgn(0) counts as an error.

    Parameters
    ----------
    runs : a run of :func:`train` or a list of them, each with one batch element per draw
    datas : the draws, in batch order
    count, chunk : test points per draw, and how many to hold in memory at once
    linear : array (B, D), optional
        Linear rules θ (:func:`fit_linear`) to evaluate on the same points.

    Returns
    -------
    dict of arrays, (len(runs), B) or (B,) for a single run
        ``clean``: P(sgn f(x) ≠ ỹ); ``noisy``: P(sgn f(x) ≠ y), the error of Theorem 1(2);
        ``eta_emp``: flip rate of the test labels (B,); ``linear``: clean error of the linear
        rules (B,), if given.

    Used in: Chapter 2, Theorem 1(2) and the linear baseline.
    """
    single = isinstance(runs, TwoLayerRun)
    runs = [runs] if single else list(runs)
    datas = list(datas)
    B = len(datas)
    if not runs or any(r.batch != B for r in runs):
        raise ValueError(f"runs must be one or more runs with one batch element per draw ({B})")
    count = require_int("count", count, low=1)
    clean = np.zeros((len(runs), B))
    noisy = np.zeros((len(runs), B))
    flips = np.zeros(B)
    lin = np.zeros(B)
    theta = None if linear is None else np.asarray(linear, dtype=float)
    if theta is not None and theta.shape[0] != B:
        raise ValueError(f"linear must have one row per draw ({B}), got shape {theta.shape}")
    streams = [x.test_chunks(count, chunk) for x in datas]
    for parts in zip(*streams, strict=True):
        for r_i, run in enumerate(runs):
            Xt = np.stack([np.pad(p[0], ((0, 0), (0, run.p - p[0].shape[1]))) for p in parts])
            f = run.outputs(Xt).cpu().numpy()
            yc = np.stack([p[1] for p in parts])
            yn = np.stack([p[2] for p in parts])
            clean[r_i] += (yc * f <= 0).sum(1)
            noisy[r_i] += (yn * f <= 0).sum(1)
        flips += (yc != yn).sum(1)
        if theta is not None:
            for b, p in enumerate(parts):
                lin[b] += ((p[0] @ theta[b, :p[0].shape[1]]) * p[1] <= 0).sum()
    out = {"clean": clean / count, "noisy": noisy / count, "eta_emp": flips / count}
    if single:
        out["clean"], out["noisy"] = out["clean"][0], out["noisy"][0]
    if theta is not None:
        out["linear"] = lin / count
    return out


def test_accuracy_metric(datas: Sequence[XORData], dim: int, count: int = 5000):
    """Probes and a metric that record the test accuracy (noisy labels) along a run cheaply.

    The test inputs are registered as probes, so ``run.project`` gives their preactivations
    W⁽ᵗ⁾x (O(mnk) per record in the row-span form, from the precomputed W⁽⁰⁾x and Xx).

    Returns
    -------
    probes, metrics : dicts to pass to :func:`train`
        ``metrics["test_acc"]`` is P(sgn f(x) = y) on ``count`` test points per draw (B,).
    flip_rate : ndarray (B,)
        The fraction of flipped labels among those test points (1 − flip_rate is the best
        accuracy possible on them).

    Used in: Chapter 2, the paper's Figure 2 (test accuracy over 10⁵ steps).
    """
    parts = [next(x.test_chunks(count, count)) for x in datas]
    V = np.stack([np.pad(p[0], ((0, 0), (0, dim - p[0].shape[1]))).T for p in parts])
    yn = torch.as_tensor(np.stack([p[2] for p in parts]))

    def test_acc(run: TwoLayerRun) -> torch.Tensor:
        f = (run.a.unsqueeze(1) @ run.activation.value(run.project("test"))).squeeze(1)
        return (f * yn.to(f.device) > 0).to(run.dtype).mean(1)

    flip_rate = np.array([np.mean(p[1] != p[2]) for p in parts])
    return {"test": V}, {"test_acc": test_acc}, flip_rate


def fit_linear(X, y, steps: int = 300) -> np.ndarray:
    r"""Homogeneous linear logistic regression θ (x ↦ sgn⟨θ, x⟩) by full-batch GD from θ = 0.

    Minimizes (1/n) Σ_i ℓ(y_i⟨θ, x_i⟩) with the library's logistic loss and step 4n/‖X‖_F²
    (at most 1/L, L = ‖X‖₂²/(4n) the smoothness of the loss); batched over a leading axis.

    Parameters
    ----------
    X : array (n, D) or (B, n, D)
    y : array (n,) or (B, n)
    steps : int

    Returns
    -------
    ndarray (D,) or (B, D)

    Used in: Chapter 2, the linear baseline (no homogeneous linear rule beats chance on the XOR
    law).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    steps = require_int("steps", steps, low=1)
    single = X.ndim == 2
    if single:
        X, y = X[None], y[None]
    if X.ndim != 3 or y.shape != X.shape[:2]:
        raise ValueError(f"X must be (n, D) or (B, n, D) and y (n,) or (B, n); got {X.shape}, "
                         f"{y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isin(y, (-1.0, 1.0)))):
        raise ValueError("X must be finite and y must hold labels +1 and -1")
    n = X.shape[1]
    # ‖X‖_F² ≥ ‖X‖₂², so 4n/‖X‖_F² is a safe step (numpy's einsum, no multithreaded BLAS)
    lr = 4 * n / np.einsum("bnd,bnd->b", X, X)
    theta = np.zeros((X.shape[0], X.shape[2]))
    loss = Logistic()
    for _ in range(steps):
        margins = y * np.einsum("bnd,bd->bn", X, theta)
        g = loss.neg_deriv(torch.from_numpy(margins)).numpy()
        theta += lr[:, None] * np.einsum("bn,bnd->bd", g * y, X) / n
    out = theta
    return out[0] if single else out


def linear_test_error(theta, data: XORData, count: int = 20_000) -> float:
    """Clean test error of x ↦ sgn⟨θ, x⟩ on ``count`` fresh points of ``data``'s test stream.

    (For a homogeneous rule it is exactly 1/2 in law: x ↦ −x keeps the label and flips the sign.)

    Used in: Chapter 2, the linear baseline.
    """
    theta = np.asarray(theta, dtype=float)
    if theta.shape != (data.dim,):
        raise ValueError(f"theta must have shape ({data.dim},), got {theta.shape}")
    wrong = 0
    for Xt, yc, _ in data.test_chunks(count):
        wrong += int(((Xt @ theta) * yc <= 0).sum())
    return wrong / count


def plane_outputs(proj, a, u, v) -> np.ndarray:
    r"""f(uμ₁ + vμ₂; W) on a grid, from W[μ₁ μ₂] only: Σ_j a_j ReLU(u⟨w_j,μ₁⟩ + v⟨w_j,μ₂⟩).

    Parameters
    ----------
    proj : array (m, 2)
        W μ₁ and W μ₂ of one network.
    a : array (m,)
    u, v : arrays of equal shape

    Used in: Chapter 2, the decision boundary in the (⟨μ₁,x⟩, ⟨μ₂,x⟩) plane.
    """
    proj = np.asarray(proj, dtype=float)
    a = np.asarray(a, dtype=float)
    if proj.shape != (a.size, 2):
        raise ValueError(f"proj must have shape ({a.size}, 2), got {proj.shape}")
    u, v = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(v, dtype=float))
    pre = np.outer(proj[:, 0], u.ravel()) + np.outer(proj[:, 1], v.ravel())
    return (a @ np.maximum(pre, 0.0)).reshape(u.shape)


# ============================================================================ plots
def _plotting():
    from . import plotting

    return plotting


def plot_amplification(ds, t, med, p10, cos0_scaled, cos1, *, alphas, axes=None):
    r"""The amplification figure: (left) median and 10th percentile over J of cos(w_j, own mean)
    against t, one curve per d; (right) √d·cos at t = 0 and cos at t = 1 against d.

    Parameters
    ----------
    ds : sequence of d
    t : (R,) steps
    med, p10 : (len(ds), R) — for the first α
    cos0_scaled : (len(ds),) median √d·cos at t = 0
    cos1 : (len(alphas), len(ds)) median cos at t = 1
    alphas : the step sizes of ``cos1`` rows

    Used in: Chapter 2, verify.
    """
    pl = _plotting()
    fig, ax = pl.figure(2, width=8.5, height=3.6) if axes is None else (axes[0].figure, axes)
    for i, d in enumerate(ds):
        ax[0].plot(t, med[i], marker=pl.MARKERS[i], color=pl.color(i), label=f"d = {d}")
        ax[0].plot(t, p10[i], ls="--", color=pl.color(i), lw=1.2)
    ax[0].plot([], [], ls="--", color="0.4", lw=1.2, label="10th percentile")
    pl.label(ax[0], "GD step t", r"cos($w_j^{(t)}$, own mean), $j \in J$", yscale="log")
    ax[1].plot(ds, cos0_scaled, marker="o", color=pl.color(7),
               label=r"$\sqrt{d}\,\cdot$ median cos at t = 0")
    for i, al in enumerate(alphas):
        ax[1].plot(ds, cos1[i], marker=pl.MARKERS[i + 1], color=pl.color(i + 1),
                   label=f"median cos at t = 1 (α = {al:g})")
    ax[1].set_ylim(0, max(1.0, float(np.max(cos0_scaled)) * 1.15))
    pl.label(ax[1], "dimension d", "alignment", xscale="log")
    return fig


def plot_alignment_histograms(cos_by_d: Mapping, steps: Sequence[int], *, bins: int = 50,
                              axes=None):
    r"""Histograms of cos(w_j, own mean) over all neurons at the given steps, one outline per d.

    At t = 0 the panel shows √d·cos (alignment in units of 1/√d, where Lemma 4 lives); at later
    steps cos itself, on a common axis, so that the amplification from order 1/√d to order one
    is visible. ``cos_by_d`` maps d to an array (len(steps), N) of alignments (neurons pooled over
    seeds).

    Used in: Chapter 2, verify.
    """
    pl = _plotting()
    k = len(steps)
    if axes is None:
        fig, ax = pl.figure(k, width=min(2.8 * k + 0.2, 8.5), height=3.1)
        ax = np.atleast_1d(ax)
    else:
        ax = np.atleast_1d(axes)
        fig = ax[0].figure
    for col, t in enumerate(steps):
        scaled = t == 0
        lo, hi = (-0.25, 3.5) if scaled else (-0.2, 1.0)
        edges = np.linspace(lo, hi, bins + 1)
        for i, (d, cos) in enumerate(cos_by_d.items()):
            vals = np.asarray(cos[col]) * (math.sqrt(d) if scaled else 1.0)
            ax[col].hist(np.clip(vals, lo, hi), bins=edges, histtype="step", density=True,
                         color=pl.color(i), lw=1.5, label=f"d = {d}")
        if scaled:
            ax[col].axvline(1 / 6, color="0.3", ls=":", lw=1)
        xl = (r"$\sqrt{d}\,\cdot$ cos($w_j$, own mean) at t = 0" if scaled
              else f"cos($w_j$, own mean) at t = {t}")
        pl.label(ax[col], xl, "density", legend=(col == 0))
    return fig


def plot_conditions(t, nac_frac, ortho, growth, labels, *, controls=None, axes=None):
    """NAC fraction, almost-orthogonality ratio and Lemma 14's ratio against t.

    ``nac_frac``, ``ortho``, ``growth``: lists (one per curve) of (R,) arrays (worst over runs),
    drawn solid in every panel; ``controls``: optional list of (label, t, growth, i) curves drawn
    dashed in the third panel in palette colour i. One legend below the panels names them all.

    Used in: Chapter 2, verify.
    """
    pl = _plotting()
    fig, ax = pl.figure(3, width=8.5, height=3.6) if axes is None else (axes[0].figure, axes)
    for i, lab in enumerate(labels):
        ti = t[i]
        ax[0].plot(ti[1:], nac_frac[i][1:], marker=pl.MARKERS[i % 8], color=pl.color(i),
                   label=lab)
        ax[1].plot(ti, ortho[i], marker=pl.MARKERS[i % 8], color=pl.color(i))
        ax[2].plot(ti[1:], growth[i][1:], marker=pl.MARKERS[i % 8], color=pl.color(i))
    for lab, tc, gc, ci in controls or []:
        ax[0].plot([], [], ls="--", color=pl.color(ci), marker="x", label=lab)  # legend entry
        ax[2].plot(tc[1:], gc[1:], ls="--", color=pl.color(ci), marker="x")
    ax[0].axhline(0.95, color="0.3", lw=1, ls=":")
    ax[1].axhline(1.0, color="0.3", lw=1, ls=":")
    ax[2].axhline(1.0, color="0.3", lw=1, ls=":")
    pl.label(ax[0], "GD step t", "fraction of J with NAC", legend=False)
    pl.label(ax[1], "GD step t", r"max$_J$ |⟨$w_j$, other mean⟩| / 3α|$a_j$|")
    pl.label(ax[2], "GD step t", r"max$_j$ ‖$w_j$‖ / 2α|$a_j$|t", legend=False)
    handles, names = ax[0].get_legend_handles_labels()
    ncol = len(labels) if len(handles) <= 2 * len(labels) else math.ceil(len(handles) / 2)
    fig.legend(handles, names, loc="outside lower center", ncol=ncol)
    return fig


def plot_boundary(ax, proj, a, X, y, noisy, *, extent=1.6, grid=151, show_points=500,
                  legend=False):
    r"""Decision regions of f in the plane spanned by μ₁, μ₂ and the training points there.

    The background is sgn f(uμ₁ + vμ₂) (the section of the decision regions by the plane; in high
    dimension a point's own noise moves it off the plane), the black line f = 0, the dotted lines
    the ideal boundary |u| = |v|. Points at (⟨μ₁,x_i⟩, ⟨μ₂,x_i⟩), coloured by observed label;
    noisy (flipped) points are drawn as crosses. With ``legend=True`` the legend goes below the
    axes, where it hides no point.

    Used in: Chapter 2, verify and explore.
    """
    pl = _plotting()
    u = np.linspace(-extent, extent, grid)
    U, V = np.meshgrid(u, u)
    F = plane_outputs(proj, a, U, V)
    ax.contourf(U, V, np.sign(F), levels=[-2, 0, 2], colors=[pl.color(1), pl.color(0)],
                alpha=0.18)
    if np.any(F > 0) and np.any(F <= 0):
        ax.contour(U, V, F, levels=[0.0], colors="k", linewidths=1.2)
    ax.plot([-extent, extent], [-extent, extent], ":", color="0.4", lw=1)
    ax.plot([-extent, extent], [extent, -extent], ":", color="0.4", lw=1)
    X = np.asarray(X)
    y = np.asarray(y)
    noisy = np.asarray(noisy, dtype=bool)
    keep = np.arange(len(y)) < show_points
    for lab, ci, name in ((1.0, 0, "y = +1"), (-1.0, 1, "y = −1")):
        sel = keep & (y == lab) & ~noisy
        ax.scatter(X[sel, 0], X[sel, 1], s=9, color=pl.color(ci), alpha=0.7, lw=0, label=name)
        sel = keep & (y == lab) & noisy
        ax.scatter(X[sel, 0], X[sel, 1], s=30, color=pl.color(ci), marker="x", lw=1.4,
                   label=f"{name}, flipped")
    ax.set_xlim(-extent, extent)
    ax.set_ylim(-extent, extent)
    ax.set_aspect("equal")
    pl.label(ax, r"⟨$\mu_1$, x⟩", r"⟨$\mu_2$, x⟩", legend=False)
    if legend:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, columnspacing=1.0,
                  handletextpad=0.3)
    return ax


def plot_errors(ds, clean, noisy, eta_emp, linear, *, eta, axes=None):
    """Test errors against d: network (clean and noisy labels), η_emp, and the linear baseline.

    Each of ``clean``, ``noisy``, ``eta_emp``, ``linear`` is (len(ds), runs).

    Used in: Chapter 2, verify.
    """
    pl = _plotting()
    if axes is None:
        fig, ax = pl.figure(1, width=4.8, height=3.6)
    else:
        ax, fig = axes, axes.figure
    for i, (vals, lab) in enumerate(((clean, "network, clean labels"),
                                     (noisy, "network, noisy labels"),
                                     (linear, "linear rule sgn⟨θ, x⟩, clean labels"))):
        vals = np.asarray(vals)
        ax.plot(ds, vals.mean(1), marker=pl.MARKERS[i], color=pl.color(i), label=lab)
        ax.scatter(np.repeat(ds, vals.shape[1]), vals.ravel(), s=8, color=pl.color(i), alpha=0.5)
    ax.plot(ds, np.asarray(eta_emp).mean(1), ls=":", color="0.3", label="test flip rate")
    ax.axhline(eta, color="0.6", lw=0.8)
    ax.set_ylim(-0.02, 0.6)
    pl.label(ax, "dimension d", "test error", xscale="log", legend=True)
    return fig


def plot_training_curves(ax, time, train_acc, test_acc, *, optimum, note=""):
    """Train and test accuracy against time (log axis), as in the paper's Figure 2.

    Train accuracy in blue (palette colour 0), test accuracy in green (palette colour 2).
    ``optimum`` is the best test accuracy possible (1 − the test labels' flip rate), drawn dotted;
    ``note`` is written in the lower right corner.

    Used in: Chapter 2, verify.
    """
    pl = _plotting()
    s = np.asarray(time)
    keep = s > 0
    ax.plot(s[keep], np.asarray(train_acc)[keep], color=pl.color(0), label="train accuracy")
    ax.plot(s[keep], np.asarray(test_acc)[keep], color=pl.color(2), label="test accuracy")
    ax.axhline(optimum, color="0.4", ls=":", lw=1, label=f"best possible ({optimum:.3f})")
    ax.set_ylim(0.45, 1.02)
    if note:
        ax.text(0.97, 0.04, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=9)
    pl.label(ax, "GD step t", "accuracy", xscale="log", legend=True)
    return ax


def plot_explore(*, d: float = 400, n: int = 400, m: int = 200, eta: float = 0.1,
                 alpha: float = 0.05, init: float = 0.01, t: int = 6, seed: int = 0,
                 n_test: int = 2000):
    r"""The explorer's figure: train the network of Theorem 1 for ``t`` steps and show the alignment
    histogram at step t, the decision boundary in the (⟨μ₁,x⟩, ⟨μ₂,x⟩) plane, and the test errors.

    Parameters
    ----------
    d, n, m, eta : dimension, samples, width (even), flip rate; σ² = 1/(4d) as in the chapter
    alpha : step size α
    init : ω_init √(md) (the initialization scale; Lemma 14 needs it ≤ α/3)
    t : the number of GD steps shown
    seed : the draw
    n_test : fresh test points

    Used in: Chapter 2, explore.
    """
    pl = _plotting()
    d = int(round(d))
    t = require_int("t", t, low=0)
    init = require_real("init", init, low=0.0, low_open=True)
    m = require_int("m", m, low=2)
    omega = init / math.sqrt(m * d)
    data = sample_xor(seed, d=d, n=n, m=m, sigma=math.sqrt(1 / (4 * d)), eta=eta, omega=omega)
    Xt, yc, yn = next(data.test_chunks(n_test, n_test))
    rec = sorted({int(round(s)) for s in np.linspace(0, t, min(t, 8) + 1)})
    run = train(data, alpha=alpha, steps=t, record=rec, progress=False,
                metrics={"test_out": lambda r: r.outputs(Xt)})
    tr = trace(run, d, alpha)
    f_test = run.history["test_out"][:, 0]
    clean = (f_test * yc <= 0).mean(1)
    noisy = (f_test * yn <= 0).mean(1)
    fig, ax = pl.figure(3, width=8.5, height=3.9)
    edges = np.linspace(-0.3, 1.0, 53)
    ax[0].hist(np.clip(tr.cos[0, 0], -0.3, 1), bins=edges, histtype="step", color="0.4",
               density=True, label="t = 0")
    ax[0].hist(np.clip(tr.cos[-1, 0], -0.3, 1), bins=edges, color=pl.color(0), alpha=0.6,
               density=True, label=f"t = {t}")
    pl.label(ax[0], "cos($w_j$, own mean)", "density", legend=True)
    plot_boundary(ax[1], run.history["proj"][-1, 0], data.a, data.X[:, :2], data.y, data.noisy,
                  show_points=400)
    ax[2].plot(tr.steps, clean, marker="o", color=pl.color(0), label="test error, clean labels")
    ax[2].plot(tr.steps, noisy, marker="s", color=pl.color(3), label="test error, noisy labels")
    ax[2].plot(tr.steps, 1 - run.history["noisy_fit"][:, 0], marker="^", color=pl.color(2),
               label="flipped train points given their clean label")
    ax[2].axhline(eta, color="0.5", ls=":", lw=1, label="flip rate η")
    T_alpha = 1 + 1 / (4 * alpha)
    if T_alpha <= max(t, 1):
        ax[2].axvline(T_alpha, color="0.3", ls="--", lw=1, label="T = 1 + 1/(4α)")
    ax[2].set_ylim(-0.03, 1.03)
    pl.label(ax[2], "GD step", "fraction", legend=False)
    # one legend below the panels, where it hides no curve and no point; its last two lines are
    # the clean test error at step t and Lemma 14's condition
    rel = "≤" if init <= alpha / 3 else ">"
    ok = "holds" if init <= alpha / 3 else "fails"
    for text in (f"clean test error at t = {t}: {clean[-1]:.3f}",
                 f"ω√(md) {rel} α/3: Lemma 14's condition {ok}"):
        ax[2].plot([], [], ls="none", label=text)
    fig.legend(*ax[2].get_legend_handles_labels(), loc="outside lower center", ncol=2)
    return fig
