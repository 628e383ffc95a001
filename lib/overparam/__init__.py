"""overparam: the shared library of the executable theory companions.

Shared core (re-exported here):

- :mod:`~overparam.rng` — seeds (NumPy PCG64), devices, dtypes;
- :mod:`~overparam.verify` — recorded checks and the check table (:class:`Checks`);
- :mod:`~overparam.plotting` — the book's figure style; :mod:`~overparam.widgets` — the widget
  pattern (static twin in HTML, live controls in Jupyter); :mod:`~overparam.progressbar`;
- :mod:`~overparam.activations`, :mod:`~overparam.losses`, :mod:`~overparam.gd`,
  :mod:`~overparam.two_layer_gd`, :mod:`~overparam.deep_linear_gd` — the batched GD engine;
- :mod:`~overparam.gaussian` — exact low-dimensional sampling of isotropic Gaussian vectors;
- :mod:`~overparam.linear` — min-norm interpolation, basis pursuit, exact risks.

One module per theorem family holds that chapter's data law, bounds and diagnostics
(``benign``, ``amplification``, ``sparse``, ``deep_linear``); import them as
``from overparam import benign``.
"""

from .activations import Activation, HuberizedReLU, LeakyReLU, ReLU, SmoothedLeakyReLU
from .deep_linear_gd import DeepLinearRun, train_deep_linear
from .gaussian import GaussianFrame, gaussian_frame
from .gd import DivergenceError, History, record_steps
from .linear import (
    BasisPursuitError,
    basis_pursuit,
    effective_ranks,
    estimator_variance,
    excess_risk,
    min_norm_bias_variance,
    min_norm_interpolant,
    min_norm_operator,
)
from .losses import Exponential, Logistic, MarginLoss, PolynomialTail
from .plotting import use_book_style
from .progressbar import progress
from .rng import as_seeds, numpy_rng, resolve_device, resolve_dtype, set_threads
from .span import span_coordinates
from .two_layer_gd import TwoLayerRun, train_two_layer
from .verify import Checks, ChecksFailed

__version__ = "0.1.0"

__all__ = [
    "Activation", "HuberizedReLU", "LeakyReLU", "ReLU", "SmoothedLeakyReLU",
    "DeepLinearRun", "train_deep_linear",
    "GaussianFrame", "gaussian_frame",
    "DivergenceError", "History", "record_steps",
    "BasisPursuitError", "basis_pursuit", "effective_ranks", "estimator_variance",
    "excess_risk", "min_norm_bias_variance", "min_norm_interpolant", "min_norm_operator",
    "Exponential", "Logistic", "MarginLoss", "PolynomialTail",
    "use_book_style", "progress",
    "as_seeds", "numpy_rng", "resolve_device", "resolve_dtype", "set_threads",
    "span_coordinates",
    "TwoLayerRun", "train_two_layer",
    "Checks", "ChecksFailed",
]
