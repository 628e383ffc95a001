"""The shared core: checks, seeds and devices, widgets, plotting, the Gaussian frame sampler and
the linear estimators."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose
from scipy import stats

import overparam as op
from overparam import plotting, verify, widgets


# ----------------------------------------------------------------- verify
def test_check_status_is_computed_not_given():
    checks = op.Checks("00_test")
    ok = checks.add("a", claim="x ≤ 1", source="Thm 1", measured=0.5, op="<=", bound=1,
                    kind="letter")
    bad = checks.add("b", claim="x ≥ 1", source="Thm 1", measured=0.5, op=">=", bound=1,
                     kind="shape")
    ctl = checks.add("c", claim="control", source="Lemma 2", measured=2.0, op="<=", bound=1,
                     kind="lemma-C1", expect="fail")
    ctl_bad = checks.add("d", claim="control that passes", source="Lemma 2", measured=0.0,
                         op="<=", bound=1, kind="lemma-C1", expect="fail")
    rep = checks.add("e", claim="reported", source="Thm 7", measured=3.0, op="in",
                     bound=(0, 1), kind="letter", expect="report")
    assert (ok.ok, bad.ok, ctl.ok, ctl_bad.ok, rep.ok) == (True, False, True, False, True)
    assert bad.status == "FAIL" and "DID NOT FAIL" in ctl_bad.status
    assert [c.name for c in checks.failures] == ["b", "d"]
    with pytest.raises(op.ChecksFailed, match="2 check"):
        checks.report(display=False)


def test_array_measurements_must_hold_everywhere_and_show_the_worst():
    checks = op.Checks("00_test")
    c = checks.add("all", claim="every draw", source="Lemma 4", measured=[0.1, 0.9, 0.3],
                   op="<=", bound=1.0, kind="letter")
    assert c.ok and c.measured == 0.9 and c.n_values == 3
    c2 = checks.add("one bad", claim="every draw", source="Lemma 4", measured=[0.1, 1.2],
                    op="<=", bound=1.0, kind="letter")
    assert not c2.ok and c2.measured == 1.2
    c3 = checks.add("range", claim="in range", source="Thm 2", measured=np.array([0.7, 1.9]),
                    op="in", bound=(0.6, 1.8), kind="shape")
    assert not c3.ok and c3.measured == 1.9


def test_nan_never_passes():
    checks = op.Checks("00_test")
    c = checks.add("nan", claim="x", source="s", measured=float("nan"), op="<=", bound=1,
                   kind="letter")
    assert not c.ok and "not finite" in c.status
    c2 = checks.add("nan control", claim="x", source="s", measured=[1.0, np.nan], op="<=",
                    bound=1, kind="letter", expect="fail")
    assert not c2.ok


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(op="<<"), "op"),
        (dict(kind="vibes"), "kind"),
        (dict(expect="maybe"), "expect"),
        (dict(op="in", bound=1.0), "bound"),
        (dict(op="in", bound=(2, 1)), "bound"),
        (dict(source=""), "source"),
        (dict(measured=[]), "measured"),
    ],
)
def test_check_validation(kwargs, match):
    base = dict(claim="c", source="s", measured=1.0, op="<=", bound=2.0, kind="letter")
    base.update(kwargs)
    with pytest.raises(ValueError, match=match):
        op.Checks("00").add("x", **base)


def test_duplicate_names_and_empty_tables_are_errors():
    checks = op.Checks("00")
    checks.add("x", claim="c", source="s", measured=1, op="<=", bound=2, kind="letter")
    with pytest.raises(ValueError, match="already recorded"):
        checks.add("x", claim="c", source="s", measured=1, op="<=", bound=2, kind="letter")
    with pytest.raises(op.ChecksFailed, match="no checks"):
        op.Checks("00").report(display=False)


def test_report_writes_the_record(tmp_path, monkeypatch):
    monkeypatch.setenv(verify.CHECKS_DIR_ENV, str(tmp_path))
    checks = op.Checks("07_demo", title="Demo")
    checks.add("x", claim="c <b>", source="s", measured=1, op="<=", bound=2, kind="letter")
    checks.report(display=False)
    rec = json.loads((tmp_path / "07_demo.json").read_text())
    assert rec["title"] == "Demo" and rec["checks"][0]["status"] == "pass"
    html = checks.to_html()
    assert "c &lt;b&gt;" in html and "to the letter" in html


# ----------------------------------------------------------------- rng and devices
def test_seeds_and_devices():
    a = op.numpy_rng(3).standard_normal(4)
    assert np.array_equal(a, op.numpy_rng(3).standard_normal(4))
    assert op.as_seeds(5) == [5] and op.as_seeds(range(3)) == [0, 1, 2]
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError, match="seed"):
            op.numpy_rng(bad)
    with pytest.raises(ValueError, match="seeds"):
        op.as_seeds([])
    assert op.resolve_device("cpu").type == "cpu"
    assert op.resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(ValueError, match="device"):
        op.resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA"):
            op.resolve_device("cuda")
    assert op.resolve_dtype("float32") is torch.float32
    with pytest.raises(ValueError, match="dtype"):
        op.resolve_dtype(torch.int64)


# ----------------------------------------------------------------- widgets and plotting
def _plot(a=1.0, b=2):
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, a * b])
    plotting.label(ax, "x", "y")
    return fig


def test_static_build_makes_no_widgets(monkeypatch):
    monkeypatch.setenv(widgets.STATIC_ENV, "1")
    ctl = {"a": widgets.float_slider(1.0, 0, 2, 0.1, "a"), "b": widgets.int_slider(2, 1, 5, 1, "b")}
    assert all(isinstance(c, widgets.StaticControl) for c in ctl.values())
    assert widgets.explore(_plot, ctl) is None  # displayed, not returned (no second rendering)


def test_live_build_makes_widgets(monkeypatch):
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    import ipywidgets

    ctl = {"a": widgets.log_slider(1.0, -1, 1, 0.1, "a"), "b": widgets.choice(2, [1, 2], "b")}
    assert isinstance(ctl["a"], ipywidgets.FloatLogSlider)
    from unittest import mock

    with mock.patch("IPython.display.display") as shown:
        assert widgets.explore(_plot, ctl) is None
    assert isinstance(shown.call_args_list[-1].args[0], ipywidgets.VBox)
    assert widgets.defaults(ctl) == {"a": 1.0, "b": 2}
    assert widgets.time_update(_plot, {"a": 1.0, "b": 2}, repeats=1) > 0
    with pytest.raises(ValueError, match="controls"):
        widgets.explore(_plot, {})


def test_figures_must_be_labelled():
    fig, ax = plotting.figure()
    ax.plot([0, 1], [0, 1])
    with pytest.raises(ValueError, match="axis label"):
        plotting.require_labels(fig)
    plotting.label(ax, "step t", "loss (log scale)", yscale="log")
    plotting.require_labels(fig)
    with pytest.raises(ValueError, match="labels must be non-empty"):
        plotting.label(ax, "", "y")


def test_progress_is_quiet_in_ci(monkeypatch):
    from overparam import progressbar as pg

    monkeypatch.setenv("CI", "1")
    assert pg.quiet()
    assert pg.progress(range(3)).disable
    monkeypatch.delenv("CI")
    monkeypatch.delenv("OVERPARAM_QUIET", raising=False)
    monkeypatch.delenv(widgets.STATIC_ENV, raising=False)
    assert not pg.quiet()


# ----------------------------------------------------------------- Gaussian frame
def test_gaussian_frame_is_exact_in_law():
    """Gram entries of the reduced coordinates have the laws of the vectors in R^p."""
    p, k, reps = 5000, 1, 4000
    scales = np.array([1.0, 1.0, 1.0, 0.5])
    norms_last, cross, along = [], [], []
    rng = op.numpy_rng(0)
    for _ in range(reps):
        fr = op.gaussian_frame(rng, p, scales, k=k)
        V = fr.coords
        assert fr.reduced and fr.dim == k + len(scales)
        norms_last.append(V[2] @ V[2])
        cross.append(V[0] @ V[1])
        along.append(V[1, 0])
    # ‖g‖² ~ χ²_p for every row (Bartlett: the last rows mix chi and normal parts)
    assert stats.kstest(norms_last, stats.chi2(p).cdf).pvalue > 1e-3
    # ⟨g1, g2⟩ has mean 0 and variance p
    assert abs(np.mean(cross)) < 4 * np.sqrt(p / reps)
    assert abs(np.var(cross) / p - 1) < 0.1
    # components along the fixed direction are N(0, 1)
    assert stats.kstest(along, "norm").pvalue > 1e-3


def test_gaussian_frame_direct_when_no_room_and_errors():
    rng = op.numpy_rng(1)
    fr = op.gaussian_frame(rng, 10, np.ones(12), k=2)
    assert not fr.reduced and fr.coords.shape == (12, 10)
    assert fr.fresh(rng, 3).shape == (3, 10)
    assert fr.fixed_direction(1)[1] == 1
    with pytest.raises(ValueError, match="scales"):
        op.gaussian_frame(rng, 10, [1.0, -1.0])
    with pytest.raises(ValueError, match="k must"):
        op.gaussian_frame(rng, 10, [1.0], k=10)
    with pytest.raises(ValueError, match="i must"):
        fr.fixed_direction(2)


# ----------------------------------------------------------------- linear estimators
def test_min_norm_and_exact_risks():
    rng = op.numpy_rng(2)
    n, d = 20, 60
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    th = op.min_norm_interpolant(X, y)
    assert_allclose(X @ th, y, atol=1e-10)
    assert_allclose(th, np.linalg.pinv(X) @ y, atol=1e-10)
    lam = rng.uniform(0.1, 2, d)
    ts = rng.standard_normal(d)
    assert_allclose(op.excess_risk(th, ts, lam), (th - ts) @ np.diag(lam) @ (th - ts))
    assert_allclose(op.excess_risk(th, ts, np.diag(lam)), op.excess_risk(th, ts, lam))
    # bias/variance: E over noise of the risk = bias + variance (Monte Carlo, fixed X)
    sigma2 = 0.3
    bias, var = op.min_norm_bias_variance(X, lam, ts, sigma2)
    A = op.min_norm_operator(X)
    risks = [op.excess_risk(A @ (X @ ts + np.sqrt(sigma2) * rng.standard_normal(n)), ts, lam)
             for _ in range(4000)]
    assert abs(np.mean(risks) - (bias + var)) < 4 * np.std(risks) / np.sqrt(4000)
    # isotropic: E tr((XXᵀ)⁻¹) = n/(d − n − 1) (inverse-Wishart mean)
    vals = [op.estimator_variance(op.min_norm_operator(rng.standard_normal((n, d))),
                                  np.ones(d), 1.0) for _ in range(300)]
    assert abs(np.mean(vals) / (n / (d - n - 1)) - 1) < 0.05


def test_linear_errors():
    rng = op.numpy_rng(3)
    with pytest.raises(ValueError, match="columns"):
        op.min_norm_operator(rng.standard_normal((5, 3)))
    with pytest.raises(ValueError, match="full row rank"):
        op.min_norm_operator(np.ones((3, 6)))
    with pytest.raises(ValueError, match="y must have"):
        op.min_norm_interpolant(rng.standard_normal((3, 6)), np.ones(4))
    with pytest.raises(ValueError, match="Sigma"):
        op.excess_risk(np.ones(3), np.zeros(3), np.ones(4))
    with pytest.raises(ValueError, match="k must"):
        op.effective_ranks([1.0, 0.5], 2)
    r, R = op.effective_ranks([1, 1, 0.1, 0.1, 0.1], 2)
    assert_allclose((r, R), (3.0, 3.0))


def test_basis_pursuit_small():
    rng = op.numpy_rng(4)
    n, d = 15, 60
    X = rng.standard_normal((n, d))
    truth = np.zeros(d)
    truth[:2] = [1.0, -2.0]
    res = op.basis_pursuit(X, X @ truth)  # noiseless, very sparse: exact recovery
    assert res.status == 0 and res.residual < 1e-8
    assert_allclose(res.theta, truth, atol=1e-7)
    y = rng.standard_normal(n)
    res = op.basis_pursuit(X, y)
    assert len(res.support()) <= n
    assert np.abs(res.theta).sum() <= np.abs(op.min_norm_interpolant(X, y)).sum() + 1e-9


# ----------------------------------------------------------------- exact span reduction
def test_span_coordinates_preserve_training_exactly():
    rng = op.numpy_rng(5)
    B, n, m, p = 2, 10, 6, 400
    X = rng.standard_normal((B, n, p))
    W0 = 0.05 * rng.standard_normal((B, m, p))
    y = rng.choice([-1.0, 1.0], (B, n))
    a = rng.choice([-1.0, 1.0], (B, m)) / np.sqrt(m)
    Xt = rng.standard_normal((7, p))
    kw = dict(activation=op.SmoothedLeakyReLU(0.5, 1.0), step=0.01, max_steps=300)
    full = op.train_two_layer(X, y, W0, a, **kw)
    Wc, Xc, Tc = [], [], []
    for b in range(B):
        (w, x), Q = op.span_coordinates(W0[b], X[b])
        Wc.append(w)
        Xc.append(x)
        Tc.append(Xt @ Q)
    red = op.train_two_layer(np.stack(Xc), y, np.stack(Wc), a, **kw)
    assert_allclose(red.history["loss"], full.history["loss"], rtol=1e-10)
    assert_allclose(red.outputs(np.stack(Tc)).numpy(), full.outputs(Xt).numpy(), rtol=1e-9,
                    atol=1e-12)
    assert_allclose(red.frobenius_norm().numpy(), full.frobenius_norm().numpy(), rtol=1e-10)
    with pytest.raises(ValueError, match="blocks"):
        op.span_coordinates(np.ones((2, 3)), np.ones((2, 4)))
