"""Benchmark cases, one per process (so that each peak-memory figure is its own).

Run as ``python bench/cases.py CASE [options]``; prints one JSON object. ``bench/run_all.py``
calls every case and prints the table.

Workload (issue #3, "the benign-overfitting workload"): n = 50 points, width m = 64, 16 seeds,
2 000 full-batch GD steps on the logistic loss with the smoothed leaky ReLU (γ = 0.5, H = 1),
noisy Gaussian clusters with ‖μ‖ = 4, step α = 5/p, init scale ω = 0.1α/√(mp).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch

import overparam as op

N, M, SEEDS, STEPS, GAMMA, H, MU_NORM, ETA = 50, 64, 16, 2000, 0.5, 1.0, 4.0, 0.1


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def workload(p: int, seeds: int, dtype=np.float32):
    """Explicit data in R^p for ``seeds`` seeds: X (B, n, p), y (B, n), W0 (B, m, p), a (B, m)."""
    α = 5.0 / p
    ω = 0.1 * α / np.sqrt(M * p)
    X = np.empty((seeds, N, p), dtype=dtype)
    W0 = np.empty((seeds, M, p), dtype=dtype)
    y = np.empty((seeds, N))
    a = np.empty((seeds, M))
    for s in range(seeds):
        rng = op.numpy_rng(1000 + s)
        yc = rng.choice([-1.0, 1.0], N)
        X[s] = rng.standard_normal((N, p), dtype=dtype)
        X[s, :, 0] += MU_NORM * yc  # μ = ‖μ‖ e_1
        flips = rng.choice(N, int(ETA * N), replace=False)
        y[s] = yc
        y[s, flips] *= -1
        W0[s] = ω * rng.standard_normal((M, p), dtype=dtype)
        a[s] = rng.choice([-1.0, 1.0], M) / np.sqrt(M)
    return X, y, W0, a, α


def case_engine(p: int, device: str, dtype: str) -> dict:
    dev = op.resolve_device(device)
    X, y, W0, a, α = workload(p, SEEDS)
    act = op.SmoothedLeakyReLU(GAMMA, H)
    sync(dev)
    t0 = time.perf_counter()
    run = op.train_two_layer(X, y, W0, a, activation=act, step=α, max_steps=STEPS,
                             dtype=dtype, device=dev)
    sync(dev)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "seconds_per_seed_step": secs / (SEEDS * STEPS),
            "final_loss": float(run.history["loss"][-1].mean()), "peak_rss_mib": peak_rss_mib(),
            "device": str(dev), "dtype": dtype}


def case_baseline(p: int, device: str, steps: int, seeds: int) -> dict:
    """What a researcher would write: per seed an nn.Module, autograd and torch.optim.SGD."""
    dev = op.resolve_device(device)
    X, y, W0, a, α = workload(p, seeds)
    act = op.SmoothedLeakyReLU(GAMMA, H)

    class TwoLayer(torch.nn.Module):
        def __init__(self, W0, a):
            super().__init__()
            self.W = torch.nn.Parameter(torch.as_tensor(W0).clone())
            self.register_buffer("a", torch.as_tensor(a, dtype=torch.float32))

        def forward(self, X):
            return act.value(X @ self.W.T) @ self.a

    total = 0.0
    for s in range(seeds):
        Xs = torch.as_tensor(X[s], device=dev)
        ys = torch.as_tensor(y[s], dtype=torch.float32, device=dev)
        model = TwoLayer(W0[s], a[s]).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=α)
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(steps):
            opt.zero_grad()
            loss = torch.nn.functional.softplus(-ys * model(Xs)).mean()
            loss.backward()
            opt.step()
        sync(dev)
        total += time.perf_counter() - t0
    per = total / (seeds * steps)
    return {"seconds_measured": total, "steps_run": steps, "seeds_run": seeds,
            "seconds_per_seed_step": per, "seconds_scaled_to_workload": per * SEEDS * STEPS,
            "peak_rss_mib": peak_rss_mib(), "device": str(dev)}


def case_direct(p: int, device: str, steps: int) -> dict:
    """The engine's direct (explicit W) batched path: achieved GFLOP/s of its two bmm's a step."""
    dev = op.resolve_device(device)
    X, y, W0, a, α = workload(p, SEEDS)
    act = op.SmoothedLeakyReLU(GAMMA, H)
    kw = dict(activation=act, step=α, dtype="float32", device=dev, parametrization="direct")
    op.train_two_layer(X, y, W0, a, max_steps=2, **kw)  # warm-up
    sync(dev)
    t0 = time.perf_counter()
    op.train_two_layer(X, y, W0, a, max_steps=steps, **kw)
    sync(dev)
    secs = time.perf_counter() - t0
    flops = steps * 4.0 * SEEDS * M * N * p  # Z = W Xᵀ and W += D X: 2mnp each, per seed
    return {"seconds": secs, "steps": steps, "gflops": flops / secs / 1e9,
            "peak_rss_mib": peak_rss_mib(), "device": str(dev)}


def case_peak(device: str, size: int) -> dict:
    """float32 matmul peak: the best of a few size x size products."""
    dev = op.resolve_device(device)
    A = torch.randn(size, size, device=dev)
    B = torch.randn(size, size, device=dev)
    for _ in range(2):
        A @ B
    best = float("inf")
    reps = 5 if dev.type == "cpu" else 50
    for _ in range(3):
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(reps):
            A @ B
        sync(dev)
        best = min(best, (time.perf_counter() - t0) / reps)
    return {"gflops": 2.0 * size ** 3 / best / 1e9, "size": size, "device": str(dev)}


def _grid_inputs(p: int, mode: str):
    """The calibrated grid of the Chapter 1 spec: ‖μ‖ ∈ {2, 2.5, 3, 3.5, 4, 5, 6} × 3 seeds."""
    mus = [2, 2.5, 3, 3.5, 4, 5, 6]
    α = 5.0 / p
    ω = 0.1 * α / np.sqrt(M * p)
    Xs, ys, Ws, As = [], [], [], []
    for i, mu in enumerate(mus):
        for s in range(3):
            rng = op.numpy_rng(10_000 + 10 * i + s)
            yc = rng.choice([-1.0, 1.0], N)
            y = yc.copy()
            y[rng.choice(N, int(ETA * N), replace=False)] *= -1
            a = rng.choice([-1.0, 1.0], M) / np.sqrt(M)
            if mode == "frame":
                fr = op.gaussian_frame(rng, p, np.r_[np.full(M, ω), np.ones(N)], k=1)
                W0c, Zc = fr.coords[:M], fr.coords[M:].copy()
                Zc[:, 0] += mu * yc
                Xc = Zc
            else:  # explicit data in R^p, reduced exactly to its span by a QR factorization
                Z = rng.standard_normal((N, p))
                Z[:, 0] += mu * yc
                W0 = ω * rng.standard_normal((M, p))
                (W0c, Xc), _ = op.span_coordinates(W0, Z)
            Xs.append(Xc)
            ys.append(y)
            Ws.append(W0c)
            As.append(a)
    return np.stack(Xs), np.stack(ys), np.stack(Ws), np.stack(As), α


def case_grid(p: int, device: str, mode: str) -> dict:
    dev = op.resolve_device(device)
    t0 = time.perf_counter()
    X, y, W0, a, α = _grid_inputs(p, mode)
    t_data = time.perf_counter() - t0
    run = op.train_two_layer(X, y, W0, a, activation=op.SmoothedLeakyReLU(GAMMA, H), step=α,
                             max_steps=20_000, tol=1 / (4 * N), device=dev)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "seconds_data": t_data, "max_stop_step": int(run.stop_step.max()),
            "all_interpolate": bool((run.history["train_error"][-1] == 0).all()),
            "peak_rss_mib": peak_rss_mib(), "device": str(dev), "mode": mode}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["engine", "baseline", "direct", "peak", "grid"])
    ap.add_argument("--p", type=int, default=20_000)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--size", type=int, default=2048)
    ap.add_argument("--mode", default="explicit", choices=["explicit", "frame"])
    args = ap.parse_args(argv)
    if args.case == "engine":
        out = case_engine(args.p, args.device, args.dtype)
    elif args.case == "baseline":
        out = case_baseline(args.p, args.device, args.steps, args.seeds)
    elif args.case == "direct":
        out = case_direct(args.p, args.device, args.steps)
    elif args.case == "peak":
        out = case_peak(args.device, args.size)
    else:
        out = case_grid(args.p, args.device, args.mode)
    out["threads"] = torch.get_num_threads()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
