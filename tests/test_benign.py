"""Chapter 1 library (overparam.benign): the data law, the exact diagnostics against Monte Carlo
and autograd, the bounds, the assumption table, the statistics, the figures, and bad input."""

from __future__ import annotations

import math
import os

import matplotlib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy import integrate, stats

import overparam as op
from overparam import benign

matplotlib.use("Agg")

N, M = 12, 6


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch and one BLAS thread, as in the notebooks: the problems are small, and with two
    threads on a shared two-core machine they run many times slower."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    torch.set_num_threads(before)


def _problems(seeds=(0, 1), p=400, mu=3.0, eta=0.25, method="frame", m=M, n=N):
    return benign.sample_problems(list(seeds), n=n, p=p, m=m, mu_norm=mu, eta=eta,
                                  omega_init=1e-4, method=method)


def _trained(method="frame", p=400, seeds=(0, 1), **kw):
    probs = _problems(seeds, p=p, method=method)
    run = benign.train_benign(probs, step=5.0 / p, max_steps=3000, record="log", progress=False,
                              **kw)
    return probs, run


# ----------------------------------------------------------------- the data law
def test_noisy_labels_exact_and_independent():
    rng = op.numpy_rng(0)
    y = rng.choice([-1.0, 1.0], size=200)
    yo, noisy = benign.noisy_labels(rng, y, 0.1, "exact")
    assert noisy.sum() == 20
    assert np.all((yo != y) == noisy)
    yo, noisy = benign.noisy_labels(op.numpy_rng(1), np.ones(20000), 0.3, "independent")
    assert abs(noisy.mean() - 0.3) < 4 * math.sqrt(0.3 * 0.7 / 20000)
    assert np.all(yo[noisy] == -1) and np.all(yo[~noisy] == 1)
    _, none = benign.noisy_labels(rng, y, 0.0)
    assert not none.any()


@pytest.mark.parametrize("kwargs, match", [
    (dict(eta=0.5), "eta"), (dict(eta=-0.1), "eta"), (dict(flips="some"), "flips"),
    (dict(y_clean=np.array([1.0, 0.0])), "y_clean"), (dict(y_clean=np.ones((2, 2))), "y_clean"),
])
def test_noisy_labels_errors(kwargs, match):
    args = dict(y_clean=np.ones(10), eta=0.1, flips="exact") | kwargs
    with pytest.raises(ValueError, match=match):
        benign.noisy_labels(op.numpy_rng(0), args["y_clean"], args["eta"], args["flips"])


@pytest.mark.parametrize("method", ["frame", "explicit"])
def test_sample_problem_structure_and_seeds(method):
    pb = benign.sample_problem(3, n=N, p=300, m=M, mu_norm=2.0, eta=0.25, omega_init=0.01,
                               method=method)
    D = 300 if method == "explicit" else M + N + 1
    assert pb.X.shape == (N, D) and pb.W0.shape == (M, D) and pb.mu.shape == (D,)
    assert pb.n == N and pb.m == M and pb.dim == D
    assert_allclose(np.linalg.norm(pb.mu), 2.0)
    assert pb.noisy.sum() == 3 and np.all((pb.y != pb.y_clean) == pb.noisy)
    assert np.all(np.abs(pb.a) == 1 / math.sqrt(M))
    assert_allclose(pb.snr, N * 2.0**4 / 300)
    # x = z + ỹμ: the component along μ is ỹ‖μ‖ plus an N(0, 1) variable
    z_mu = pb.X @ pb.mu / 2.0 - pb.y_clean * 2.0
    assert np.all(np.abs(z_mu) < 6)
    again = benign.sample_problem(3, n=N, p=300, m=M, mu_norm=2.0, eta=0.25, omega_init=0.01,
                                  method=method)
    assert_allclose(again.X, pb.X) and assert_allclose(again.W0, pb.W0)


