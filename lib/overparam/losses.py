r"""Margin losses ℓ(z) of a prediction's margin z = y f(x), each with g(z) = −ℓ'(z).

The GD engine only uses ``value`` and ``neg_deriv``, so a new loss is a small class with those
two methods.

Used in: Chapters 1 and 2 (logistic loss), the GD engine.
"""

from __future__ import annotations

import torch

from ._validate import require_real

__all__ = ["MarginLoss", "Logistic", "Exponential", "PolynomialTail"]


class MarginLoss:
    """Interface: ``value(z)`` = ℓ(z) and ``neg_deriv(z)`` = −ℓ'(z) ≥ 0, elementwise."""

    name = "loss"

    def value(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def neg_deriv(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


class Logistic(MarginLoss):
    r"""ℓ(z) = log(1 + e^{−z}), computed as max(−z, 0) + log1p(e^{−|z|}) (stable and exact for
    any z; torch's softplus switches to a linear approximation beyond a threshold);
    g(z) = −ℓ'(z) = 1/(1 + e^{z}) = sigmoid(−z).

    Used in: Chapter 1 (Theorem 1 of Frei et al., COLT 2022), Chapter 2 (Theorem 1 of Frei et al.,
    JMLR 2023).
    """

    name = "logistic"

    def value(self, z):
        return torch.clamp_min(-z, 0) + torch.log1p(torch.exp(-z.abs()))

    def neg_deriv(self, z):
        return torch.sigmoid(-z)


class Exponential(MarginLoss):
    r"""ℓ(z) = e^{−z}; g(z) = e^{−z}."""

    name = "exponential"

    def value(self, z):
        return torch.exp(-z)

    def neg_deriv(self, z):
        return torch.exp(-z)


class PolynomialTail(MarginLoss):
    r"""A convex, C¹ loss with a polynomial tail of degree κ:
    ℓ(z) = (1 + z)^{−κ} for z ≥ 0 and 1 − κz for z < 0; g(z) = κ(1 + z)^{−κ−1} or κ.

    Parameters
    ----------
    kappa : float
        Tail exponent, ``kappa > 0``.
    """

    def __init__(self, kappa: float) -> None:
        self.kappa = require_real("kappa", kappa, low=0.0, low_open=True)
        self.name = f"PolynomialTail(κ={self.kappa:g})"

    def value(self, z):
        k = self.kappa
        zp = torch.clamp_min(z, 0.0)
        return torch.where(z >= 0, (1 + zp) ** (-k), 1 - k * z)

    def neg_deriv(self, z):
        k = self.kappa
        zp = torch.clamp_min(z, 0.0)
        return torch.where(z >= 0, k * (1 + zp) ** (-k - 1), torch.full_like(z, k))
