r"""Exact reduction of explicit high-dimensional data to the span that gradient descent can reach.

A two-layer network trained by full-batch GD from W⁽⁰⁾ keeps every row of W⁽ᵗ⁾ in
S = span(rows of W⁽⁰⁾, rows of X). Take an orthonormal basis Q of S together with any probe
vectors (cluster means, say), e.g. from a thin QR factorization of the stacked matrix. Then all
the inner products GD uses — ⟨w_j, x_i⟩, ⟨x_i, x_k⟩, ⟨w_j, μ⟩, ‖w_j‖ — are preserved exactly by the
coordinates Qᵀv, so training on the coordinates gives the same network, in N = m + n (+ probes)
dimensions instead of p. Predictions at a new x need only Qᵀx (the rest of x is orthogonal to
every row of W⁽ᵗ⁾).

Unlike :func:`overparam.gaussian.gaussian_frame`, which is exact *in law* for Gaussian data, this
reduction is exact for the given arrays (up to floating-point rounding). It costs one QR
factorization, O(N²p).

Used in: the benchmarks (bench/), Chapter 1.
"""

from __future__ import annotations

import numpy as np
import torch

from ._validate import require_finite_array

__all__ = ["span_coordinates"]


def span_coordinates(*blocks) -> tuple[list[np.ndarray], np.ndarray]:
    """Coordinates of the rows of each block in an orthonormal basis of their joint span.

    Parameters
    ----------
    *blocks : arrays of shape (k_i, p)
        e.g. ``W0`` (m, p), ``X`` (n, p) and the probes ``mu[None, :]``.

    Returns
    -------
    coords : list of ndarray
        ``coords[i]`` has shape (k_i, D) with D = min(Σ k_i, p); inner products between any rows
        are those of the original rows.
    basis : ndarray (p, D)
        The orthonormal basis Q; a new vector x has coordinates ``x @ basis``.
    """
    if not blocks:
        raise ValueError("blocks must hold at least one array")
    arrs = [np.asarray(b) for b in blocks]
    p = arrs[0].shape[-1]
    for i, a in enumerate(arrs):
        if a.ndim != 2 or a.shape[1] != p:
            raise ValueError(f"blocks[{i}] must have shape (k, {p}), got {a.shape}")
        require_finite_array(f"blocks[{i}]", a)
    M = torch.from_numpy(np.concatenate(arrs, axis=0))
    Q, R = torch.linalg.qr(M.T, mode="reduced")  # M.T = Q R, so row i of M is R[:, i]ᵀ in basis Q
    C = R.T.numpy()
    out, start = [], 0
    for a in arrs:
        out.append(C[start:start + a.shape[0]])
        start += a.shape[0]
    return out, Q.numpy()