def test_frame_and_explicit_have_the_same_inner_product_laws():
    """Gram statistics that GD uses: ‖x_i‖², ⟨x_i, x_k⟩, ỹ⟨x_i, μ⟩, ⟨w_j, x_i⟩/ω."""
    p, reps = 500, 150
    out = {}
    for method in ("frame", "explicit"):
        sq, cross, along, wx = [], [], [], []
        for seed in range(reps):
            pb = benign.sample_problem(seed, n=4, p=p, m=2, mu_norm=2.0, eta=0.0,
                                       omega_init=0.5, method=method)
            K = pb.X @ pb.X.T
            sq.append(K[0, 0])
            cross.append(K[0, 1])
            along.append(pb.y_clean[0] * pb.X[0] @ pb.mu)
            wx.append(pb.W0[0] @ pb.X[1] / 0.5)
        out[method] = [np.array(v) for v in (sq, cross, along, wx)]
    for a, b in zip(out["frame"], out["explicit"], strict=True):
        assert stats.ks_2samp(a, b).pvalue > 1e-3
    sq, cross, along, _ = out["frame"]
    assert abs(sq.mean() - (p + 4)) < 5 * math.sqrt(2 * p / reps)
    assert abs(along.mean() - 4) < 5 * 2 / math.sqrt(reps)


@pytest.mark.parametrize("kwargs, match", [
    (dict(n=1), "n must"), (dict(p=1), "p must"), (dict(m=0), "m must"),
    (dict(mu_norm=0.0), "mu_norm"), (dict(eta=0.5), "eta"), (dict(omega_init=-1.0), "omega_init"),
    (dict(method="lattice"), "method"), (dict(flips="all"), "flips"), (dict(seed=-1), "seed"),
])
def test_sample_problem_errors(kwargs, match):
    args = dict(seed=0, n=N, p=100, m=M, mu_norm=1.0, eta=0.1, omega_init=0.1) | kwargs
    seed = args.pop("seed")
    with pytest.raises(ValueError, match=match):
        benign.sample_problem(seed, **args)


def test_stack_pads_without_changing_inner_products():
    frame = _problems((0,), p=400)[0]
    expl = _problems((1,), p=60, method="explicit")[0]
    batch = benign.stack_problems([frame, expl])
    assert batch["X"].shape == (2, N, 60) and batch["mu"].shape == (2, 60)
    assert_allclose(batch["X"][0] @ batch["X"][0].T, frame.X @ frame.X.T)
    assert_allclose(batch["W0"][0] @ batch["mu"][0], frame.W0 @ frame.mu)
    with pytest.raises(ValueError, match="shares n and m"):
        benign.stack_problems([frame, _problems((0,), n=N + 1)[0]])
    with pytest.raises(ValueError, match="at least one"):
        benign.stack_problems([])
    with pytest.raises(ValueError, match="seeds"):
        benign.sample_problems([], n=N, p=100, m=M, mu_norm=1.0, eta=0.1, omega_init=0.1)


# ----------------------------------------------------------------- exact diagnostics
ACTS = [op.SmoothedLeakyReLU(0.5, 1.0), op.SmoothedLeakyReLU(0.1, 4.0), op.LeakyReLU(0.3),
        op.ReLU()]


@pytest.mark.parametrize("act", ACTS, ids=repr)
def test_gaussian_mean_activation_matches_quadrature(act):
    means = torch.tensor([-3.0, -0.4, 0.0, 0.2, 1.5, 7.0], dtype=torch.float64)
    sds = torch.tensor([0.05, 0.7, 1.0, 2.5, 0.3, 3.0], dtype=torch.float64)
    got = benign.gaussian_mean_activation(act, means, sds).numpy()
    for g, mu, sd in zip(got, means.tolist(), sds.tolist(), strict=True):
        def integrand(u, mu=mu, sd=sd):
            return float(act.value(torch.tensor(mu + sd * u, dtype=torch.float64))) * \
                stats.norm.pdf(u)
        want = integrate.quad(integrand, -12, 12, points=[(-1 - mu) / sd, -mu / sd,
                                                         (1 - mu) / sd], limit=200)[0]
        assert_allclose(g, want, atol=1e-9, rtol=1e-9)


