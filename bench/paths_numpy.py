#!/usr/bin/python3
"""NumPy peer of bench_paths: the same GBM paths, written the way a quant would.

Market: the one bench_paths.c builds (n assets, vols 0.5..1.2, one-factor correlation
rho_ij = b_i b_j with b in 0.95..0.6), tau = one minute in years, 1,440 steps, running min
of every price consumed. Generator: np.random.Generator(np.random.PCG64(seed)); correlation:
eps = z @ L.T with L = np.linalg.cholesky(C).

Forms (the fastest is reported as the peer):
  step          per step: z = rng.standard_normal((P, n)); eps = z @ L.T;
                logS += drift + vol * eps; S = np.exp(logS); minS = np.minimum(minS, S)
  step-inplace  the same loop with preallocated arrays and out= everywhere
  cumsum        whole paths at once, in chunks of --chunk paths:
                z = rng.standard_normal((c, steps, n)); logS = logS0 + cumsum(drift + vol * z @ L.T)
                S = exp(logS); minS = S.min(axis=1)

Figures: ns per asset-step = median wall time / (P * steps * n), after one warm-up.
BLAS/OpenMP threads are pinned to 1 (OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS,
set before numpy is imported unless already set), so the figure is per core.
"""
import argparse
import os
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402  (after the thread pinning)


def market(n):
    f = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    prices = np.array([65000.0, 3400.0, 150.0, 580.0, 0.52, 0.15, 0.45, 35.0, 15.0, 7.0])
    s0 = np.concatenate([prices, 10.0 + np.arange(10, max(n, 10))])[:n]
    vol = 0.5 + 0.7 * f
    b = 0.95 - 0.35 * f
    corr = np.outer(b, b)
    np.fill_diagonal(corr, 1.0)
    return s0, vol, corr


def form_step(rng, P, steps, s0, drift, vol, L):
    logS = np.tile(np.log(s0), (P, 1))
    minS = np.tile(s0, (P, 1))
    for _ in range(steps):
        z = rng.standard_normal((P, len(s0)))
        eps = z @ L.T
        logS += drift + vol * eps
        S = np.exp(logS)
        minS = np.minimum(minS, S)
    return float((minS / s0).sum())


def form_step_inplace(rng, P, steps, s0, drift, vol, L):
    n = len(s0)
    LT = np.ascontiguousarray(L.T)
    logS = np.tile(np.log(s0), (P, 1))
    minS = np.tile(s0, (P, 1))
    z = np.empty((P, n))
    eps = np.empty((P, n))
    S = np.empty((P, n))
    for _ in range(steps):
        rng.standard_normal(out=z)
        np.matmul(z, LT, out=eps)
        eps *= vol
        eps += drift
        logS += eps
        np.exp(logS, out=S)
        np.minimum(minS, S, out=minS)
    return float((minS / s0).sum())


def form_cumsum(rng, P, steps, s0, drift, vol, L, chunk):
    total = 0.0
    for start in range(0, P, chunk):
        c = min(chunk, P - start)
        z = rng.standard_normal((c, steps, len(s0)))
        incr = drift + vol * (z @ L.T)
        logS = np.log(s0) + np.cumsum(incr, axis=1)
        S = np.exp(logS)
        minS = np.minimum(S.min(axis=1), s0)
        total += float((minS / s0).sum())
    return total


def blas_info():
    """The BLAS shared object numpy loaded, and the process's thread count after a matmul."""
    a = np.ones((512, 512))
    a @ a
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1]
                base = os.path.basename(path)
                if ".so" in base and any(k in base for k in ("blas", "mkl", "blis", "lapack")):
                    libs.add(os.path.realpath(path))
    except OSError:
        pass
    threads = "?"
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    threads = line.split()[1]
    except OSError:
        pass
    return sorted(libs), threads


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=int, default=0,
                    help="paths per timed repetition; 0 = calibrate to --seconds (default)")
    ap.add_argument("--steps", type=int, default=1440)
    ap.add_argument("--assets", type=int, default=10)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--chunk", type=int, default=64, help="paths per chunk of the cumsum form")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--forms", default="step,step-inplace,cumsum")
    ap.add_argument("--csv", help="also write one machine-readable line per form to this file")
    a = ap.parse_args()

    n, steps = a.assets, a.steps
    s0, vol_annual, corr = market(n)
    tau = (1.0 / 1440.0) / 365.0
    L = np.linalg.cholesky(corr)
    drift = -0.5 * vol_annual ** 2 * tau
    vol = vol_annual * np.sqrt(tau)
    rng = np.random.Generator(np.random.PCG64(a.seed))

    forms = {
        "step": lambda P: form_step(rng, P, steps, s0, drift, vol, L),
        "step-inplace": lambda P: form_step_inplace(rng, P, steps, s0, drift, vol, L),
        "cumsum": lambda P: form_cumsum(rng, P, steps, s0, drift, vol, L, a.chunk),
    }
    libs, threads = blas_info()
    print(f"NumPy {np.__version__} peer: n = {n} assets, {steps} steps, median of {a.reps} "
          f"reps after a warm-up; np.random.Generator(PCG64), eps = z @ L.T")
    print(f"BLAS: {', '.join(libs) or 'none found in /proc/self/maps'}; "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')} "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
          f"process threads after a 512x512 matmul: {threads}")
    print(f"{'form':<13} {'threads':>7} {'paths':>9} {'ns/asset-step':>13} {'(best)':>13} "
          f"{'paths/s':>12}  checksum")
    csv = open(a.csv, "w") if a.csv else None
    for name in a.forms.split(","):
        run = forms[name]
        P = a.paths
        if P == 0:  # calibrate (also the warm-up)
            P = 64
            while True:
                t0 = time.perf_counter()
                run(P)
                dt = time.perf_counter() - t0
                if dt >= 0.1:
                    break
                P *= 4
            P = max(64, int(a.seconds / dt * P) // 64 * 64)
        run(P)  # warm-up at the measured size
        times = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            cs = run(P)
            times.append(time.perf_counter() - t0)
        units = P * steps * n
        ns = 1e9 * float(np.median(times)) / units
        best = 1e9 * min(times) / units
        print(f"{name:<13} {1:>7} {P:>9} {ns:>13.2f} {best:>13.2f} "
              f"{P / float(np.median(times)):>12.0f}  {cs:.6g}", flush=True)
        if csv:
            csv.write(f"{name},1,{P},{ns:.4f},{best:.4f},{ns:.4f}\n")
    if csv:
        csv.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
