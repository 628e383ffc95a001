"""``make bench``: the engine against the obvious baseline, the direct path against the machine's
matmul peak, and the largest p for the Chapter 1 calibrated grid within 60 s.

Prints a table and writes the same figures to ``_build/bench/results.json``. Each case runs in its
own process (bench/cases.py) so that its peak memory is its own. Pass ``--device cuda`` to run on
a GPU (the CPU figures are then not rerun).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench" / "results.json"

# The baseline is slow at large p: it runs fewer steps and seeds there, and its time is scaled
# linearly to the full workload (16 seeds x 2 000 steps); the per-step cost of a fixed-size
# autograd step does not change along a run.
BASELINE_STEPS = {2_000: (200, 2), 20_000: (50, 2), 200_000: (10, 1)}
GRID_P_EXPLICIT = [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000]
GRID_P_FRAME = [100_000, 10**7, 10**9]
BUDGET_S = 60.0


def case(*args: str) -> dict:
    env = dict(os.environ, OVERPARAM_QUIET="1")
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "cases.py"), *args],
                         capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"bench case {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--quick", action="store_true", help="only p = 2 000 and a small grid")
    args = ap.parse_args()
    dev = args.device
    res: dict = {"device": dev}
    rows = []

    peak = case("peak", "--device", dev, "--size", "2048" if dev == "cpu" else "8192")
    res[f"matmul_peak_gflops_float32_{dev}"] = peak["gflops"]
    rows.append(("float32 matmul peak", f"{peak['gflops']:.0f} GFLOP/s", f"{peak['size']}² GEMM"))

    ps = [2_000] if args.quick else [2_000, 20_000, 200_000]
    for p in ps:
        eng = case("engine", "--p", str(p), "--device", dev, "--dtype", "float32")
        steps, seeds = BASELINE_STEPS[p]
        base = case("baseline", "--p", str(p), "--device", dev, "--steps", str(steps),
                    "--seeds", str(seeds))
        speed = base["seconds_scaled_to_workload"] / eng["seconds"]
        res[f"engine_seconds_p{p}"] = eng["seconds"]
        res[f"engine_peak_rss_mib_p{p}"] = eng["peak_rss_mib"]
        res[f"naive_seconds_scaled_p{p}"] = base["seconds_scaled_to_workload"]
        res[f"naive_steps_seeds_run_p{p}"] = [steps, seeds]
        res[f"naive_peak_rss_mib_p{p}"] = base["peak_rss_mib"]
        res[f"engine_speedup_vs_naive_p{p}"] = speed
        rows.append((f"workload p={p:,}: engine (row-span, batched)",
                     f"{eng['seconds']:.2f} s", f"peak RSS {eng['peak_rss_mib']:.0f} MiB"))
        rows.append((f"workload p={p:,}: naive nn.Module + autograd + SGD",
                     f"{base['seconds_scaled_to_workload']:.1f} s",
                     f"ran {steps} steps x {seeds} seed(s), scaled; "
                     f"peak RSS {base['peak_rss_mib']:.0f} MiB"))
        rows.append((f"workload p={p:,}: speed-up", f"{speed:.0f}x", "target >= 100x at p=20,000"))

    p_direct = 2_000 if args.quick else 20_000
    direct = case("direct", "--p", str(p_direct), "--device", dev, "--steps", "30")
    frac = direct["gflops"] / peak["gflops"]
    res[f"direct_path_gflops_p{p_direct}"] = direct["gflops"]
    res[f"direct_path_fraction_of_peak_p{p_direct}"] = frac
    res[f"direct_path_peak_rss_mib_p{p_direct}"] = direct["peak_rss_mib"]
    rows.append((f"direct batched path p={p_direct:,}", f"{direct['gflops']:.0f} GFLOP/s",
                 f"{100 * frac:.0f}% of peak (target >= 50%); peak RSS "
                 f"{direct['peak_rss_mib']:.0f} MiB"))

    for mode, grid in (("explicit", GRID_P_EXPLICIT), ("frame", GRID_P_FRAME)):
        largest = None
        for p in grid[:2] if args.quick else grid:
            g = case("grid", "--p", str(p), "--device", dev, "--mode", mode)
            res[f"grid_{mode}_seconds_p{p}"] = g["seconds"]
            res[f"grid_{mode}_peak_rss_mib_p{p}"] = g["peak_rss_mib"]
            ok = g["seconds"] <= BUDGET_S and g["all_interpolate"]
            rows.append((f"calibrated grid ({mode} data) p={p:,}", f"{g['seconds']:.1f} s",
                         f"data {g['seconds_data']:.1f} s; max steps {g['max_stop_step']}; "
                         f"peak RSS {g['peak_rss_mib']:.0f} MiB"))
            if not ok:
                break
            largest = p
        res[f"grid_largest_p_within_60s_{mode}"] = largest
        rows.append((f"largest p, grid within 60 s ({mode})", f"{largest:,}" if largest else "-",
                     "target >= 100,000"))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(res, indent=1))
    w = max(len(r[0]) for r in rows)
    print(f"\nBenchmarks on {dev} ({os.cpu_count()} CPUs visible)\n")
    for name, val, note in rows:
        print(f"{name:<{w}}  {val:>14}  {note}")
    print(f"\nwritten to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
