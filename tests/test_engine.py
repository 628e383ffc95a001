"""The GD engine: gradients against autograd, the row-span parametrization against the direct
one, determinism and batch independence, stopping, divergence and validation errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

import overparam as op
from overparam.activations import HuberizedReLU, LeakyReLU, ReLU, SmoothedLeakyReLU
from overparam.losses import Exponential, Logistic, PolynomialTail

ACTIVATIONS = [ReLU(), LeakyReLU(0.1), SmoothedLeakyReLU(0.5, 1.0), SmoothedLeakyReLU(0.2, 3.0),
               HuberizedReLU(0.5)]
LOSSES = [Logistic(), Exponential(), PolynomialTail(2.0)]


def _problem(seed=0, B=3, n=12, m=8, p=30, scale=0.3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, n, p))
    y = rng.choice([-1.0, 1.0], size=(B, n))
    W0 = scale * rng.standard_normal((B, m, p)) / np.sqrt(p)
    a = rng.choice([-1.0, 1.0], size=(B, m)) / np.sqrt(m)
    return X, y, W0, a


# ----------------------------------------------------------------- activations and losses
@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_activation_derivative_matches_autograd(act):
    z = torch.linspace(-4, 4, 2001, dtype=torch.float64)
    z = z[(z.abs() > 1e-9)]  # the kink of (leaky) ReLU at 0 is a measure-zero convention
    z.requires_grad_(True)
    (g,) = torch.autograd.grad(act.value(z).sum(), z)
    assert_allclose(act.deriv(z.detach()).numpy(), g.numpy(), rtol=1e-12, atol=1e-12)
    v, d = act.value_and_deriv(z.detach())
    assert_allclose(v.numpy(), act.value(z.detach()).numpy(), rtol=0, atol=0)
    assert_allclose(d.numpy(), act.deriv(z.detach()).numpy(), rtol=0, atol=0)


@pytest.mark.parametrize("gamma,H", [(0.5, 1.0), (0.1, 4.0), (1.0, 0.5), (0.9, 10.0)])
def test_smoothed_leaky_relu_matches_paper_and_bounds(gamma, H):
    act = SmoothedLeakyReLU(gamma, H)
    z = torch.linspace(-5 / H, 5 / H, 40001, dtype=torch.float64)
    assert_allclose(act.value(z).numpy(), act.value_reference(z).numpy(), atol=1e-14)
    d = act.deriv(z)
    assert torch.all(d >= gamma - 1e-15) and torch.all(d <= 1 + 1e-15)  # γ ≤ φ' ≤ 1
    assert torch.all(act.second_deriv(z).abs() <= H)  # |φ''| ≤ H
    # φ'' is the derivative of φ' (finite differences away from the kinks at ±1/H)
    zz = z[(z - 1 / H).abs().gt(1e-3 / H) & (z + 1 / H).abs().gt(1e-3 / H)]
    h = 1e-6
    fd = (act.deriv(zz + h) - act.deriv(zz - h)) / (2 * h)
    assert_allclose(fd.numpy(), act.second_deriv(zz).numpy(), atol=1e-6)
    # continuity of φ at ±1/H
    for edge in (1 / H, -1 / H):
        e = torch.tensor([edge - 1e-12, edge + 1e-12], dtype=torch.float64)
        v = act.value_reference(e)
        assert abs(float(v[1] - v[0])) < 1e-10


@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_loss_neg_deriv_matches_autograd(loss):
    z = torch.linspace(-30, 30, 3001, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(loss.value(z).sum(), z)
    assert_allclose(loss.neg_deriv(z.detach()).numpy(), -g.numpy(), rtol=1e-12, atol=1e-300)


def test_logistic_is_stable_for_huge_margins():
    z = torch.tensor([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=torch.float64)
    v, g = Logistic().value(z), Logistic().neg_deriv(z)
    assert torch.all(torch.isfinite(v)) and torch.all(torch.isfinite(g))
    assert_allclose(v[0].item(), 1e4)
    assert_allclose(v[2].item(), np.log(2))
    assert 0 <= v[-1].item() < 1e-300 + 1e-20


# ----------------------------------------------------------------- the engine's gradient
@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("loss", LOSSES, ids=repr)
def test_one_gd_step_equals_autograd_step(act, loss):
    X, y, W0, a = _problem(seed=1, scale=2.0)
    step = 0.3
    run = op.train_two_layer(X, y, W0, a, activation=act, loss=loss, step=step, max_steps=1,
                             parametrization="direct")
    W = torch.tensor(W0, requires_grad=True)
    Xt, yt, at = map(torch.tensor, (X, y, a))
    f = (at.unsqueeze(1) @ act.value(W @ Xt.transpose(1, 2))).squeeze(1)
    L = loss.value(yt * f).mean(1).sum()
    (grad,) = torch.autograd.grad(L, W)
    expected = W0 - step * grad.numpy()
    assert_allclose(run.weights().numpy(), expected, rtol=1e-12, atol=1e-14)
    assert_allclose(run.history["loss"][0], loss.value(yt * f).mean(1).detach().numpy(),
                    rtol=1e-12)


@pytest.mark.parametrize("act", [SmoothedLeakyReLU(0.5, 1.0), ReLU(), LeakyReLU(0.3)], ids=repr)
def test_rowspan_and_direct_give_the_same_iterates(act):
    X, y, W0, a = _problem(seed=2, B=4, n=20, m=16, p=300)
    kw = dict(activation=act, step=0.5, max_steps=400, record=50,
              probes={"v": np.random.default_rng(0).standard_normal(300)})
    r1 = op.train_two_layer(X, y, W0, a, parametrization="rowspan", **kw)
    r2 = op.train_two_layer(X, y, W0, a, parametrization="direct", **kw)
    scale = np.abs(r2.weights().numpy()).max()
    assert np.abs(r1.weights().numpy() - r2.weights().numpy()).max() <= 1e-10 * max(scale, 1)
    assert_allclose(r1.project("v").numpy(), r2.project("v").numpy(), rtol=1e-10, atol=1e-12)
    assert_allclose(r1.row_norms().numpy(), r2.row_norms().numpy(), rtol=1e-10)
    Xn = np.random.default_rng(3).standard_normal((7, 300))
    assert_allclose(r1.outputs(Xn).numpy(), r2.outputs(Xn).numpy(), rtol=1e-10, atol=1e-12)
    for key in ("loss", "G", "g_ratio", "train_error", "frobenius_norm"):
        assert_allclose(r1.history[key], r2.history[key], rtol=1e-10, atol=1e-14)


def test_deep_linear_gradient_and_parametrizations():
    rng = np.random.default_rng(4)
    B, n, d, q, m, L = 2, 6, 15, 2, 9, 3
    X = rng.standard_normal((B, n, d))
    Y = rng.standard_normal((B, n, q))
    W1 = 0.3 * rng.standard_normal((B, m, d))
    WL = rng.standard_normal((B, q, m))
    mid = np.repeat(np.eye(m)[None, None] + 0.1 * rng.standard_normal((1, 1, m, m)), B, 0)
    eta = 1e-3
    run = op.train_deep_linear(X, Y, W1, WL, middle=mid, depth=L, step=eta, max_steps=1,
                               parametrization="direct")
    Ws = [torch.tensor(W1, requires_grad=True), torch.tensor(mid[:, 0], requires_grad=True),
          torch.tensor(WL, requires_grad=True)]
    theta = (Ws[2] @ Ws[1] @ Ws[0]).transpose(1, 2)
    loss = ((torch.tensor(Y) - torch.tensor(X) @ theta) ** 2).sum()
    grads = torch.autograd.grad(loss, Ws)
    assert_allclose(run.first_layer().numpy(), W1 - eta * grads[0].numpy(), rtol=1e-12)
    assert_allclose(run.middle[0].numpy(), mid[:, 0] - eta * grads[1].numpy(), rtol=1e-12)
    assert_allclose(run.WL.numpy(), WL - eta * grads[2].numpy(), rtol=1e-12)
    for depth in (2, 3, 4):
        kw = dict(depth=depth, step=2e-3, max_steps=300, record=100)
        r1 = op.train_deep_linear(X, Y, W1, WL, parametrization="rowspan", **kw)
        r2 = op.train_deep_linear(X, Y, W1, WL, parametrization="direct", **kw)
        assert np.abs(r1.theta().numpy() - r2.theta().numpy()).max() < 1e-10
        h1, h2 = r1.history["loss"], r2.history["loss"]
        assert_allclose(h1, h2, rtol=1e-10, atol=1e-10 * h2[0].max())
        # Lemma 20 (Chatterji & Long 2023): W1 moves only in the row span of X
        P = X.transpose(0, 2, 1) @ np.linalg.solve(X @ X.transpose(0, 2, 1), X)
        perp = np.eye(d) - P
        drift = (r2.first_layer().numpy() - W1) @ perp
        assert np.abs(drift).max() < 1e-12


# ----------------------------------------------------------------- batching, seeds, stopping
def test_batch_elements_are_independent_of_each_other():
    X, y, W0, a = _problem(seed=5, B=3, n=15, m=10, p=40)
    act = SmoothedLeakyReLU(0.5, 1.0)
    steps = np.array([0.2, 0.5, 1.0])
    tol = np.array([0.3, 0.2, 0.05])
    full = op.train_two_layer(X, y, W0, a, activation=act, step=steps, tol=tol, max_steps=2000)
    for b in range(3):
        one = op.train_two_layer(X[b], y[b], W0[b], a[b], activation=act, step=steps[b],
                                 tol=tol[b], max_steps=2000)
        assert one.stop_step[0] == full.stop_step[b]
        assert_allclose(one.weights().numpy()[0], full.weights().numpy()[b], rtol=1e-12,
                        atol=1e-15)


def test_same_inputs_same_result():
    X, y, W0, a = _problem(seed=6)
    kw = dict(activation=ReLU(), step=0.5, max_steps=200, record="log")
    r1 = op.train_two_layer(X, y, W0, a, **kw)
    r2 = op.train_two_layer(X, y, W0, a, **kw)
    assert np.array_equal(r1.weights().numpy(), r2.weights().numpy())
    assert np.array_equal(r1.history["loss"], r2.history["loss"])


def test_stops_at_first_step_below_tol_and_freezes():
    X, y, W0, a = _problem(seed=7, B=2, n=10, m=8, p=60)
    act = SmoothedLeakyReLU(0.5, 1.0)
    run = op.train_two_layer(X, y, W0, a, activation=act, step=1.0, max_steps=5000, tol=0.05,
                             record=1)
    loss = run.history["loss"]
    for b in range(2):
        t = run.stop_step[b]
        assert t < 5000
        assert loss[t, b] < 0.05 and np.all(loss[:t, b] >= 0.05)
        # frozen afterwards: the loss stays exactly the same
        assert np.all(loss[t:, b] == loss[t, b])


def test_record_steps_schedule():
    assert op.record_steps(None, 10).tolist() == [0, 10]
    assert op.record_steps(4, 10).tolist() == [0, 4, 8, 10]
    assert op.record_steps([3, 1], 10).tolist() == [1, 3, 10]
    log = op.record_steps("log", 10_000)
    assert log[0] == 0 and log[-1] == 10_000 and len(log) <= 62
    with pytest.raises(ValueError, match="record"):
        op.record_steps("linear", 10)
    with pytest.raises(ValueError, match="record"):
        op.record_steps([11], 10)


def test_float32_runs_and_agrees_roughly():
    X, y, W0, a = _problem(seed=8)
    kw = dict(activation=SmoothedLeakyReLU(0.5, 1.0), step=0.5, max_steps=100)
    r64 = op.train_two_layer(X, y, W0, a, **kw)
    r32 = op.train_two_layer(X, y, W0, a, dtype="float32", **kw)
    assert r32.weights().dtype == torch.float32
    assert_allclose(r32.weights().numpy(), r64.weights().numpy(), atol=1e-4)


# ----------------------------------------------------------------- errors
def test_divergence_raises_naming_the_step_size():
    X, y, W0, a = _problem(seed=9, scale=1.0)
    with pytest.raises(op.DivergenceError, match=r"step size 1e\+06"):
        op.train_two_layer(X * 10, y, W0, a, activation=LeakyReLU(0.5), loss=Exponential(),
                           step=1e6, max_steps=100)
    rng = np.random.default_rng(0)
    Xd = rng.standard_normal((5, 20))
    with pytest.raises(op.DivergenceError, match="step size"):
        op.train_deep_linear(Xd, rng.standard_normal((5, 1)), rng.standard_normal((8, 20)),
                             rng.standard_normal((1, 8)), depth=3, step=10.0, max_steps=200)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(step=0.0), "step"),
        (dict(step=-1.0), "step"),
        (dict(step=float("nan")), "step"),
        (dict(step=np.ones(2)), "step"),
        (dict(max_steps=-1), "max_steps"),
        (dict(tol=0.0), "tol"),
        (dict(parametrization="gram"), "parametrization"),
        (dict(dtype="float16"), "dtype"),
        (dict(device="tpu"), "device"),
        (dict(activation="relu"), "activation"),
        (dict(loss="logistic"), "loss"),
    ],
)
def test_validation_errors(kwargs, match):
    X, y, W0, a = _problem(seed=10)
    base = dict(activation=ReLU(), step=0.1, max_steps=5)
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        op.train_two_layer(X, y, W0, a, **base)


def test_shape_and_label_errors():
    X, y, W0, a = _problem(seed=11)
    kw = dict(activation=ReLU(), step=0.1, max_steps=5)
    with pytest.raises(ValueError, match="y must contain only labels"):
        op.train_two_layer(X, y * 0.5, W0, a, **kw)
    with pytest.raises(ValueError, match="W0 must have p"):
        op.train_two_layer(X, y, W0[:, :, :-1], a, **kw)
    with pytest.raises(ValueError, match="a must have m"):
        op.train_two_layer(X, y, W0, a[:, :-1], **kw)
    with pytest.raises(ValueError, match="y must have n"):
        op.train_two_layer(X, y[:, :-1], W0, a, **kw)
    with pytest.raises(ValueError, match="batch size"):
        op.train_two_layer(X, y[:2], W0, a, **kw)
    Xn = X.copy()
    Xn[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X must be finite"):
        op.train_two_layer(Xn, y, W0, a, **kw)
    with pytest.raises(ValueError, match="X must have 2 or 3 dimensions"):
        op.train_two_layer(X[..., None], y, W0, a, **kw)
    run = op.train_two_layer(X, y, W0, a, **kw)
    with pytest.raises(ValueError, match="registered probe"):
        run.project("mu")
    with pytest.raises(ValueError, match="X_new must have p"):
        run.outputs(np.zeros((2, 3)))


@pytest.mark.parametrize(
    "ctor,match",
    [
        (lambda: LeakyReLU(1.5), "gamma"),
        (lambda: LeakyReLU(-0.1), "gamma"),
        (lambda: SmoothedLeakyReLU(0.0, 1.0), "gamma"),
        (lambda: SmoothedLeakyReLU(0.5, 0.0), "H"),
        (lambda: SmoothedLeakyReLU(0.5, float("inf")), "H"),
        (lambda: HuberizedReLU(-1.0), "h"),
        (lambda: PolynomialTail(0.0), "kappa"),
    ],
)
def test_activation_and_loss_parameter_errors(ctor, match):
    with pytest.raises(ValueError, match=match):
        ctor()


def test_deep_linear_validation():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((5, 20)), rng.standard_normal((5, 2))
    W1, WL = rng.standard_normal((8, 20)), rng.standard_normal((2, 8))
    kw = dict(step=1e-3, max_steps=3)
    with pytest.raises(ValueError, match="depth"):
        op.train_deep_linear(X, Y, W1, WL, depth=1, **kw)
    with pytest.raises(ValueError, match="WL must have shape"):
        op.train_deep_linear(X, Y, W1, WL.T, depth=2, **kw)
    with pytest.raises(ValueError, match="middle must have shape"):
        op.train_deep_linear(X, Y, W1, WL, depth=3, middle=np.zeros((2, 8, 8)), **kw)
    with pytest.raises(ValueError, match="Y must have n"):
        op.train_deep_linear(X, Y[:4], W1, WL, depth=2, **kw)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_cuda_matches_cpu():  # pragma: no cover - runs where a GPU is present
    X, y, W0, a = _problem(seed=12)
    kw = dict(activation=SmoothedLeakyReLU(0.5, 1.0), step=0.5, max_steps=200)
    rc = op.train_two_layer(X, y, W0, a, **kw)
    rg = op.train_two_layer(X, y, W0, a, device="cuda", **kw)
    assert_allclose(rg.weights().cpu().numpy(), rc.weights().numpy(), rtol=1e-9, atol=1e-12)
