r"""Exact low-dimensional sampling of isotropic Gaussian vectors in high dimension.

A network trained by GD from a Gaussian initialization on Gaussian-cluster data only ever sees
inner products between the N = m + n vectors {w_j⁽⁰⁾} ∪ {z_i} and the k fixed cluster-mean
directions. By rotation invariance, their joint law does not need R^p: write each vector as its
components along the k fixed orthonormal directions (i.i.d. N(0, 1)) plus a component in the
orthogonal complement R^{p−k}. The Gram matrix of N i.i.d. N(0, I_{p−k}) vectors is Wishart, and
by the **Bartlett decomposition** (Muirhead 1982, Theorem 3.2.14) it equals LLᵀ with L lower
triangular, L_ii² ~ χ²_{p−k−i+1} and L_ij ~ N(0, 1) (i > j), all independent. The rows of L are the
coordinates of the vectors in the orthonormal basis that Gram–Schmidt builds from them.

So the N vectors can be represented *exactly in law* by N × (k + N) coordinates, at a cost
independent of p. A fresh test vector z ~ N(0, I_p) has i.i.d. N(0, 1) coordinates in that basis,
and its remaining component is orthogonal to every training vector, the initialization and the
means, hence to every row of W⁽ᵗ⁾ (which stays in their span): it cannot change any prediction.
When p − k < N there is no room to save; the vectors are then drawn directly in R^p.

Used in: Chapter 1 (p up to 10⁶ and beyond), Chapter 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import require_int

__all__ = ["GaussianFrame", "gaussian_frame"]


@dataclass
class GaussianFrame:
    """N scaled isotropic Gaussian vectors in R^p, in exact low-dimensional coordinates.

    Attributes
    ----------
    coords : ndarray (N, D)
        Row i is vector i: its first k coordinates are along the fixed directions e_1..e_k, the
        rest along an orthonormal basis of the complement that contains every vector's component.
    p : int
        The ambient dimension the vectors live in.
    k : int
        Number of fixed directions (the first k coordinates).
    reduced : bool
        True when the Bartlett representation was used (D = k + N < p); False when the vectors
        were drawn directly (D = p).
    """

    coords: np.ndarray
    p: int
    k: int
    reduced: bool

    @property
    def dim(self) -> int:
        """D, the number of coordinates."""
        return self.coords.shape[1]

    def fixed_direction(self, i: int) -> np.ndarray:
        """The fixed direction e_i (i < k) in these coordinates."""
        if not 0 <= i < self.k:
            raise ValueError(f"i must satisfy 0 <= i < k = {self.k}, got {i}")
        e = np.zeros(self.dim)
        e[i] = 1.0
        return e

    def fresh(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Coordinates of ``count`` fresh N(0, I_p) vectors, independent of the frame: (count, D).

        Only their inner products with vectors in the frame's span are faithful, which is all a
        prediction of a network trained on the frame's vectors depends on.
        """
        count = require_int("count", count, low=0)
        return rng.standard_normal((count, self.dim))


def gaussian_frame(rng: np.random.Generator, p: int, scales, k: int = 0) -> GaussianFrame:
    """Draw vectors v_i = scales[i] · g_i with g_i i.i.d. N(0, I_p), in exact coordinates.

    Parameters
    ----------
    rng : numpy Generator
    p : int
        Ambient dimension, ``p >= k + 1``.
    scales : array (N,)
        Standard deviation of each vector's entries (e.g. ω_init for the rows of W⁽⁰⁾ and 1 for
        cluster noise), each > 0.
    k : int
        Number of fixed orthonormal directions kept as the first coordinates (e.g. 1 for the
        cluster mean μ/‖μ‖, 2 for μ₁, μ₂).

    Returns
    -------
    GaussianFrame
        Exact in law: the joint distribution of all inner products among the vectors and with the
        fixed directions is that of the vectors in R^p.
    """
    p = require_int("p", p, low=1)
    k = require_int("k", k, low=0, high=p - 1)
    scales = np.asarray(scales, dtype=float).ravel()
    if scales.size == 0 or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError("scales must be a non-empty array of finite values > 0")
    N = scales.size
    rest = p - k
    if rest <= N:
        coords = rng.standard_normal((N, p))
        return GaussianFrame(coords * scales[:, None], p, k, reduced=False)
    fixed = rng.standard_normal((N, k))
    L = np.tril(rng.standard_normal((N, N)), -1)
    L[np.diag_indices(N)] = np.sqrt(rng.chisquare(rest - np.arange(N)))
    coords = np.concatenate([fixed, L], axis=1)
    return GaussianFrame(coords * scales[:, None], p, k, reduced=True)