def test_gaussian_mean_activation_errors():
    act = op.SmoothedLeakyReLU(0.5, 1.0)
    with pytest.raises(ValueError, match="sd must be > 0"):
        benign.gaussian_mean_activation(act, torch.zeros(2), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="same shape"):
        benign.gaussian_mean_activation(act, torch.zeros(2), torch.ones(3))
    with pytest.raises(ValueError, match="finite"):
        benign.gaussian_mean_activation(act, torch.tensor([float("nan")]), torch.ones(1))
    with pytest.raises(ValueError, match="activation must be"):
        benign.gaussian_mean_activation(op.HuberizedReLU(0.5), torch.zeros(1), torch.ones(1))


def test_clean_margin_and_metrics_match_direct_computation():
    probs, run = _trained(method="explicit", p=80, gradients=True)
    W = run.weights()
    mu = torch.as_tensor(np.stack([pb.mu for pb in probs]))
    # exact E[ỹ f] against Monte Carlo with explicit test points in R^p
    rng = op.numpy_rng(7)
    Z = torch.as_tensor(rng.standard_normal((200_000, 80)))
    exact = benign.expected_clean_margin(run).numpy()
    for b in range(run.batch):
        pre = Z @ W[b].T
        c = W[b] @ mu[b]
        act, a = run.activation, run.a[b]
        mc = 0.5 * ((act.value(pre + c) @ a) - (act.value(pre - c) @ a))
        assert abs(exact[b] - mc.mean().item()) < 5 * mc.std().item() / math.sqrt(len(Z))
    # the recorded metrics at the last step equal the functions evaluated on the final iterate
    last = run.history.at(run.history.steps[-1])
    assert_allclose(last["normalized_margin"], benign.normalized_clean_margin(run).numpy(),
                    rtol=1e-10)
    assert_allclose(last["distance_from_init"],
                    (W - run.W0).flatten(1).norm(dim=1).numpy(), rtol=1e-8)
    # gradient norm against autograd on the explicit weights
    Wg = W.clone().requires_grad_(True)
    f = (run.a.unsqueeze(1) @ run.activation.value(Wg @ run.X.transpose(1, 2))).squeeze(1)
    loss = torch.nn.functional.softplus(-run.y * f).mean(1).sum()
    (grad,) = torch.autograd.grad(loss, Wg)
    assert_allclose(benign.gradient_norm(run).numpy(), grad.flatten(1).norm(dim=1).numpy(),
                    rtol=1e-8)
    assert_allclose(last["grad_norm"], grad.flatten(1).norm(dim=1).numpy(), rtol=1e-8)
    # accuracy and margin metrics
    margins = run.margins.numpy()
    for b, pb in enumerate(probs):
        assert_allclose(last["train_acc_noisy"][b], (margins[b][pb.noisy] > 0).mean())
        assert_allclose(last["margin_clean"][b], margins[b][~pb.noisy].mean())
        g = run.g.numpy()[b]
        assert_allclose(last["noisy_share"][b], g[pb.noisy].sum() / g.sum())


def test_train_benign_interpolates_and_handles_no_noise():
    probs = _problems((0, 1, 2), p=2000, eta=0.0)
    run = benign.train_benign(probs, step=5 / 2000, max_steps=5000, progress=False)
    assert np.all(run.stop_step < 5000)
    h = run.history
    assert np.all(h["train_error"][-1] == 0) and np.all(h["loss"][-1] < 1 / (4 * N))
    assert np.all(np.isnan(h["train_acc_noisy"]))  # no noisy points: NaN, not a fake 0 or 1
    with pytest.raises(ValueError, match="at least one"):
        benign.train_benign([], step=1.0)


def test_clean_test_error_matches_explicit_test_points():
    probs, run = _trained(method="explicit", p=60, seeds=(0,))
    err, se = benign.clean_test_error(run, probs, count=40_000)
    rng = op.numpy_rng(11)
    k = 40_000
    y = rng.choice([-1.0, 1.0], size=k)
    X = rng.standard_normal((k, 60)) + y[:, None] * probs[0].mu[None, :]
    f = run.outputs(X)[0].numpy()
    direct = np.mean(y * f < 0)
    assert abs(err[0] - direct) < 4 * math.hypot(se[0], math.sqrt(direct * (1 - direct) / k))
    again = benign.clean_test_error(run, probs, count=40_000, chunk=999)
    assert_allclose(again[0], err, atol=1e-4)  # chunking changes rounding only
    with pytest.raises(ValueError, match="problems"):
        benign.clean_test_error(run, probs * 2)
    with pytest.raises(ValueError, match="count"):
        benign.clean_test_error(run, probs, count=1)


