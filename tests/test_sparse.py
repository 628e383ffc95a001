"""Chapter 3 library: basis pursuit (the three LP routes through HiGHS and their errors), the
(k, p, n, ε, σ)-scenario, exact risks, the certificate, the explicit bounds and the sparse
interpolators."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from numpy.testing import assert_allclose

import overparam as op
from overparam import linear, plotting, sparse


# ----------------------------------------------------------------- basis pursuit
def _problem(seed: int, n: int, p: int):
    rng = op.numpy_rng(seed)
    return rng.standard_normal((n, p)), rng.standard_normal(n)


@pytest.mark.parametrize("seed,n,p", [(0, 10, 60), (1, 20, 300), (2, 30, 1500)])
def test_three_lp_routes_give_the_same_vertex(seed, n, p):
    X, y = _problem(seed, n, p)
    res = {m: op.basis_pursuit(X, y, method=m) for m in linear.BP_METHODS}
    ref = res["primal"].theta
    for m, r in res.items():
        assert r.status == 0, m
        assert r.residual <= 1e-10 * np.linalg.norm(y), m
        assert len(r.support()) <= n, m
        assert r.gap < 1e-7, m
        assert_allclose(r.theta, ref, atol=1e-8 * np.abs(ref).max(), err_msg=m)
        # the dual vector is dual feasible and certifies optimality: yᵀλ = ‖θ‖₁
        assert np.abs(X.T @ r.dual).max() <= 1 + 1e-7
        assert_allclose(y @ r.dual, np.abs(r.theta).sum(), rtol=1e-7)
    if p > 4 * n:
        assert res["working-set"].method == "working-set"
        assert res["working-set"].columns < p


def test_working_set_is_not_beaten_by_an_interpolant_on_its_complement():
    # optimality against a feasible competitor: ‖θ_BP‖₁ ≤ ‖min-norm interpolant‖₁
    X, y = _problem(3, 25, 800)
    r = op.basis_pursuit(X, y)
    assert np.abs(r.theta).sum() <= np.abs(op.min_norm_interpolant(X, y)).sum()


def test_working_set_falls_back_to_the_full_lp_after_max_rounds():
    X, y = _problem(4, 20, 400)
    r = op.basis_pursuit(X, y, max_rounds=1)
    full = op.basis_pursuit(X, y, method="primal")
    assert r.method in ("working-set", "working-set, then primal")
    assert_allclose(r.theta, full.theta, atol=1e-9)


def test_noiseless_sparse_truth_is_recovered_by_every_route():
    X, _ = _problem(5, 30, 400)
    truth = np.zeros(400)
    truth[[3, 77]] = [1.5, -2.0]
    for m in linear.BP_METHODS:
        assert_allclose(op.basis_pursuit(X, X @ truth, method=m).theta, truth, atol=1e-8)


def test_zero_labels_give_zero():
    X, _ = _problem(6, 10, 100)
    r = op.basis_pursuit(X, np.zeros(10))
    assert np.all(r.theta == 0) and r.gap == 0 and r.support().size == 0


@pytest.mark.parametrize("method", linear.BP_METHODS)
def test_infeasible_lp_raises_with_the_solver_status(method):
    # rank-deficient X (every row equal) and y outside its range: no interpolant exists
    X = np.tile(op.numpy_rng(7).standard_normal(300), (4, 1))
    y = np.array([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(op.BasisPursuitError, match="HiGHS status"):
        op.basis_pursuit(X, y, method=method)


def test_time_limit_reached_raises():
    X, y = _problem(8, 100, 4000)
    with pytest.raises(op.BasisPursuitError, match="[Tt]ime limit"):
        op.basis_pursuit(X, y, method="primal", time_limit=1e-6)


def test_basis_pursuit_bad_arguments():
    X, y = _problem(9, 5, 20)
    with pytest.raises(ValueError, match="method"):
        op.basis_pursuit(X, y, method="simplex")
    with pytest.raises(ValueError, match="time_limit"):
        op.basis_pursuit(X, y, time_limit=0.0)
    with pytest.raises(ValueError, match="max_rounds"):
        op.basis_pursuit(X, y, max_rounds=0)
    with pytest.raises(ValueError, match="y must have"):
        op.basis_pursuit(X, y[:3])
    with pytest.raises(ValueError, match="finite"):
        op.basis_pursuit(X, np.full(5, np.nan))
    with pytest.raises(ValueError, match="2-D"):
        op.basis_pursuit(X[0], y)


# ----------------------------------------------------------------- the scenario
def test_scenario_covariance_and_errors():
    assert_allclose(sparse.scenario_covariance(5, 2, 0.1), [1, 1, 0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="k must"):
        sparse.scenario_covariance(5, 6, 0.1)
    with pytest.raises(ValueError, match="ε must"):
        sparse.scenario_covariance(5, 2, 0.0)


def test_draw_is_reproducible_and_shares_x_and_noise_across_truths():
    a = sparse.draw_scenario(3, 10, 50, 4, 0.01, 0.5)
    b = sparse.draw_scenario(3, 10, 50, 4, 0.01, 0.5)
    c = sparse.draw_scenario(3, 10, 50, 4, 0.01, 0.5, truth="zero")
    d = sparse.draw_scenario(4, 10, 50, 4, 0.01, 0.5)
    assert_allclose(a.X, b.X) and assert_allclose(a.y, b.y)
    assert_allclose(a.X, c.X) and assert_allclose(a.xi, c.xi)
    assert not np.allclose(a.X, d.X)
    assert_allclose(np.linalg.norm(a.theta_star), 1.0)
    assert np.all(a.theta_star[4:] == 0)
    assert_allclose(a.y, a.X @ a.theta_star + a.xi)
    assert (a.n, a.p, a.k, a.ε) == (10, 50, 4, 0.01)


def test_draw_has_the_scenario_covariance():
    d = sparse.draw_scenario(0, 2000, 2010, 3, 0.04, 1.0)
    var = d.X.var(axis=0)
    assert_allclose(var[:3], 1.0, rtol=0.15)
    assert_allclose(var[3:].mean(), 0.04, rtol=0.02)


def test_draw_truth_options_and_errors():
    e1 = sparse.draw_scenario(0, 5, 20, 2, 0.1, 1.0, truth="e1", theta_norm=2.0)
    assert_allclose(e1.theta_star[:3], [2.0, 0, 0])
    v = sparse.draw_scenario(0, 5, 20, 2, 0.1, 1.0, truth=np.array([1.0, -1.0]))
    assert_allclose(v.theta_star[:2], [1.0, -1.0])
    with pytest.raises(ValueError, match="p must"):
        sparse.draw_scenario(0, 10, 10, 0, 1.0, 1.0, truth="zero")
    with pytest.raises(ValueError, match="k must"):
        sparse.draw_scenario(0, 10, 15, 6, 1.0, 1.0)
    with pytest.raises(ValueError, match="σ must"):
        sparse.draw_scenario(0, 5, 20, 2, 0.1, -1.0)
    with pytest.raises(ValueError, match="needs a head"):
        sparse.draw_scenario(0, 5, 20, 0, 0.1, 1.0, truth="e1")
    with pytest.raises(ValueError, match="truth must be one of"):
        sparse.draw_scenario(0, 5, 20, 2, 0.1, 1.0, truth="dense")
    with pytest.raises(ValueError, match="vanish off the head"):
        sparse.draw_scenario(0, 5, 20, 2, 0.1, 1.0, truth=np.ones(20))
    with pytest.raises(ValueError, match="seed"):
        sparse.draw_scenario(-1, 5, 20, 2, 0.1, 1.0)


# ----------------------------------------------------------------- risks and certificate
def test_risk_split_is_lemma_4_and_sums_to_the_exact_risk():
    d = sparse.draw_scenario(1, 8, 40, 3, 0.05, 1.0)
    θ = op.numpy_rng(2).standard_normal(40)
    head, tail = sparse.risk_split(d, θ)
    assert_allclose(head, np.sum((d.theta_star[:3] - θ[:3]) ** 2))
    assert_allclose(tail, 0.05 * np.sum(θ[3:] ** 2))
    assert_allclose(head + tail, op.excess_risk(θ, d.theta_star, d.lam))


def test_exact_risk_matches_a_test_set():
    # Lemma 4 against its definition E[(θ̂·x − y)²] − σ², by Monte Carlo
    d = sparse.draw_scenario(5, 20, 60, 3, 0.1, 0.7)
    θ = op.basis_pursuit(d.X, d.y).theta
    rng = op.numpy_rng(6)
    m = 200_000
    Xt = rng.standard_normal((m, 60)) * np.sqrt(d.lam)
    yt = Xt @ d.theta_star + 0.7 * rng.standard_normal(m)
    loss = (Xt @ θ - yt) ** 2
    est, se = loss.mean() - 0.49, loss.std() / np.sqrt(m)
    assert abs(est - op.excess_risk(θ, d.theta_star, d.lam)) < 4 * se


def test_certificate_lower_bounds_the_tail_risk_of_sparse_interpolators():
    d = sparse.draw_scenario(2, 30, 600, 3, 0.02, 1.0)
    θ_bp = op.basis_pursuit(d.X, d.y).theta
    for θ in (θ_bp, sparse.support_interpolant(d.X, d.y, np.arange(3, 80))):
        c = sparse.certificate(d, θ)
        assert 0 < c <= sparse.risk_split(d, θ)[1]
    # an inexact interpolant: the residual is subtracted, the bound stays valid
    θ = θ_bp * (1 + 1e-3)
    assert sparse.certificate(d, θ) <= sparse.risk_split(d, θ)[1]
    # nothing in the tail: nothing certified
    assert sparse.certificate(d, np.zeros(600)) == 0.0


def test_fit_matches_the_shared_min_norm_formulas():
    d = sparse.draw_scenario(3, 15, 90, 2, 0.2, 0.8)
    f = sparse.fit(d)
    bias, var = op.min_norm_bias_variance(d.X, d.lam, d.theta_star, 0.64)
    assert_allclose((f.ols_bias, f.ols_variance), (bias, var))
    assert_allclose(f.theta_ols, op.min_norm_interpolant(d.X, d.y))
    assert_allclose(f.risk_bp, sum(f.split_bp))
    s = f.summary()
    assert s["nnz_bp"] <= 15 and s["l1_bp"] <= s["l1_ols"] and s["cert_bp"] <= s["tail_bp"]


def test_noise_energy_is_lemma_5():
    d = sparse.draw_scenario(4, 12, 200, 2, 0.05, 1.0)
    θ = op.basis_pursuit(d.X, d.y).theta
    e = sparse.noise_energy(d, θ)
    assert_allclose(e["stored"], np.sum((d.y - d.X[:, :2] @ θ[:2]) ** 2), rtol=1e-9)
    assert_allclose(e["noise"], d.xi @ d.xi)
    assert_allclose(e["efficiency"], e["stored"] / e["price"])


def test_participation_ratio():
    θ = np.zeros(100)
    θ[:10] = 3.0
    assert_allclose(sparse.participation_ratio(θ), 0.1)
    assert_allclose(sparse.participation_ratio(np.ones(7)), 1.0)
    with pytest.raises(ValueError, match="non-zero"):
        sparse.participation_ratio(np.zeros(5))


# ----------------------------------------------------------------- bounds
def test_bound_formulas():
    assert_allclose(sparse.theorem1_shape(10, 1000, 50, 2.0), 4 * 10 / (50 * np.log(60) ** 2))
    assert_allclose(sparse.theorem2_shape(10, 1000), 1 / np.log(300) ** 2)
    assert_allclose(sparse.ols_order(5, 100, 10_000, 1e-4), 0.05 + 0.01 + 0.01)
    assert_allclose(sparse.bp_order(10, 1000, 2.0), 4 / np.log(100))
    assert_allclose(sparse.isotropic_ols_variance(10, 100), 10 / 89)
    b = sparse.sparse_op_norm_bound(10, 1000, 20, 3.0)
    assert_allclose(b, np.sqrt(10) + np.sqrt(20) + np.sqrt(40 * np.log(np.e * 50)) + 3)
    assert_allclose(sparse.explicit_sparse_lower_bound(5.0, 10, 1000, 20, 3.0), 5 / b**2)
    assert_allclose(sparse.explicit_bp_curve(10, 1000, 1.0, 3.0),
                    10 / sparse.sparse_op_norm_bound(10, 1000, 10, 3.0) ** 2)
    with pytest.raises(ValueError, match="n <= s <= p"):
        sparse.theorem1_shape(10, 1000, 5)
    with pytest.raises(ValueError, match="p/n must be > 1"):
        sparse.bp_order(10, 10)
    with pytest.raises(ValueError, match="p > n"):
        sparse.isotropic_ols_variance(10, 11)
    with pytest.raises(ValueError, match="u must"):
        sparse.sparse_op_norm_bound(10, 100, 5, -1.0)


def test_isotropic_ols_variance_is_the_inverse_wishart_mean():
    rng = op.numpy_rng(10)
    n, p = 4, 12
    vals = [np.trace(np.linalg.inv(X @ X.T)) for X in rng.standard_normal((20_000, n, p))]
    se = np.std(vals) / np.sqrt(len(vals))
    assert abs(np.mean(vals) - sparse.isotropic_ols_variance(n, p)) < 4 * se


def test_sparse_op_norm_bound_dominates_the_largest_sparse_submatrix():
    rng = op.numpy_rng(11)
    n, p, s = 20, 400, 30
    Z = rng.standard_normal((n, p))
    # the s columns of largest norm and random supports: all below the u = 0 bound
    cands = [np.argsort(-np.linalg.norm(Z, axis=0))[:s]]
    cands += [rng.choice(p, s, replace=False) for _ in range(50)]
    top = max(np.linalg.norm(Z[:, S], 2) for S in cands)
    assert top <= sparse.sparse_op_norm_bound(n, p, s, 0.0)


def test_assumption_deviations_flag_what_fails():
    ok = sparse.assumption_deviations(100, 10_000, 5, 1.0, 1.0)
    assert not any("DEVIATION" in ln for ln in ok)
    bad = sparse.assumption_deviations(20, 22, 5, 0.5, 1.0)
    assert sum("DEVIATION" in ln for ln in bad) == 3


def test_assumption_table_rows_and_deviations():
    t = sparse.assumption_table(np.array([30, 140]), np.array([900, 19_600]), 5, 1.0, 1.0)
    lines = t.splitlines()
    assert len(lines) == 3 and max(len(ln) for ln in lines) <= 80
    assert "NO" not in t and lines[1].split()[-1] == "0.11"  # exp(−√(30 − 25)) = 0.107
    bad = sparse.assumption_table(20, 22, 5, 0.5, 1.0).splitlines()[1]
    assert bad.count("NO") == 3  # σ < c1‖θ*‖, p < n + k, n < k²
    with pytest.raises(ValueError, match="integers"):
        sparse.assumption_table(20.5, 40, 1, 1.0, 1.0)


def test_format_table():
    t = sparse.format_table({"n": np.array([5, 50]), "risk": [0.123456, 2.0]})
    assert t.splitlines() == [" n    risk", " 5  0.1235", "50       2"]
    assert sparse.format_table({"a": ["x", "yy"]}).splitlines() == [" a", " x", "yy"]
    with pytest.raises(ValueError, match="same length"):
        sparse.format_table({"a": [1, 2], "b": [1.0]})
    with pytest.raises(ValueError, match="at least one"):
        sparse.format_table({})


def test_loglog_slope():
    x = np.array([1.0, 10.0, 100.0])
    assert_allclose(sparse.loglog_slope(x, 3 * x**-1.5), -1.5)
    with pytest.raises(ValueError, match="positive"):
        sparse.loglog_slope(x, -x)


# ----------------------------------------------------------------- sparse interpolators
def test_support_interpolant_and_supports():
    d = sparse.draw_scenario(12, 10, 200, 3, 0.1, 1.0)
    rng = op.numpy_rng(0)
    S = sparse.random_support(rng, 200, 25, keep=np.arange(3))
    assert S.size == 25 and set(range(3)) <= set(S.tolist())
    θ = sparse.support_interpolant(d.X, d.y, S)
    assert_allclose(d.X @ θ, d.y, atol=1e-10)
    assert set(np.flatnonzero(θ).tolist()) <= set(S.tolist())
    with pytest.raises(ValueError, match="at least n"):
        sparse.support_interpolant(d.X, d.y, np.arange(5))
    with pytest.raises(ValueError, match="indices"):
        sparse.support_interpolant(d.X, d.y, np.arange(190, 210))
    with pytest.raises(ValueError, match="s must"):
        sparse.random_support(rng, 200, 2, keep=np.arange(3))
    X = d.X.copy()
    X[:, 50] = X[:, 51]  # two equal columns: X_S is rank-deficient on a support of size n
    with pytest.raises(ValueError, match="full row rank"):
        sparse.support_interpolant(X[:, 42:52], d.y, np.arange(10))


def test_support_interpolant_is_accurate_on_square_supports():
    # s = n: the unique interpolant on S, computed without squaring the condition number
    d = sparse.draw_scenario(15, 100, 10_000, 5, 1e-4, 1.0)
    S = sparse.random_support(op.numpy_rng(3), 10_000, 100, keep=np.arange(5))
    θ = sparse.support_interpolant(d.X, d.y, S)
    assert np.linalg.norm(d.X @ θ - d.y) <= 1e-9 * np.linalg.norm(d.y)


def test_screening_support_finds_a_planted_column():
    rng = op.numpy_rng(13)
    X = rng.standard_normal((50, 300))
    y = 5 * X[:, 42] + 0.1 * rng.standard_normal(50)
    assert 42 in sparse.screening_support(X, y, 1)


def test_sparse_family_respects_its_bounds():
    d = sparse.draw_scenario(14, 20, 400, 0, 1.0, 1.0, truth="zero")
    fam = sparse.sparse_family(d, [20, 40, 400], rng_seed=1)
    for rule in ("random", "screening"):
        assert np.all(fam[f"nnz_{rule}"] <= fam["s"])
        assert np.all(fam[f"cert_{rule}"] <= fam[f"risk_{rule}"])
        assert np.all(fam[f"relres_{rule}"] < 1e-10)
        assert np.all(fam[f"risk_{rule}"] >= fam["explicit"])
    d2 = sparse.draw_scenario(14, 20, 400, 2, 0.1, 1.0)
    assert "explicit" not in sparse.sparse_family(d2, [20], rng_seed=1)


def test_sweep_table_shapes_and_reproducibility():
    pts = [dict(n=10, p=p, k=2, ε=0.1, σ=1.0) for p in (60, 120)]
    a = sparse.sweep(pts, [0, 1, 2], keep=[(1, 2)])
    b = sparse.sweep(pts[1:], [2])
    assert a["risk_bp"].shape == (2, 3) and a["p"].tolist() == [60, 120]
    assert_allclose(a["risk_bp"][1, 2], b["risk_bp"][0, 0])
    assert isinstance(a["fits"][(1, 2)], sparse.Fit)
    with pytest.raises(ValueError, match="seeds"):
        sparse.sweep(pts, [])


# ----------------------------------------------------------------- figures
def test_plots_draw_with_labelled_axes():
    pts = [dict(n=n, p=n * n, k=2, ε=1 / n**2, σ=1.0) for n in (10, 14)]
    t1 = sparse.sweep(pts, [0, 1])
    iso = sparse.sweep([dict(n=10, p=p, k=0, ε=1.0, σ=1.0, truth="zero") for p in (40, 100)],
                       [0, 1], keep=[(1, 0)])
    d = sparse.draw_scenario(0, 10, 100, 0, 1.0, 1.0, truth="zero")
    fam = [sparse.sparse_family(d, [10, 20, 100], rng_seed=0)]
    figs = [
        sparse.plot_worked_example(t1),
        sparse.plot_isotropic(iso, iso),
        sparse.plot_separation(t1),
        sparse.plot_foolish_crowd(iso["fits"][(1, 0)], [("iso", iso)]),
        sparse.plot_sparse_family(fam, [0.5], 10, 100, 1.0, explicit=True),
        sparse.plot_explore(n=20, p=30, k=5, ε=0.1, σ=0.5, theta_norm=1.0, seed=0),
        sparse.plot_explore(n=20, p=22, k=5, ε=0.1, σ=0.0, theta_norm=1.0, seed=0),
        sparse.plot_explore(n=20, p=300, k=0, ε=1.0, σ=0.0, theta_norm=1.0, seed=0),
    ]
    for fig in figs:
        plotting.require_labels(fig)
        _no_raw_subscripts(fig)
        plt.close(fig)


def _no_raw_subscripts(fig):
    """Every underscore or caret in a figure's text sits inside $...$ (mathtext), so that no
    label shows a raw "R_BP" or "|θ̂_i|"."""
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    for ax in fig.axes:
        leg = ax.get_legend()
        texts += [t.get_text() for t in leg.get_texts()] if leg else []
    for text in texts:
        outside = "".join(text.split("$")[::2])  # the parts outside math
        assert "_" not in outside and "^" not in outside, text


def _worked_and_isotropic_tables():
    pts = [dict(n=n, p=n * n, k=2, ε=1 / n**2, σ=1.0) for n in (10, 14)]
    iso = [dict(n=10, p=p, k=0, ε=1.0, σ=1.0, truth="zero") for p in (40, 100)]
    return sparse.sweep(pts, [0, 1, 2]), sparse.sweep(iso, [0, 1, 2])


def test_worked_example_figure_separates_its_four_quantities():
    t1, _ = _worked_and_isotropic_tables()
    fig = sparse.plot_worked_example(t1)
    assert len(fig.axes) == 4  # risks; R_BP log²; R_OLS n; the ratio: one quantity per axes
    ratio = t1["risk_bp"].mean(axis=1) / t1["risk_ols"].mean(axis=1)
    (line,) = [ln for ln in fig.axes[3].get_lines() if ln.get_marker() == "D"]
    assert_allclose(line.get_ydata(), ratio)
    plt.close(fig)


def test_isotropic_figure_plots_the_checked_means():
    _, iso = _worked_and_isotropic_tables()
    fig = sparse.plot_isotropic(iso)
    r = iso["p"] / iso["n"]
    want = iso["risk_bp"].mean(axis=1) * np.log(r)
    assert not np.allclose(want, np.median(iso["risk_bp"], axis=1) * np.log(r))
    ys = [ln.get_ydata() for ln in fig.axes[1].get_lines()]
    assert any(np.allclose(y, want) for y in ys)
    plt.close(fig)
