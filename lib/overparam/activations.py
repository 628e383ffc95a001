"""Activations of two-layer networks, each with its derivative (and second derivative where it
exists), written for torch tensors.

Used in: Chapter 1 (smoothed leaky ReLU, Theorem 1), Chapter 2 (ReLU), the GD engine.
"""

from __future__ import annotations

import torch

from ._validate import require_real

__all__ = [
    "Activation",
    "ReLU",
    "LeakyReLU",
    "SmoothedLeakyReLU",
    "HuberizedReLU",
]


class Activation:
    """Interface: ``value(z)``, ``deriv(z)`` (and ``second_deriv(z)`` where defined)."""

    name = "activation"

    def value(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def deriv(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def value_and_deriv(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Both at once (one pass over ``z`` where the subclass can)."""
        return self.value(z), self.deriv(z)

    def second_deriv(self, z: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no second derivative")

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        return self.value(z)

    def __repr__(self) -> str:
        return self.name


class ReLU(Activation):
    r"""φ(z) = max(z, 0); φ'(z) = 1[z > 0] (the convention of torch's autograd at 0).

    Used in: Chapter 2 (Frei, Chatterji & Bartlett 2023, the network of Theorem 1).
    """

    name = "ReLU"

    def value(self, z):
        return torch.clamp_min(z, 0)

    def deriv(self, z):
        return (z > 0).to(z.dtype)


class LeakyReLU(Activation):
    r"""γ-leaky ReLU: φ(z) = z for z > 0, γz otherwise; φ'(z) = 1 or γ.

    Parameters
    ----------
    gamma : float
        Leak, ``0 <= gamma <= 1`` (γ = 0 is the ReLU).
    """

    def __init__(self, gamma: float) -> None:
        self.gamma = require_real("gamma", gamma, low=0.0, high=1.0)
        self.name = f"LeakyReLU(γ={self.gamma:g})"

    def value(self, z):
        return torch.where(z > 0, z, self.gamma * z)

    def deriv(self, z):
        return torch.where(z > 0, torch.ones_like(z), torch.full_like(z, self.gamma))


class SmoothedLeakyReLU(Activation):
    r"""The γ-leaky, H-smooth activation of Frei, Chatterji & Bartlett (COLT 2022), Section 2:

    .. math::
        φ(z) = \begin{cases} z - \frac{1-γ}{4H} & z \ge 1/H \\
               \frac{(1-γ)H}{4} z^2 + \frac{1+γ}{2} z & |z| \le 1/H \\
               γ z - \frac{1-γ}{4H} & z \le -1/H \end{cases}

    so that γ ≤ φ' ≤ 1 and |φ''| ≤ (1-γ)H/2 ≤ H.

    Parameters
    ----------
    gamma : float
        Leak, ``0 < gamma <= 1``.
    H : float
        Smoothness, ``H > 0``.

    Used in: Chapter 1, Theorem 1 (the paper's example of a γ-leaky, H-smooth activation).
    """

    def __init__(self, gamma: float, H: float) -> None:
        self.gamma = require_real("gamma", gamma, low=0.0, high=1.0, low_open=True)
        self.H = require_real("H", H, low=0.0, low_open=True)
        self.name = f"SmoothedLeakyReLU(γ={self.gamma:g}, H={self.H:g})"

    # With u = clip(z, -1/H, 1/H): φ'(z) = c1 u + c0 (c1 = (1-γ)H/2, c0 = (1+γ)/2) and
    # φ(z) = u (c1 u / 2 + c0) + γ (z - u) + (1 - γ) max(z - u, 0): the same piecewise function in
    # a few fused passes (the engine's hot loop evaluates it at every step).
    def _parts(self, z):
        g, H = self.gamma, self.H
        u = torch.clamp(z, -1 / H, 1 / H)
        c1, c0 = (1 - g) * H / 2, (1 + g) / 2
        r = z - u
        val = u * (u * (c1 / 2) + c0) + g * r + (1 - g) * torch.clamp_min(r, 0)
        return val, u * c1 + c0

    def value(self, z):
        return self._parts(z)[0]

    def deriv(self, z):
        g, H = self.gamma, self.H
        return torch.clamp(z, -1 / H, 1 / H) * ((1 - g) * H / 2) + (1 + g) / 2

    def value_and_deriv(self, z):
        return self._parts(z)

    def value_reference(self, z):
        """The three-piece formula exactly as printed in the paper (used by the tests)."""
        g, H = self.gamma, self.H
        shift = (1 - g) / (4 * H)
        inner = (1 - g) * H * z * z / 4 + (1 + g) * z / 2
        return torch.where(z >= 1 / H, z - shift, torch.where(z <= -1 / H, g * z - shift, inner))

    def second_deriv(self, z):
        g, H = self.gamma, self.H
        inside = (z.abs() < 1 / H).to(z.dtype)
        return inside * ((1 - g) * H / 2)


class HuberizedReLU(Activation):
    r"""Huberized ReLU: φ(z) = 0 (z ≤ 0), z²/(2h) (0 < z ≤ h), z − h/2 (z > h).

    Parameters
    ----------
    h : float
        Width of the quadratic piece, ``h > 0``; φ' = clip(z/h, 0, 1), |φ''| ≤ 1/h.
    """

    def __init__(self, h: float) -> None:
        self.h = require_real("h", h, low=0.0, low_open=True)
        self.name = f"HuberizedReLU(h={self.h:g})"

    def value(self, z):
        h = self.h
        zc = torch.clamp(z, 0.0, h)
        return torch.where(z > h, z - h / 2, zc * zc / (2 * h))

    def deriv(self, z):
        return torch.clamp(z / self.h, 0.0, 1.0)

    def second_deriv(self, z):
        return ((z > 0) & (z < self.h)).to(z.dtype) / self.h