@pytest.mark.parametrize("method, p", [("frame", 400), ("explicit", 60)])
def test_clean_test_error_uses_the_same_test_points_for_one_problem(method, p):
    """Every network trained on a problem is evaluated on the same test points: the estimate
    equals a direct evaluation on the points z = Qξ ± μ rebuilt from the problem's stream."""
    probs, run = _trained(method=method, p=p, seeds=(3,))
    pb, count = probs[0], 3000
    err, _ = benign.clean_test_error(run, probs, count=count)
    basis = benign._test_basis(pb)
    r = pb.dim if basis is None else basis.shape[1]
    xi = op.numpy_rng(pb.seed).spawn(1)[0].standard_normal((count, r), dtype=np.float32)
    Z = xi.astype(float) if basis is None else xi.astype(float) @ basis.T
    wrong = 0.5 * ((run.outputs(Z + pb.mu)[0] < 0).double().mean()
                   + (run.outputs(Z - pb.mu)[0] > 0).double().mean())
    assert abs(err[0] - float(wrong)) <= 2 / count  # float32 vs float64: at most a tie or two
    # two networks on the same problem (two step sizes): a paired comparison
    two = benign.train_benign(probs * 2, step=np.array([5.0, 0.5]) / p, max_steps=30_000,
                              progress=False)
    e2, _ = benign.clean_test_error(two, probs * 2, count=count)
    assert abs(e2[0] - e2[1]) <= 3 / count


def test_batch_composition_does_not_matter():
    probs = _problems((0, 1, 2))
    alone = benign.train_benign(probs[1:2], step=5 / 400, max_steps=800, progress=False)
    batch = benign.train_benign(probs, step=5 / 400, max_steps=800, progress=False)
    assert alone.stop_step[0] == batch.stop_step[1]
    assert_allclose(alone.margins[0].numpy(), batch.margins[1].numpy(), rtol=1e-9)
    e1, _ = benign.clean_test_error(alone, probs[1:2], count=5000)
    e3, _ = benign.clean_test_error(batch, probs, count=5000)
    assert_allclose(e1[0], e3[1], atol=2e-4)


# ----------------------------------------------------------------- bounds and assumptions
def test_bounds_values():
    assert_allclose(benign.snr(50, 2000, 4.0), 6.4)
    assert_allclose(benign.mu_norm_for_snr(6.4, 50, 2000), 4.0)
    assert_allclose(benign.clean_error_bound(8.0, 8.0), 2 * math.exp(-1))
    assert_allclose(benign.test_error_bound(8.0, 0.1, 8.0), 0.1 + 2 * math.exp(-1))
    assert benign.loss_ratio_bound(0.5) == 64
    assert_allclose(benign.margin_bound(50, 2000, 4.0, 0.5), 0.25 * 16 * math.sqrt(50)
                    / (8 * math.sqrt(2000)))
    assert_allclose(benign.G_bound(0, math.log(2), 0.5, 4.0, 0.0025),
                    math.sqrt(32 * math.log(2) / (0.25 * 16 * 0.0025)))
    assert_allclose(benign.pl_lower_bound(0.2, 0.5, 4.0), 0.1)
    assert_allclose(benign.prop2_bound(1.0, 0.5, 4.0, 0.1 / math.sqrt(64 * 100), 64, 100),
                    2 / 4.8)
    assert_allclose(benign.steps_required(1.0, 2.0, 0.5, 0.1), 1 / (4 * 0.5 * 0.01))


