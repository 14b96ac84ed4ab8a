"""Benchmark the Leontief measurement step at full scale: structured vs dense.

Usage::

    python benchmarks/measurement.py --cities 273 --sectors 42 --years 3 \
        --out benchmarks/results/measurement.json [--skip-dense] [--dense-years K]

Builds a random but realistic Chenery-Moses system (seeded): national
coefficients with column sums in [0.55, 0.70], trade shares from a gravity form
``size_i * spec_(i,s) * exp(-d_ij / 500 km)`` over random city coordinates
(own-city weight times ``--home-bias``: about 40% of use is then local),
lognormal final demand; each further "year" perturbs coefficients, shares and
demand. For every year it times

* the structured solve (``validate`` + matrix-free Neumann iteration):
  seconds, iterations, tracemalloc peak;
* the dense path (``to_dense`` + ``I - A`` + ``lu_factor`` + ``lu_solve``):
  seconds per step, tracemalloc peak, LU rate ``(2/3) N^3 / t_lu``,

against this machine's float64 matmul rate (``2 N^3 / t`` at N = 2000) and
LAPACK LU rate (random N = 4000), and reports the largest difference between
the dense and structured induced outputs. ``OPENBLAS_NUM_THREADS`` defaults to
1 (set it before running to override). Targets: structured, all years < 30 s;
dense LU rate within 2x of the reference LU rate.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
from scipy.linalg import lapack  # noqa: E402

try:
    import intercity  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from intercity.mrio import (  # noqa: E402
    StructuredMRIO,
    leontief_matrix,
    solve_structured,
    to_dense,
    validate,
)
from intercity.sectors import SECTOR_CODES  # noqa: E402

GIB = 2.0**30


# ---------------------------------------------------------------------------
# synthetic systems


def _coefficients(rng: np.random.Generator, S: int) -> np.ndarray:
    """a_nat with a strong diagonal, sparse-ish off-diagonal, column sums in [0.55, 0.70]."""
    a = rng.lognormal(0.0, 1.5, (S, S)) * (rng.random((S, S)) < 0.6)
    a[np.diag_indices(S)] += rng.lognormal(1.0, 0.5, S)
    return a * (rng.uniform(0.55, 0.70, S) / a.sum(axis=0))


def base_system(n: int, S: int, seed: int, home_bias: float = 30.0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0.0, [4000.0, 3000.0], (n, 2))  # km
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    size = rng.lognormal(0.0, 1.0, n)
    spec = rng.lognormal(0.0, 0.7, (n, S))
    sector_weight = rng.dirichlet(np.ones(S))
    f = 1e7 * size[:, None] * sector_weight[None, :] * S * rng.lognormal(0.0, 0.3, (n, S))  # 10k yuan
    return {
        "a_nat": _coefficients(rng, S),
        "gravity": np.exp(-d / 500.0) * (1.0 + (home_bias - 1.0) * np.eye(n)),  # (n, n), home bias
        "supply": (size[:, None] * spec).T.copy(),  # (S, n): supplier capacity
        "final_demand": f,
    }


def year_system(base: dict[str, np.ndarray], year: int, seed: int) -> StructuredMRIO:
    """Year 0 is the base system; later years perturb coefficients, shares and demand."""
    rng = np.random.default_rng([seed, year])
    S, n = base["supply"].shape
    a = base["a_nat"] * (rng.lognormal(0.0, 0.05, (S, S)) if year else 1.0)
    a *= np.clip(a.sum(axis=0), 0.55, 0.70) / a.sum(axis=0)
    supply = base["supply"] * (rng.lognormal(0.0, 0.10, (S, n)) if year else 1.0)
    w = supply[:, :, None] * base["gravity"][None, :, :]  # w[s, i, j]
    shares = w / w.sum(axis=1, keepdims=True)
    f = base["final_demand"] * 1.08 ** (3 * year) * (rng.lognormal(0.0, 0.05, (n, S)) if year else 1.0)
    cities = tuple(f"{110000 + 100 * k:06d}" for k in range(n))
    sectors = SECTOR_CODES[:S] if S <= len(SECTOR_CODES) else tuple(f"{k + 1:02d}" for k in range(S))
    return StructuredMRIO(cities, sectors, a, shares, f)


# ---------------------------------------------------------------------------
# measurement helpers


class Peak:
    """tracemalloc peak (bytes) over a block; numpy reports its buffers to tracemalloc."""

    def __enter__(self) -> Peak:
        tracemalloc.reset_peak()
        self.start = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc) -> None:
        self.peak = tracemalloc.get_traced_memory()[1] - self.start


def machine_rates(n_mm: int = 2000, n_lu: int = 4000, repeats: int = 2) -> dict[str, float]:
    rng = np.random.default_rng(0)
    a, b = rng.random((n_mm, n_mm)), rng.random((n_mm, n_mm))
    a @ b  # warm-up
    t_mm = min(_timed(lambda: a @ b)[1] for _ in range(repeats + 1))
    m = rng.random((n_lu, n_lu))
    t_lu = min(_timed(lambda: scipy.linalg.lu_factor(m.copy(), overwrite_a=True, check_finite=False))[1] for _ in range(repeats))
    return {
        "matmul_n": n_mm,
        "matmul_seconds": t_mm,
        "matmul_gflops": 2 * n_mm**3 / t_mm / 1e9,
        "lu_n": n_lu,
        "lu_seconds": t_lu,
        "lu_gflops": (2 / 3) * n_lu**3 / t_lu / 1e9,
    }


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def run_structured(m: StructuredMRIO, tol: float, max_iter: int, label: int) -> tuple[np.ndarray, dict]:
    with Peak() as p:
        _, t_val = _timed(lambda: validate(m, label))
        (X, iters), t_solve = _timed(lambda: solve_structured(m, tol=tol, max_iter=max_iter, label=label))
    return X, {
        "seconds": t_val + t_solve,
        "validate_seconds": t_val,
        "solve_seconds": t_solve,
        "iterations": iters,
        "seconds_per_iteration": t_solve / max(iters, 1),
        "peak_bytes": p.peak,
    }


def run_dense(m: StructuredMRIO, X_struct: np.ndarray, label: int) -> dict:
    n, S = m.n_cities, m.n_sectors
    N = n * S
    with Peak() as p:
        d, t_dense = _timed(lambda: to_dense(m, label=label))
        M, t_build = _timed(lambda: leontief_matrix(d))
        anorm = _norm1_blocked(M)
        (lu, piv), t_lu = _timed(lambda: scipy.linalg.lu_factor(M, overwrite_a=True, check_finite=False))
        rcond, _ = lapack.dgecon(lu, anorm, norm="1")
        Xd, t_solve = _timed(lambda: scipy.linalg.lu_solve((lu, piv), d.F, check_finite=False))
        del M, lu, d
    Xd = Xd.reshape(n, S, n)
    scale = float(np.abs(X_struct).max())
    big = np.abs(X_struct) > 1e-6 * scale
    return {
        "N": N,
        "to_dense_seconds": t_dense,
        "build_I_minus_A_seconds": t_build,
        "lu_seconds": t_lu,
        "lu_solve_seconds": t_solve,
        "seconds": t_dense + t_build + t_lu + t_solve,
        "lu_gflops": (2 / 3) * N**3 / t_lu / 1e9,
        "rcond_1norm": float(rcond),
        "peak_bytes": p.peak,
        "max_abs_diff_over_max": float(np.abs(Xd - X_struct).max() / scale),
        "max_rel_diff_entries_above_1e-6_max": float((np.abs(Xd - X_struct)[big] / np.abs(X_struct)[big]).max()),
    }


def _norm1_blocked(M: np.ndarray, block: int = 1024) -> float:
    """Max absolute column sum over column blocks (M is Fortran-ordered)."""
    acc = np.empty(M.shape[1])
    for s in range(0, M.shape[1], block):
        acc[s : s + block] = np.abs(M[:, s : s + block]).sum(axis=0)
    return float(acc.max())


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cities", type=int, default=273)
    ap.add_argument("--sectors", type=int, default=42)
    ap.add_argument("--years", type=int, default=3)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--home-bias", type=float, default=30.0, help="multiplier of the own-city gravity weight")
    ap.add_argument("--tol", type=float, default=1e-12)
    ap.add_argument("--max-iter", type=int, default=1000)
    ap.add_argument("--skip-dense", action="store_true", help="time only the structured solve")
    ap.add_argument("--dense-years", type=int, default=None, help="run the dense path for the first K years (default all)")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/measurement.json"))
    args = ap.parse_args(argv)

    n, S = args.cities, args.sectors
    tracemalloc.start()
    rates = machine_rates()
    base = base_system(n, S, args.seed, args.home_bias)
    years = []
    dense_years = 0 if args.skip_dense else (args.years if args.dense_years is None else min(args.dense_years, args.years))
    for y in range(args.years):
        m = year_system(base, y, args.seed)
        X, st = run_structured(m, args.tol, args.max_iter, label=y)
        row = {"year": y, "a_nat_max_colsum": float(m.a_nat.sum(axis=0).max()),
               "rho_a_nat": float(np.abs(np.linalg.eigvals(m.a_nat)).max()),
               "own_share_mean": float(np.einsum("sii->", m.shares) / (S * n)),
               "structured": st}  # fmt: skip
        if y < dense_years:
            row["dense"] = run_dense(m, X, label=y)
        years.append(row)
        del X
    tracemalloc.stop()

    structured_total = sum(r["structured"]["seconds"] for r in years)
    dense_rows = [r["dense"] for r in years if "dense" in r]
    summary = {
        "structured_total_seconds": structured_total,
        "structured_target_seconds": 30.0,
        "structured_meets_target": structured_total < 30.0,
    }
    if dense_rows:
        best = max(r["lu_gflops"] for r in dense_rows)
        summary |= {
            "dense_total_seconds": sum(r["seconds"] for r in dense_rows),
            "dense_lu_gflops_best": best,
            "dense_lu_over_reference_lu": best / rates["lu_gflops"],
            "dense_meets_target": best >= 0.5 * rates["lu_gflops"],
            "max_abs_diff_over_max": max(r["max_abs_diff_over_max"] for r in dense_rows),
        }
    result = {
        "config": {"cities": n, "sectors": S, "years": args.years, "seed": args.seed, "tol": args.tol,
                   "home_bias": args.home_bias, "dense_years": dense_years},  # fmt: skip
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
            "cpu_count": os.cpu_count(),
            "cpu": _cpu_model(),
            **rates,
        },
        "years": years,
        "summary": summary,
        "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    _print_summary(result)
    return result


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _print_summary(r: dict) -> None:
    c, mch, s = r["config"], r["machine"], r["summary"]
    print(f"measurement benchmark: {c['cities']} cities x {c['sectors']} sectors, {c['years']} years"
          f" (N = {c['cities'] * c['sectors']}), OPENBLAS_NUM_THREADS={mch['OPENBLAS_NUM_THREADS']}")  # fmt: skip
    print(f"machine: matmul {mch['matmul_gflops']:.1f} GFLOP/s (N={mch['matmul_n']}),"
          f" LAPACK LU {mch['lu_gflops']:.1f} GFLOP/s (N={mch['lu_n']})")  # fmt: skip
    for y in r["years"]:
        st = y["structured"]
        line = (f"  year {y['year']}: structured {st['seconds']:.2f} s, {st['iterations']} iterations,"
                f" peak {st['peak_bytes'] / 2**20:.0f} MiB")  # fmt: skip
        if "dense" in y:
            d = y["dense"]
            line += (f" | dense {d['seconds']:.1f} s (LU {d['lu_seconds']:.1f} s, {d['lu_gflops']:.1f} GFLOP/s),"
                     f" peak {d['peak_bytes'] / GIB:.2f} GiB, max |diff|/max {d['max_abs_diff_over_max']:.1e}")  # fmt: skip
        print(line)
    print(f"structured total {s['structured_total_seconds']:.2f} s (target < 30 s):"
          f" {'OK' if s['structured_meets_target'] else 'MISSED'}")  # fmt: skip
    if "dense_lu_gflops_best" in s:
        print(f"dense LU {s['dense_lu_gflops_best']:.1f} GFLOP/s = {s['dense_lu_over_reference_lu']:.2f} x reference LU"
              f" (target >= 0.5): {'OK' if s['dense_meets_target'] else 'MISSED'}")  # fmt: skip
    print(f"max RSS {r['max_rss_bytes'] / GIB:.2f} GiB")


if __name__ == "__main__":
    main()
