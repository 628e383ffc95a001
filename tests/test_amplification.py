"""Chapter 2 library (overparam.amplification): the XOR cluster law, the diagnostics against brute
force, test errors, the linear baseline, the statements' helpers, validation and the plots."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from overparam import amplification as amp
from overparam.plotting import require_labels

matplotlib.use("Agg")


def _small(seed=0, d=30, n=40, m=10, eta=0.2, omega=1e-3, **kw):
    return amp.sample_xor(seed, d=d, n=n, m=m, sigma=math.sqrt(1 / (4 * d)), eta=eta,
                          omega=omega, **kw)


# ----------------------------------------------------------------- the law
def test_sample_shapes_labels_and_clusters():
    x = _small(d=30, n=200, m=10)
    assert x.X.shape == (200, 30) and x.W0.shape == (10, 30) and x.dim == 30
    assert not x.reduced  # d - 2 <= n + m: drawn directly
    assert_allclose(x.y_clean, amp.CLUSTER_LABELS[x.cluster])
    assert np.array_equal(x.y != x.y_clean, x.noisy)
    # coordinates 0, 1 are μ1, μ2: the cluster means plus N(0, σ²) noise
    for c, (k, s) in enumerate(amp.CLUSTER_MEANS):
        sel = x.cluster == c
        assert np.all(np.abs(x.X[sel, k] - s) < 6 * x.sigma)
        assert np.all(np.abs(x.X[sel, 1 - k]) < 6 * x.sigma)
    assert_allclose(x.a, np.r_[np.ones(5), -np.ones(5)] / math.sqrt(10))
    assert_allclose(x.mu, np.eye(30)[:, :2])


def test_sample_is_reproducible_and_seeds_differ():
    a, b, c = _small(seed=3), _small(seed=3), _small(seed=4)
    assert_allclose(a.X, b.X, rtol=0, atol=0)
    assert_allclose(a.W0, b.W0, rtol=0, atol=0)
    assert not np.allclose(a.X, c.X)
    ta = next(a.test_chunks(100))[0]
    assert_allclose(ta, next(b.test_chunks(100))[0], rtol=0, atol=0)
    assert not np.allclose(ta, next(c.test_chunks(100))[0])


def test_high_dimension_uses_exact_frame_with_right_norms():
    d, n, m = 20_000, 300, 40
    x = amp.sample_xor(1, d=d, n=n, m=m, sigma=math.sqrt(1 / (4 * d)), eta=0.1, omega=0.5)
    assert x.reduced and x.dim == 2 + n + m
    z = x.X.copy()
    for c, (k, s) in enumerate(amp.CLUSTER_MEANS):
        z[x.cluster == c, k] -= s
    # ‖z_i‖² ~ σ² χ²_d: mean σ²d = 1/4, sd σ²√(2d)
    assert abs(np.mean((z**2).sum(1)) - 0.25) < 4 * 0.25 * math.sqrt(2 / d) / math.sqrt(n)
    # rows of W0: ‖w_j‖² ~ ω² χ²_d, ⟨w_j, μ1⟩ ~ N(0, ω²)
    assert abs(np.mean((x.W0**2).sum(1)) / (0.25 * d) - 1) < 4 * math.sqrt(2 / d)
    assert abs(np.std(x.W0[:, 0]) / 0.5 - 1) < 0.35
    # inner products between distinct noise vectors are of order σ²√d, not σ²d
    G = z @ z.T
    off = G[~np.eye(n, dtype=bool)]
    assert abs(off.std() / (0.25 / math.sqrt(d)) - 1) < 0.1


def test_flip_modes():
    x = _small(n=400, eta=0.15, flips="per_cluster")
    for c in range(4):
        sel = x.cluster == c
        assert x.noisy[sel].sum() == round(0.15 * sel.sum())
    r = _small(n=4000, eta=0.15, flips="random")
    assert abs(r.noisy.mean() - 0.15) < 4 * math.sqrt(0.15 * 0.85 / 4000)
    assert not _small(eta=0.0).noisy.any()


def test_test_chunks_do_not_depend_on_chunk_size():
    x = _small()
    big = [np.concatenate(p) for p in zip(*x.test_chunks(1000, 1000), strict=True)]
    small = [np.concatenate(p) for p in zip(*x.test_chunks(1000, 70), strict=True)]
    for u, v in zip(big, small, strict=True):
        assert_allclose(u, v, rtol=0, atol=0)
    Xt, yc, yn = big
    assert Xt.shape == (1000, x.dim)
    assert abs(np.mean(yc != yn) - x.eta) < 4 * math.sqrt(x.eta * (1 - x.eta) / 1000)


def test_padding_and_stack():
    a, b = _small(d=30), _small(seed=1, d=12)
    s = amp.stack([a, b])
    assert s["X"].shape == (2, 40, 30) and s["W0"].shape == (2, 10, 30)
    assert np.all(s["X"][1, :, 12:] == 0) and np.all(s["W0"][1, :, 12:] == 0)
    assert_allclose(s["X"][1, :, :12], b.X)
    with pytest.raises(ValueError, match="share n and m"):
        amp.stack([a, _small(n=20)])
    with pytest.raises(ValueError, match="at least one"):
        amp.stack([])


@pytest.mark.parametrize("kw,match", [
    ({"d": 1}, "d must"), ({"n": 0}, "n must"), ({"m": 7}, "m must be even"),
    ({"m": 0}, "m must"), ({"sigma": 0.0}, "sigma"), ({"eta": 0.5}, "eta"),
    ({"eta": -0.1}, "eta"), ({"omega": -1.0}, "omega"), ({"flips": "some"}, "flips"),
    ({"seed": -1}, "seed"), ({"sigma": float("nan")}, "sigma"),
])
def test_sample_validation(kw, match):
    args = dict(seed=0, d=30, n=40, m=10, sigma=0.1, eta=0.1, omega=0.01)
    args.update(kw)
    seed = args.pop("seed")
    with pytest.raises(ValueError, match=match):
        amp.sample_xor(seed, **args)


# ----------------------------------------------------------------- statements
def test_horizon_and_constants():
    assert amp.horizon(0.05) == 6 and amp.horizon(0.125) == 3 and amp.horizon(0.25) == 2
    for bad in (0.07, 0.0, 0.3, -0.1):
        with pytest.raises(ValueError, match="alpha"):
            amp.horizon(bad)
    om, bound = amp.lemma14_condition(omega=0.01 / math.sqrt(2000), m=20, d=100, alpha=0.06)
    assert om == pytest.approx(0.01) and bound == pytest.approx(0.02)


def test_assumption_ranges_match_the_inequalities():
    kw = dict(d=1000, n=100, m=50, sigma2=1e-4, eta=0.05, omega2=1e-9, alpha=0.1, delta=0.1)
    r = amp.assumption_ranges(**kw)
    assert r["A1"][1] == pytest.approx(1000 / max(math.log(1000) ** 2, math.log(500)))
    assert r["A2"][1] == pytest.approx(1 / math.sqrt(1e-4 * 1000))
    assert r["A3"][1] == pytest.approx(100 / math.log(500))
    assert r["A4"][1] == pytest.approx(20)
    assert r["A5"][1] == pytest.approx(50 / math.log(10))
    assert r["A6"][1] == pytest.approx((1e-9 * 50 * 1000) ** -0.25)
    assert r["A7"] == pytest.approx((25.0, 100.0))
    # each bound is the edge of its inequality: at C = C_high it holds with equality
    C = r["A2"][1]
    assert kw["sigma2"] == pytest.approx(1 / (C**2 * kw["d"]))
    C = r["A6"][1]
    assert kw["omega2"] == pytest.approx(1 / (C**4 * kw["m"] * kw["d"]))
    assert amp.assumption_ranges(**{**kw, "eta": 0.0})["A4"][1] == math.inf
    table = amp.assumption_table({"x": kw})
    assert "(A7)" in table and table.splitlines()[-1].split()[-1] == "none"
    with pytest.raises(ValueError, match="delta"):
        amp.assumption_ranges(**{**kw, "delta": 0.5})
    with pytest.raises(ValueError, match="configs"):
        amp.assumption_table({})


# ----------------------------------------------------------------- diagnostics vs brute force
def _brute(W, a, X, cluster, own, mu_dim=2):
    """Alignment, NAC per neuron from explicit weights W (m, D)."""
    k = own // 2
    s = np.where(own % 2 == 0, 1.0, -1.0)
    cos = s * W[np.arange(len(a)), k] / np.linalg.norm(W, axis=1)
    nac = np.zeros(len(a), dtype=bool)
    for j in range(len(a)):
        z = X @ W[j]
        mine, opp = cluster == own[j], cluster == (own[j] ^ 1)
        nac[j] = np.all(z[mine] > 0) and np.all(z[opp] <= 0)
    return cos, nac


@pytest.mark.parametrize("parametrization", ["direct", "rowspan"])
def test_trace_matches_brute_force(parametrization):
    datas = [_small(seed=s, d=50, n=60, m=12, omega=2e-3) for s in range(2)]
    alpha = 0.125
    T = amp.horizon(alpha)
    run = amp.train(datas, alpha=alpha, steps=T, parametrization=parametrization, progress=False)
    tr = amp.trace(run, 50, alpha)
    W = run.weights().numpy()
    for b, x in enumerate(datas):
        own = run.own_cluster[b]
        proj0 = x.W0[:, :2]
        c_ref, k_ref = amp.own_means(x.a, proj0)
        assert np.array_equal(own, c_ref)
        assert np.all(k_ref == (x.a < 0))
        # own mean has a non-negative correlation at initialization
        assert np.all(tr.cos[0, b] >= 0)
        cos, nacj = _brute(W[b], x.a, x.X, x.cluster, own)
        assert_allclose(tr.cos[T, b], cos, rtol=1e-10, atol=1e-12)
        J = tr.J[b]
        assert_allclose(tr.nac[T, b], nacj[J].mean(), atol=1e-12)
        other = np.where(x.a > 0, W[b][:, 1], W[b][:, 0])
        ortho = np.max(np.abs(other[J]) / (3 * alpha * np.abs(x.a[J])))
        assert tr.ortho[T, b] == pytest.approx(ortho, rel=1e-10)
        growth = np.max(np.linalg.norm(W[b], axis=1) / (2 * np.abs(x.a) * alpha * T))
        assert tr.growth[T, b] == pytest.approx(growth, rel=1e-10)
        assert tr.frobenius[T, b] == pytest.approx(np.linalg.norm(W[b]), rel=1e-10)
        # Lemma 4's sets: threshold 1/(3 C0 √d) with C0 = 2
        cos0 = tr.cos[0, b]
        assert np.array_equal(J, cos0 >= 1 / (6 * math.sqrt(50)))
        assert tr.J_sizes[b].sum() == J.sum()
        # Proposition 2's relative feature change
        Z0, ZT = x.W0 @ x.X.T, W[b] @ x.X.T
        ref = np.min(np.linalg.norm(np.maximum(ZT, 0) - np.maximum(Z0, 0), axis=0)
                     / np.linalg.norm(np.maximum(Z0, 0), axis=0))
        assert tr.feature_change[b] == pytest.approx(ref, rel=1e-10)
        assert amp.feature_change(Z0, ZT) == pytest.approx(ref, rel=1e-10)
        # training outputs
        f = np.maximum(x.X @ W[b].T, 0) @ x.a
        assert_allclose(tr.out[T, b], f, rtol=1e-10, atol=1e-14)
    assert np.all(np.isnan(tr.growth[0]))


def test_rowspan_and_direct_give_the_same_trace():
    datas = [_small(seed=s, d=80, n=30, m=8) for s in range(2)]
    tr = [amp.trace(amp.train(datas, alpha=0.05, steps=6, parametrization=p, progress=False),
                    80, 0.05) for p in ("direct", "rowspan")]
    assert_allclose(tr[0].cos, tr[1].cos, rtol=1e-9, atol=1e-12)
    assert_allclose(tr[0].nac, tr[1].nac)
    assert_allclose(tr[0].out, tr[1].out, rtol=1e-9, atol=1e-14)


def test_batch_composition_does_not_change_a_run():
    a, b = _small(seed=5), _small(seed=6)
    t_ab = amp.trace(amp.train([a, b], alpha=0.05, steps=4, progress=False), 30, 0.05)
    t_a = amp.trace(amp.train(a, alpha=0.05, steps=4, progress=False), 30, 0.05)
    assert_allclose(t_ab.cos[:, :1], t_a.cos, rtol=1e-12, atol=1e-15)


def test_lemma4_sets_and_quantiles():
    cos0 = np.array([[0.1, 0.01, 0.2, 0.05]])
    own = np.array([[0, 1, 2, 3]])
    J, sizes = amp.lemma4_sets(cos0, own, d=100, C0=2)  # threshold 1/60
    assert np.array_equal(J[0], [True, False, True, True])
    assert np.array_equal(sizes[0], [1, 0, 1, 1])
    with pytest.raises(ValueError, match="C0"):
        amp.lemma4_sets(cos0, own, d=100, C0=1.0)
    with pytest.raises(ValueError, match="proj0"):
        amp.own_means(np.ones(4), np.ones((4, 3)))


def test_plane_outputs_match_the_network():
    x = _small(d=40)
    run = amp.train(x, alpha=0.125, steps=3, progress=False)
    u, v = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 4))
    pts = np.zeros((u.size, x.dim))
    pts[:, 0], pts[:, 1] = u.ravel(), v.ravel()
    f = run.outputs(pts).numpy()[0].reshape(u.shape)
    proj = run.history["proj"][-1, 0]
    assert_allclose(amp.plane_outputs(proj, x.a, u, v), f, rtol=1e-10, atol=1e-15)
    with pytest.raises(ValueError, match="proj"):
        amp.plane_outputs(proj[:3], x.a, u, v)


# ----------------------------------------------------------------- test errors and baseline
def test_test_errors_match_direct_evaluation_and_chunking():
    datas = [_small(seed=s, d=60, n=80, m=10) for s in range(2)]
    runs = [amp.train(datas, alpha=al, steps=amp.horizon(al), progress=False)
            for al in (0.125, 0.25)]
    theta = amp.fit_linear(runs[0].xor["X"], runs[0].xor["y"])
    e1 = amp.test_errors(runs, datas, count=700, chunk=700, linear=theta)
    e2 = amp.test_errors(runs, datas, count=700, chunk=64, linear=theta)
    for k in e1:
        assert_allclose(e1[k], e2[k], rtol=0, atol=1e-15)
    W = runs[1].weights().numpy()
    for b, x in enumerate(datas):
        Xt, yc, yn = next(x.test_chunks(700, 700))
        f = np.maximum(Xt @ W[b].T, 0) @ x.a
        assert e1["clean"][1, b] == pytest.approx(np.mean(yc * f <= 0))
        assert e1["noisy"][1, b] == pytest.approx(np.mean(yn * f <= 0))
        assert e1["eta_emp"][b] == pytest.approx(np.mean(yc != yn))
        assert e1["linear"][b] == pytest.approx(np.mean(yc * (Xt @ theta[b]) <= 0))
        assert e1["linear"][b] == pytest.approx(amp.linear_test_error(theta[b], x, count=700))
    single = amp.test_errors(runs[0], datas, count=200)
    assert single["clean"].shape == (2,)
    with pytest.raises(ValueError, match="one batch element per draw"):
        amp.test_errors(runs, datas[:1], count=10)
    with pytest.raises(ValueError, match="linear"):
        amp.test_errors(runs, datas, count=10, linear=theta[:1])


def test_test_accuracy_metric_matches_outputs():
    datas = [_small(seed=s, d=60) for s in range(2)]
    dim = max(x.dim for x in datas)
    probes, metrics, flips = amp.test_accuracy_metric(datas, dim, count=300)
    run = amp.train(datas, alpha=0.125, steps=3, parametrization="rowspan", probes=probes,
                    metrics=metrics, progress=False)
    W = run.weights().numpy()
    for b, x in enumerate(datas):
        Xt, yc, yn = next(x.test_chunks(300, 300))
        f = np.maximum(Xt @ W[b].T, 0) @ x.a
        assert run.history["test_acc"][-1, b] == pytest.approx(np.mean(yn * f > 0))
        assert flips[b] == pytest.approx(np.mean(yc != yn))


def test_fit_linear_separates_separable_data_and_fails_on_xor():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 5))
    y = np.sign(X @ np.array([1.0, -2.0, 0.5, 0.0, 1.0]))
    theta = amp.fit_linear(X, y, steps=500)
    assert np.mean(y * (X @ theta) <= 0) < 0.03
    x = _small(d=50, n=400)
    th = amp.fit_linear(x.X, x.y)
    assert abs(amp.linear_test_error(th, x, count=20_000) - 0.5) < 0.02
    with pytest.raises(ValueError, match="labels"):
        amp.fit_linear(X, np.zeros(200))
    with pytest.raises(ValueError, match="X must"):
        amp.fit_linear(X, y[:10])
    with pytest.raises(ValueError, match="theta"):
        amp.linear_test_error(np.ones(3), x)


def test_amplification_happens_in_a_small_instance():
    """One large step takes the median alignment over J from O(1/√d) to order one."""
    d = 2000
    datas = [amp.sample_xor(s, d=d, n=200, m=40, sigma=math.sqrt(1 / (4 * d)), eta=0.1,
                            omega=math.sqrt(1e-4 / (40 * d))) for s in range(2)]
    tr = amp.trace(amp.train(datas, alpha=0.125, steps=3, progress=False), d, 0.125)
    med = tr.cos_quantile(0.5)
    assert np.all(med[0] < 3 / math.sqrt(d)) and np.all(med[1] > 0.3)
    assert np.all(tr.nac[1:3] >= 0.9)
    with pytest.raises(ValueError, match="recorded step"):
        tr.at(99)
    with pytest.raises(ValueError, match="q"):
        tr.cos_quantile(1.5)


def test_trace_needs_step_zero():
    x = _small()
    run = amp.train(x, alpha=0.05, steps=3, record=[1, 2], progress=False)
    with pytest.raises(ValueError, match="step 0"):
        amp.trace(run, 30, 0.05)


# ----------------------------------------------------------------- plots
# The book's content column is about 720 CSS px wide and figures are drawn at 110 dpi: a figure
# wider than 8.5 in is shrunk by more than 0.77 and its 9 pt legends fall below ~10 px.
MAX_WIDTH_IN = 8.5


def test_plots_have_labels():
    fig = amp.plot_explore(d=50, n=40, m=10, t=2, n_test=200)
    require_labels(fig)
    assert fig.get_figwidth() <= MAX_WIDTH_IN
    assert fig.legends, "the explorer's legend sits below the panels"
    datas = [_small(seed=s) for s in range(2)]
    tr = amp.trace(amp.train(datas, alpha=0.125, steps=3, progress=False), 30, 0.125)
    med, p10 = tr.cos_quantile(0.5).mean(1), tr.cos_quantile(0.1).mean(1)
    fig = amp.plot_amplification([30, 60], tr.steps, np.stack([med, med]),
                                 np.stack([p10, p10]), np.array([0.8, 0.8]),
                                 np.array([[0.4, 0.4]]), alphas=[0.125])
    require_labels(fig)
    assert fig.get_figwidth() <= MAX_WIDTH_IN
    fig = amp.plot_alignment_histograms({30: tr.cos[[0, 1, 3]].reshape(3, -1)}, [0, 1, 3])
    require_labels(fig)
    assert fig.get_figwidth() <= MAX_WIDTH_IN
    fig = amp.plot_conditions([tr.steps], [tr.nac.min(1)], [tr.ortho.max(1)],
                              [tr.growth.max(1)], ["x"],
                              controls=[("c", tr.steps, tr.growth.max(1), 3)])
    require_labels(fig)
    assert fig.get_figwidth() <= MAX_WIDTH_IN
    names = [t.get_text() for t in fig.legends[0].get_texts()]
    assert names == ["x", "c"], "one figure legend names the design curves and the controls"
    fig = amp.plot_errors([30, 60], np.zeros((2, 2)), np.full((2, 2), 0.1),
                          np.full((2, 2), 0.1), np.full((2, 2), 0.5), eta=0.1)
    require_labels(fig)
    import matplotlib.pyplot as plt

    plt.close("all")


def test_explore_rejects_bad_input():
    with pytest.raises(ValueError, match="init"):
        amp.plot_explore(d=50, n=40, m=10, t=1, init=0.0)
    with pytest.raises(ValueError, match="m must be even"):
        amp.plot_explore(d=50, n=40, m=11, t=1)


def test_torch_threads_untouched():
    # the library never changes global torch state
    before = torch.get_num_threads()
    amp.train(_small(), alpha=0.05, steps=1, progress=False)
    assert torch.get_num_threads() == before


def test_check_report_is_shown_once():
    """``checks.report()`` ends every verification notebook: it displays the table itself, so it
    must not also return an object that the notebook would render a second time."""
    import overparam as op

    checks = op.Checks("00_test")
    checks.add("x", claim="c", source="s", measured=0.0, op="<=", bound=1.0, kind="letter")
    assert checks.report(display=True) is None
    assert checks.report(display=False) is checks