@pytest.mark.parametrize("call, match", [
    (lambda: benign.clean_error_bound(1.0, 0.0), "C must"),
    (lambda: benign.test_error_bound(1.0, 0.6, 1.0), "eta"),
    (lambda: benign.loss_ratio_bound(0.0), "gamma"),
    (lambda: benign.margin_bound(5, 10, 1.0, 1.5), "gamma"),
    (lambda: benign.G_bound(-1, 1.0, 0.5, 1.0, 1.0), "t must"),
    (lambda: benign.mu_norm_for_snr(0.0, 5, 10), "s must"),
    (lambda: benign.assumptions(n=5, p=10, mu_norm=1, eta=0.1, alpha=1, omega_init=1, m=2, H=1,
                                delta=0.5), "delta"),
    (lambda: benign.collapse_statistic(0.1, 0.0, 0.1, 0.0, 0.0), "must not all be zero"),
    (lambda: benign.log_slope([1, 2], [0.0, 0.1]), "two positive"),
    (lambda: benign.spearman([1, 2], [1, 2]), "at least 3"),
    (lambda: benign.summarize([1.0]), "at least 2"),
    (lambda: benign.assumption_table_html(["a"], []), "same length"),
])
def test_bound_and_statistic_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_assumptions_table_and_deviations():
    kw = dict(n=50, mu_norm=20.0, eta=0.01, m=64, H=1.0, delta=0.1)
    p = 10**9
    good = benign.assumptions(p=p, alpha=1 / (2 * p**2), omega_init=1e-3 / p**3, **kw)
    assert all(r["holds"] for r in good.values())
    bad = benign.assumptions(p=2000, alpha=5 / 2000, omega_init=0.1 * 5 / 2000 / math.sqrt(64e3),
                             **kw)
    assert not bad["A2"]["holds"] and not bad["A5"]["holds"] and bad["A6"]["holds"]
    assert_allclose(bad["A2"]["rhs"], max(50 * 20.0**2, 2500 * math.log(500)))
    lines = benign.deviations(bad)
    assert len(lines) == 2 and "(A2)" in lines[0] and "factor" in lines[0]
    assert benign.deviations(bad, short=True)[1].startswith("(A5) ×")
    assert benign.deviations(good) == []
    html = benign.assumption_table_html(["good", "bad"], [good, bad])
    assert html.count("✓") == 6 + 4 and html.count("✗") == 2


def test_until_stop_and_truncate_at_stop():
    steps = np.array([0, 1, 2, 5, 9])
    stop = np.array([2, 9, 0])
    mask = benign.until_stop(steps, stop)
    assert mask.shape == (5, 3)
    assert mask[:, 0].tolist() == [True, True, True, False, False]
    assert mask[:, 1].all() and mask[:, 2].tolist() == [True, False, False, False, False]
    v = benign.truncate_at_stop(np.ones((5, 3, 2)), steps, stop)
    assert np.isnan(v[3, 0]).all() and not np.isnan(v[:, 1]).any()
    with pytest.raises(ValueError, match="values must have shape"):
        benign.truncate_at_stop(np.ones((4, 3)), steps, stop)
    with pytest.raises(ValueError, match="1-D"):
        benign.until_stop(steps[:, None], stop)


def test_truncation_leaves_out_exactly_the_frozen_steps():
    probs = _problems((0, 1, 2))
    run = benign.train_benign(probs, step=np.array([5.0, 4.0, 3.0]) / 400, max_steps=20_000,
                              record=1, progress=False)
    h, stop = run.history, run.stop_step
    assert len(set(stop.tolist())) == 3 and h.steps[-1] == stop.max()
    G = benign.truncate_at_stop(h["G"], h.steps, stop)
    for b in range(3):
        kept = G[:, b][~np.isnan(G[:, b])]
        assert kept.size == stop[b] + 1
        assert_allclose(kept[-1], h["G"][-1, b])      # the frozen value is the value at stop
        assert np.all(np.diff(kept) < 0)               # Ĝ strictly decreases while training


def test_statistics():
    assert benign.collapse_statistic(0.10, 0.0, 0.10, 0.0, 0.2) == 0
    assert_allclose(benign.collapse_statistic(0.12, 0.0, 0.10, 0.0, 0.2), 0.02 / 0.022)
    s = np.array([1.0, 2.0, 3.0, 4.0])
    assert_allclose(benign.log_slope(s, np.exp(-0.3 * s)), -0.3)
    assert benign.spearman(s, -s) == -1
    mean, se = benign.summarize([[1.0, 3.0], [2.0, 2.0]])
    assert_allclose(mean, [2.0, 2.0]) and assert_allclose(se, [1.0, 0.0])


