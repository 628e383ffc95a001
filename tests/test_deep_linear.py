"""Chapter 4 library (overparam.deep_linear): the data law, Definition 3 and the exact width
reduction, the training wrapper against the engine, the lemma diagnostics, risks and variances,
the effective-rank shapes, the explorer and the plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import stats

import overparam as op
from overparam import deep_linear as dl
from overparam import plotting


def _small(seed=0, n=6, d=20, q=2, k=2, eps=0.2, sigma=0.5):
    lam = dl.spike_spectrum(d, k, eps)
    return dl.draw_problem(seed, n=n, d=d, q=q, spectrum=lam, sigma=sigma)


# ----------------------------------------------------------------- data law
def test_spike_spectrum_and_effective_ranks():
    lam = dl.spike_spectrum(50, 4, 0.1)
    assert lam.shape == (50,) and np.all(lam[:4] == 1) and np.all(lam[4:] == 0.1)
    r, R = op.effective_ranks(lam, 4)
    assert_allclose((r, R), (46, 46))
    assert dl.critical_index(lam, n=10) == 4  # r_j < 10 for j < 4, r_4 = 46
    assert_allclose(dl.bllt_variance_shape(lam, 10), 4 / 10 + 10 / 46)
    assert_allclose(dl.bias_shape(lam, 10, 2.0), 0.1 * 46 / 10 * 2.0)


@pytest.mark.parametrize("args, match", [
    ((1, 1, 0.1), "d must"), ((10, 0, 0.1), "k must"), ((10, 10, 0.1), "k must"),
    ((10, 2, 0.0), "eps must"), ((10, 2, 1.5), "eps must"),
])
def test_spike_spectrum_errors(args, match):
    with pytest.raises(ValueError, match=match):
        dl.spike_spectrum(*args)


def test_draw_problem_law_and_seeds():
    p = _small(3)
    q = _small(3)
    assert_allclose(p.X, q.X) and assert_allclose(p.Y, q.Y)
    assert not np.allclose(_small(4).X, p.X)
    assert_allclose(np.linalg.norm(p.theta_star), 1.0)
    assert p.n == 6 and p.d == 20 and p.q == 2
    # the noise is Y − XΘ*, with variance σ²
    big = dl.draw_problem(0, n=4000, d=4001, q=1, spectrum=np.linspace(2.0, 0.5, 4001), sigma=0.5)
    assert abs(np.var(big.Y - big.X @ big.theta_star) / 0.25 - 1) < 0.06
    assert_allclose(big.X.var(0)[:200].mean(), 2.0 - 1.5 * 100 / 4000, rtol=0.05)
    noise = np.zeros((3, 6, 2))
    assert_allclose(p.labels(noise), np.broadcast_to(p.X @ p.theta_star, (3, 6, 2)))


def test_draw_problem_errors():
    lam = dl.spike_spectrum(20, 2, 0.2)
    with pytest.raises(ValueError, match="d must"):
        dl.draw_problem(0, n=20, d=20, q=1, spectrum=lam)
    with pytest.raises(ValueError, match="spectrum must"):
        dl.draw_problem(0, n=5, d=20, q=1, spectrum=lam[:10])
    with pytest.raises(ValueError, match="spectrum must"):
        dl.draw_problem(0, n=5, d=20, q=1, spectrum=-lam)
    with pytest.raises(ValueError, match="sigma must"):
        dl.draw_problem(0, n=5, d=20, q=1, spectrum=lam, sigma=-1.0)
    with pytest.raises(ValueError, match="theta_norm must"):
        dl.draw_problem(0, n=5, d=20, q=1, spectrum=lam, theta_norm=0.0)
    with pytest.raises(ValueError, match="seed must"):
        dl.draw_problem(-1, n=5, d=20, q=1, spectrum=lam)
    with pytest.raises(ValueError, match="noise must"):
        _small().labels(np.zeros((5, 2)))


def test_noise_draws_each_from_its_own_seed():
    a = dl.noise_draws([5, 9], n=4, q=3, sigma=2.0)
    b = dl.noise_draws([9], n=4, q=3, sigma=2.0)
    assert a.shape == (2, 4, 3)
    assert_allclose(a[1], b[0])
    assert_allclose(a[0], 2.0 * op.numpy_rng(5).standard_normal((4, 3)))
    with pytest.raises(ValueError, match="seeds must"):
        dl.noise_draws([], n=4, q=3, sigma=1.0)


# ----------------------------------------------------------------- initialisation
def test_init_layers_definition_3():
    W1, WL = dl.init_layers(0, m=400, d=300, q=2, alpha=0.1, beta=3.0)
    assert W1.shape == (400, 300) and WL.shape == (2, 400)
    assert_allclose(W1.std(), 0.1, rtol=0.01)
    assert_allclose(WL.std(), 3.0, rtol=0.05)
    W1z, _ = dl.init_layers(0, m=4, d=3, q=1, alpha=0.0, beta=1.0)
    assert not np.any(W1z)
    with pytest.raises(ValueError, match="alpha must"):
        dl.init_layers(0, m=4, d=3, q=1, alpha=-1.0, beta=1.0)


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.5])
def test_width_reduction_is_exact(depth, alpha):
    p = _small(1)
    m = 40
    W1, WL = dl.init_layers(7, m=m, d=p.d, q=p.q, alpha=alpha, beta=1.0)
    kw = dict(depth=depth, tol=1e-30, max_steps=150)
    full = dl.train(p.X, p.Y, W1, WL, parametrization="direct", compress=False, **kw)
    for minimal in (False, True):
        red = dl.reduce_width(p.X, W1, WL, minimal=minimal)
        assert red.width == (p.q if minimal and alpha == 0 else p.n + p.q)
        assert_allclose(red.basis.T @ red.basis, np.eye(red.width), atol=1e-12)
        fit = dl.train(p.X, p.Y, red.W1, red.WL, step=full.step, **kw)
        scale = np.abs(full.theta).max()
        assert np.abs(fit.theta - full.theta).max() <= 1e-10 * scale
        assert_allclose(fit.loss, full.loss, rtol=1e-8, atol=1e-14)


def test_init_reduced_is_exact_in_law():
    """init_reduced against Definition 3 at full width followed by reduce_width: the same law
    for the entries and for the statistics that training and Θ depend on (two-sample KS tests
    at fixed seeds)."""
    p = _small(2, n=4, d=12, q=2)
    m, alpha, beta = 30, 0.7, 1.3
    P = p.X.T @ np.linalg.solve(p.X @ p.X.T, p.X)
    v = op.numpy_rng(99).standard_normal(p.d)

    def stats_of(W1r, WLr):
        theta0 = WLr @ W1r  # Θ⁽⁰⁾ᵀ (q, d)
        return [W1r[0] @ v, W1r[3, 5], WLr[1, 0], np.sum((theta0 @ p.X.T) ** 2),
                np.sum((theta0 @ (np.eye(p.d) - P)) ** 2), np.trace(W1r @ p.X.T @ p.X @ W1r.T)]

    full, red = [], []
    for s in range(400):
        W1, WL = dl.init_layers(s, m=m, d=p.d, q=p.q, alpha=alpha, beta=beta)
        r = dl.reduce_width(p.X, W1, WL)
        full.append(stats_of(r.W1, r.WL))
        ri = dl.init_reduced(10_000 + s, p.X, m=m, q=p.q, alpha=alpha, beta=beta)
        assert ri.width == p.n + p.q and ri.m == m and ri.basis is None
        red.append(stats_of(ri.W1, ri.WL))
    full, red = np.array(full), np.array(red)
    for j in range(full.shape[1]):
        assert stats.ks_2samp(full[:, j], red[:, j]).pvalue > 1e-3, j
    # E‖(I − P_X)Θ⁽⁰⁾‖²_F = α²β²qm(d − n)
    assert abs(red[:, 4].mean() / (alpha**2 * beta**2 * p.q * m * (p.d - p.n)) - 1) < 0.1


def test_init_reduced_minimal_and_errors():
    p = _small()
    ri = dl.init_reduced(0, p.X, m=50, q=p.q, alpha=0.0, beta=1.0, minimal=True)
    assert ri.width == p.q and not np.any(ri.W1)
    with pytest.raises(ValueError, match="d > n"):
        dl.init_reduced(0, p.X[:, :5], m=50, q=p.q, alpha=0.1, beta=1.0)
    with pytest.raises(ValueError, match="full row rank"):
        dl.init_reduced(0, np.ones((3, 10)), m=50, q=1, alpha=0.1, beta=1.0)
    with pytest.raises(ValueError, match="alpha must"):
        dl.init_reduced(0, p.X, m=50, q=p.q, alpha=-0.1, beta=1.0)


def test_stable_step():
    p = _small()
    W1, WL = dl.init_layers(0, m=30, d=p.d, q=p.q, alpha=0.3, beta=2.0)
    lam = 2 * (np.linalg.eigvalsh(p.X @ p.X.T)[-1] * np.linalg.norm(WL, 2) ** 2
               + np.linalg.norm(W1 @ p.X.T, 2) ** 2
               + 2 * np.linalg.norm(WL, 2) ** 2 * np.linalg.norm(W1 @ p.X.T, 2) ** 2)
    assert_allclose(dl.stable_step(p.X, W1, WL, depth=4, safety=0.5), 0.5 / lam)
    with pytest.raises(ValueError, match="safety must"):
        dl.stable_step(p.X, W1, WL, depth=2, safety=2.0)
    with pytest.raises(ValueError, match="zero gradient"):
        dl.stable_step(p.X, 0 * W1, 0 * WL, depth=2)
    with pytest.raises(ValueError, match="WL must"):
        dl.stable_step(p.X, W1, WL.T, depth=2)


# ----------------------------------------------------------------- training
def test_train_compressed_equals_engine_and_interpolates():
    p = _small(5)
    W1, WL = dl.init_layers(3, m=25, d=p.d, q=p.q, alpha=0.1, beta=1.0)
    Ys = p.labels(dl.noise_draws([1, 2, 3], n=p.n, q=p.q, sigma=0.5))
    kw = dict(depth=3, tol=1e-20, max_steps=20_000)
    a = dl.train(p.X, Ys, W1, WL, **kw)
    b = dl.train(p.X, Ys, W1, WL, compress=False, **kw)
    c = dl.train(p.X, Ys, W1, WL, compress=False, parametrization="direct", **kw)
    assert a.theta.shape == (3, p.d, p.q)
    assert_allclose(a.theta, b.theta, atol=1e-10) and assert_allclose(a.theta, c.theta, atol=1e-10)
    assert np.all(a.stop_step < 20_000) and np.all(a.loss < 1e-20)
    # Lemma 10 at interpolation; Lemma 19 for the orthogonal part
    row, perp = dl.rowspan_split(p.X, a.theta)
    assert_allclose(row, dl.min_norm_batch(p.X, Ys), atol=1e-9)
    _, perp0 = dl.rowspan_split(p.X, (c.run.upper_product().numpy() @ W1).transpose(0, 2, 1))
    assert_allclose(perp, perp0, atol=1e-10)


def test_train_errors():
    p = _small()
    W1, WL = dl.init_layers(0, m=10, d=p.d, q=p.q, alpha=0.1, beta=1.0)
    with pytest.raises(ValueError, match="d > n"):
        dl.train(p.X[:, :5], p.Y, W1[:, :5], WL, depth=2, tol=1e-6, max_steps=3)
    with pytest.raises(ValueError, match="compress=True"):
        dl.train(p.X, p.Y, W1, WL, depth=2, tol=1e-6, max_steps=3, parametrization="direct")
    with pytest.raises(ValueError, match="batch size"):
        dl.train(p.X, np.stack([p.Y] * 2), np.stack([W1] * 3), WL, depth=2, tol=1e-6,
                 max_steps=3)
    with pytest.raises(ValueError, match="W1 must have"):
        dl.train(p.X, p.Y, W1[:, :-1], WL, depth=2, tol=1e-6, max_steps=3)
    with pytest.raises(ValueError, match="tol must"):
        dl.train(p.X, p.Y, W1, WL, depth=2, tol=0.0, max_steps=3)
    with pytest.raises(ValueError, match="depth must"):
        dl.train(p.X, p.Y, W1, WL, depth=1, tol=1e-6, max_steps=3)


def test_lemma_metrics_on_direct_runs():
    p = _small(6)
    W1, WL = dl.init_layers(1, m=20, d=p.d, q=p.q, alpha=0.2, beta=1.0)
    fit = dl.train(p.X, p.Y, W1, WL, depth=3, tol=1e-16, max_steps=5000, compress=False,
                   parametrization="direct", record=50,
                   metrics=dl.lemma_metrics(p.X, p.Y, W1))
    h = fit.run.history
    assert h["lemma20"].max() < 1e-12 and h["lemma19"].max() < 1e-12
    assert np.all(h["rowspan_gap"] <= h["lemma10_bound"] * (1 + 1e-9))
    assert h["rowspan_gap"][-1] < 1e-6
    # the metric bites: a first layer moved off the row span is seen
    W1_bad = W1 + 1e-3 * op.numpy_rng(0).standard_normal(W1.shape)
    bad = dl.train(p.X, p.Y, W1, WL, depth=3, tol=1e-16, max_steps=2, compress=False,
                   parametrization="direct", metrics=dl.lemma_metrics(p.X, p.Y, W1_bad))
    assert bad.run.history["lemma20"].min() > 1e-6


# ----------------------------------------------------------------- risks and variances
def test_risks_and_noise_variance():
    p = _small(8)
    rng = op.numpy_rng(1)
    th = rng.standard_normal((5, p.d, p.q))
    r = dl.risks(th, p.theta_star, p.spectrum)
    assert r.shape == (5,)
    assert_allclose(r[2], op.excess_risk(th[2], p.theta_star, p.spectrum))
    assert isinstance(dl.risks(th[0], p.theta_star, p.spectrum), float)
    D = th - th.mean(0)
    assert_allclose(dl.noise_variance(th, p.spectrum),
                    sum(op.excess_risk(D[j], 0 * D[j], p.spectrum) for j in range(5)) / 4)
    with pytest.raises(ValueError, match="J >= 2"):
        dl.noise_variance(th[:1], p.spectrum)
    with pytest.raises(ValueError, match="spectrum must"):
        dl.risks(th, p.theta_star, p.spectrum[:-1])


def test_min_norm_variance_matches_exact():
    p = _small(9, n=8, d=40)
    noise = dl.noise_draws(range(2000), n=p.n, q=p.q, sigma=0.5)
    V = dl.noise_variance(dl.min_norm_batch(p.X, p.labels(noise)), p.spectrum)
    _, exact = op.min_norm_bias_variance(p.X, p.spectrum, p.theta_star, 0.25)
    assert abs(V / exact - 1) < 3 * np.sqrt(2 / (2000 * p.q))


def test_init_bias_prediction_monte_carlo():
    p = _small(10, n=5, d=25)
    m, alpha, beta = 12, 0.5, 2.0
    pred = dl.init_bias_prediction(p.X, p.spectrum, alpha=alpha, beta=beta, m=m, q=p.q)
    vals = []
    for s in range(3000):
        W1, WL = dl.init_layers(s, m=m, d=p.d, q=p.q, alpha=alpha, beta=beta)
        _, perp = dl.rowspan_split(p.X, (WL @ W1).T)
        vals.append(dl.risks(perp, 0 * perp, p.spectrum))
    assert abs(np.mean(vals) / pred - 1) < 4 * np.std(vals) / np.sqrt(3000) / pred


def test_critical_index_error_and_theorem7_conditions():
    with pytest.raises(ValueError, match="no j < d"):
        dl.critical_index(np.ones(5), n=10)
    lam = dl.spike_spectrum(150, 3, 0.05)
    conds = dl.theorem7_conditions(n=30, d=150, q=2, m=304, alpha=1e-3, beta=1.0, spectrum=lam)
    assert len(conds) == 4 and all(ok for _, ok in conds)
    conds = dl.theorem7_conditions(n=30, d=150, q=2, m=100, alpha=2.0, beta=0.1, spectrum=lam)
    assert [ok for _, ok in conds] == [False, False, False, True]


def test_theorem7_xi_bound_displayed_terms():
    # the spike design of Chapter 4: n = 30, d = 150, k = 3, ε = 0.05 (s_0 = 10.35, s_k = 7.35)
    lam = dl.spike_spectrum(150, 3, 0.05)
    kw = dict(spectrum=lam, n=30, q=2, theta_norm2=1.0, delta=0.05)
    a, m, L = 0.03, 304, 2
    sk, s0 = 0.05 * 147, 3 + 0.05 * 147
    hand = a**2 * sk / 30 * (2 + L**2 * (a + 1 / L) ** 4 * 30**2 / sk**2
                             * (1 + 2 + a**2 * s0 * 2 * np.log(30 / 0.05) / m))
    assert_allclose(dl.theorem7_xi_bound(m=m, depth=L, alpha=a, beta=1.0, **kw), hand, rtol=1e-12)
    assert dl.theorem7_xi_bound(m=m, depth=L, alpha=0.0, beta=1.0, **kw) == 0.0
    # the first term carries no m: the bound does not grow with the width
    wide = [dl.theorem7_xi_bound(m=mm, depth=L, alpha=a, beta=1.0, **kw) for mm in (304, 10**6)]
    assert wide[1] <= wide[0]
    with pytest.raises(ValueError, match="depth"):
        dl.theorem7_xi_bound(m=m, depth=1, alpha=a, beta=1.0, **kw)
    with pytest.raises(ValueError, match="delta"):
        dl.theorem7_xi_bound(m=m, depth=2, alpha=a, beta=1.0, **{**kw, "delta": 1.5})
    with pytest.raises(ValueError, match="alpha"):
        dl.theorem7_xi_bound(m=m, depth=2, alpha=-1.0, beta=1.0, **kw)


def test_xi_theorem6():
    p = _small(12)
    lam = p.spectrum
    k = dl.critical_index(lam, p.n)
    sk = np.sort(lam)[::-1][k:].sum()
    rng = op.numpy_rng(0)
    T = rng.standard_normal((3, p.d, p.q))
    row, perp = dl.rowspan_split(p.X, T)
    assert_allclose(dl.xi_theorem6(p.X, row, lam), 0.0, atol=1e-12)
    assert_allclose(dl.xi_theorem6(p.X, T, lam), sk / p.n * np.sum(perp**2, axis=(1, 2)))
    assert isinstance(dl.xi_theorem6(p.X, T[0], lam), float)


def test_rowspan_variance_bound_holds_and_vanishes_at_interpolation():
    p = _small(13, n=8, d=30)
    J = 40
    Ys = p.labels(dl.noise_draws(range(J), n=p.n, q=p.q, sigma=1.0))
    th_l2 = dl.min_norm_batch(p.X, Ys)
    rng = op.numpy_rng(1)
    for scale in (1e-6, 1e-2, 1.0):  # networks that do not quite interpolate
        thetas = th_l2 + scale * rng.standard_normal(th_l2.shape)
        losses = np.sum((Ys - p.X @ thetas) ** 2, axis=(1, 2))
        row, _ = dl.rowspan_split(p.X, thetas)
        gap = abs(np.sqrt(dl.noise_variance(row, p.spectrum))
                  - np.sqrt(dl.noise_variance(th_l2, p.spectrum)))
        bound = dl.rowspan_variance_bound(p.X, losses, p.spectrum)
        assert 0 < gap <= bound
    assert dl.rowspan_variance_bound(p.X, np.zeros(J), p.spectrum) == 0.0
    with pytest.raises(ValueError, match="losses"):
        dl.rowspan_variance_bound(p.X, [1.0], p.spectrum)
    with pytest.raises(ValueError, match="losses"):
        dl.rowspan_variance_bound(p.X, [1.0, -1.0], p.spectrum)


def test_fig3_constants():
    assert len(dl.FIG3_DIMENSIONS) == len(dl.FIG3_LOGGED_OLS_RISK) == 10
    assert dl.FIG3_DIMENSIONS[0] == 200 and dl.FIG3_DIMENSIONS[-1] == 2000


# ----------------------------------------------------------------- explorer and plots
def test_explore_run_small_and_plot():
    kw = dict(depth=2, width=40, d=30, n=8, draws=4, max_steps=5000)
    res = dl.explore_run(alpha=1e-3, **kw)
    assert res.converged and not res.notes
    assert abs(res.var_net / res.var_l2_mc - 1) < 1e-3
    # the row-span part has Θ_ℓ2's variance up to the training tolerance (Lemma 10); the whole
    # network's variance differs by the noise that reaches its part outside the row span
    tight = dl.explore_run(alpha=1e-3, tol=1e-22, **kw)
    assert abs(tight.var_row / tight.var_l2_mc - 1) < 1e-10
    assert abs(tight.var_net / tight.var_l2_mc - 1) > 1e-7
    assert res.norms[r"P_X\Theta - \Theta_{\ell_2}"] < 1e-4
    fig = dl.plot_explore(res)
    plotting.require_labels(fig)
    plt.close(fig)
    bad = dl.explore_run(alpha=2.0, beta=0.1, **kw)
    assert any("α" in note for note in bad.notes) and any("β" in note for note in bad.notes)


def test_plots_are_labelled():
    p = _small(11)
    alphas = [0.0, 0.1]
    W1 = np.stack([dl.init_layers(i, m=15, d=p.d, q=p.q, alpha=a, beta=1.0)[0]
                   for i, a in enumerate(alphas)])
    WL = np.stack([dl.init_layers(i, m=15, d=p.d, q=p.q, alpha=a, beta=1.0)[1]
                   for i, a in enumerate(alphas)])
    fit = dl.train(p.X, p.Y, W1, WL, depth=2, tol=1e-10, max_steps=3000, compress=False,
                   parametrization="direct", record="log", metrics=dl.lemma_metrics(p.X, p.Y, W1))
    figs = [
        dl.plot_lemmas({2: fit.run.history}, alphas, {2: np.array([0.0, 1e-15])}, show_alpha=1),
        dl.plot_variance(["a", "b", "c"], [0.1, 1e-20, 0.3], [0.4, 0.01, 0.01], np.ones(3),
                         np.ones(3), 2 * np.ones(3), rowspan={1: 1e-12}, net_label="net",
                         ctrl_label="ctrl"),
        dl.plot_bias([0.0, 0.1, 0.2], {2: np.array([[0, 1.0, 4.0], [0, 1.2, 3.8]])},
                     [0, 1.0, 4.0], {2: np.array([0, 0.1, 0.4])}, [10, 20],
                     {2: np.array([[1.0, 2.0], [1.1, 2.1]])}, [1.0, 2.0],
                     {2: np.array([0.1, 0.1])}, width_alpha=0.1),
        dl.plot_fig3_min_norm([200, 400], np.ones((3, 2)), [1.0, 1.0], np.ones((3, 2)),
                              [1.0, 0.8]),
        dl.plot_fig3_deep([400], {0.0: np.zeros((2, 1)), 1e-3: np.ones((2, 1))},
                          {1e-3: np.ones(1)}),
        dl.plot_fig3_deep([400], {0.0: np.zeros((2, 1)), 1e-3: np.ones((2, 1))},
                          {1e-3: np.ones(1)}, {1e-3: 1e-6 * np.ones(1)}),
    ]
    for fig in figs:
        plotting.require_labels(fig)
        plt.close(fig)