# ----------------------------------------------------------------- figures and the widget
def test_figures_are_labelled():
    steps = np.arange(6)
    r = np.linspace(1, 3, 12).reshape(6, 2)
    figs = [
        benign.plot_clean_error([1, 2, 4], [0.2, 0.1, 0.02], [0.01, 0.01, 0.005], fit=(-0.3, 0)),
        benign.plot_collapse([250, 1000], [2, 6.4], np.full((2, 2), 0.1), np.full((2, 2), 0.01),
                             p_regime=500),
        benign.plot_loss_ratio(steps, r, r / 10, bound=64, eta=0.1, labels=["a", "b"]),
        benign.plot_G_and_loss(steps, 1 / (r + 1), 1 / r, 2 / r, r, run=0, labels=["a", "b"]),
        benign.plot_margin([1, 2], [0.5, 1], [0.4, 0.9], [1e3, 1e5], slope=1 / 32),
        benign.plot_train_accuracy(steps, r / 3, r / 3, r, r),
        benign.plot_frame_vs_explicit([0.1, 0.12, 0.11], [0.1, 0.13, 0.12]),
    ]
    for fig in figs:
        op.plotting.require_labels(fig)
        assert not fig.texts or all(t.get_text() == "" for t in fig.texts)  # no titles


def test_simulate_and_summary_figure():
    sim = benign.simulate(n=20, p=500, m=8, mu_norm=4.0, test_count=2000)
    assert sim.problem.noisy.sum() == 2 and sim.run.stop_step[0] < 20_000
    assert 0 <= sim.clean_error <= 1 and sim.clean_error_se >= 0
    fig = benign.plot_summary(sim)
    op.plotting.require_labels(fig)
    assert len(fig.axes) == 4
    with pytest.raises(ValueError, match="step_scale"):
        benign.simulate(step_scale=0.0)


def test_explore_claims_for_the_runs_it_does_not_compute():
    """explore.ipynb states these without computing them (each run uses the full budget)."""
    below_n = benign.simulate(n=200, p=100, mu_norm=4.0, seed=0)
    h = below_n.run.history
    assert below_n.problem.snr == 512
    assert below_n.run.stop_step[0] == 20_000                  # the budget runs out ...
    assert float(below_n.run.loss[0]) >= 1 / (4 * 200)          # ... before L̂ < 1/(4n)
    assert h["train_error"][-1, 0] == 0                        # though every label is fitted
    assert np.nanmax(h["g_ratio"]) > 1000 * benign.loss_ratio_bound(0.5)  # far beyond 16/γ²
    assert abs(below_n.clean_error - 0.2) < 0.02               # "about 0.2"
    # below αp ≈ 0.7 the 20,000 steps run out before L̂ < 1/(4n); at 0.7 they do not
    slow = benign.simulate(step_scale=0.6, seed=0, test_count=2)
    assert slow.run.stop_step[0] == 20_000 and float(slow.run.loss[0]) >= 1 / 200
    ok = benign.simulate(step_scale=0.7, seed=0, test_count=2)
    assert ok.run.stop_step[0] < 20_000


# ----------------------------------------------------------------- the engine's history memory
@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc (Linux)")
def test_recording_every_step_does_not_blow_up_memory():
    """Regression: recording at every step used to fragment the C heap (~1.5 MB per step in a
    21-network batch with gradients), because each step's tiny history tensors were interleaved
    with its large temporaries. The engine now writes into preallocated buffers."""

    def rss_mb() -> float:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
        return 0.0

    probs = benign.sample_problems(range(21), n=50, p=2000, m=64, mu_norm=3.0, eta=0.1,
                                   omega_init=1e-6)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        before = rss_mb()
        benign.train_benign(probs, step=5 / 2000, max_steps=300, tol=1e-300, record=1,
                            gradients=True, progress=False)
        grew = rss_mb() - before
    finally:
        torch.set_num_threads(threads)
    assert grew < 150, f"RSS grew by {grew:.0f} MB"  # was ~450 MB for these 300 steps
