"""Benchmark the CEADs path at full size: the dense solve of each year and the whole book build.

Usage::

    python benchmarks/ceads.py --out benchmarks/results/ceads.json [--cities 313] [--fake DIR] [--keep]
        [--no-double] [--no-book]

1. Writes the full-size fake CEADs tables (``python -m intercity data fake-ceads --cities 313
   --all-prefectures --formats mat``: 313 prefecture-level units x NBS's 42 sectors = 13,146 rows a
   year, .mat) into ``--fake`` (default: a temporary folder), unless it already holds them.
2. Per year, in a child process of its own (so that its peak resident memory is its own):
   ``read``: the .mat read by the declared layout and mapped to the book's 41 sectors
   (12,833 rows), written to the table cache; then ``solve``: the table opened (memory-mapped),
   ``intercity.mrio.validate`` and ``intercity.mrio.solve_dense`` (one LU of ``I - A`` for every
   demanding city; single precision refined to double). Wall and CPU seconds, peak RSS, the
   solver's precision, refinement steps and residual; ``seconds`` and ``cpu_s`` count
   ``validate`` and ``solve_dense`` together (``validate_*`` and ``solve_*`` apart). With ``--no-double`` unset, the first year
   is also solved in double precision (the float64 LU path) for comparison.
3. The whole book on it (``python -m intercity build`` with ``data_source: ceads``, scale 1: every
   public city the MRIO has), in a child process: wall seconds, CPU seconds and peak RSS of the
   build and its notebook kernels (``RUSAGE_CHILDREN``), and the build's own stage timings. The
   tables are in the table cache by then (step 2), so the book's bundle stage opens them
   memory-mapped instead of reading the .mat files again (step 2 gives the read times).

Everything is written under a temporary cache (``INTERCITY_CACHE``) and output folder, removed
at the end (the fake too, unless ``--fake`` or ``--keep``). The machine is shared: the load
average before and after is recorded beside the numbers, and CPU seconds are given with wall
seconds. Targets: a year's dense solve under 20 s and 4 GB. About 12 GB of disk while it runs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import write  # noqa: E402

YEARS = (2012, 2015, 2017)


def _params(fake: Path, name: str) -> str:
    files = "\n".join(f"    {y}: {fake / f'city_mrio_{y}.mat'}" for y in YEARS)
    return (f"data_source: ceads\nscale: 1.0\nseed: 20121517\nname: {name}\n"
            f"ceads:\n  mrio:\n{files}\n  layout: {fake / 'layout.json'}\n  cities: {fake / 'city_list.csv'}\n"
            f"  unit: 10k yuan\n")


def book(pfile: str, out: str) -> dict:
    """The whole book build (``python -m intercity build``) as this process's only child: wall and
    CPU seconds and the peak RSS of the build and its notebook kernels (``RUSAGE_CHILDREN``: the
    largest of them), and the build's own stage timings."""
    t = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "intercity", "build", "--params", pfile, "--out", out],
                       capture_output=True, text=True)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = {"step": "book", "seconds": round(time.perf_counter() - t, 1), "cpu_s": round(ru.ru_utime + ru.ru_stime, 1),
           "peak_rss_mib": round(ru.ru_maxrss / 1024, 1), "returncode": r.returncode}
    if r.returncode:
        res["error"] = (r.stderr.strip().splitlines() or [""])[-1]
    timings = Path(__file__).resolve().parents[1] / "results" / "ceads-benchmark" / "timings.json"
    if timings.is_file():
        res["stages"] = json.loads(timings.read_text())
    return res


def step(kind: str, pfile: str, year: int, precision: str) -> dict:
    """One measured step in this process (``read`` or ``solve``); returns its numbers."""
    from intercity import mrio, params
    from intercity.sources import ceads

    p = params.load(pfile)
    out: dict = {"step": kind, "year": year}
    t, c = time.perf_counter(), time.process_time()
    tables, info = ceads.read_mrio(p.ceads, [year])
    m = tables[year]
    if kind == "read":
        out.update(read_s=time.perf_counter() - t, read_cpu_s=time.process_time() - c,
                   file_rows=len(info[year]["file_sectors"]) * len(m.cities), rows=int(m.x.shape[0]),
                   cities=len(m.cities), file_mib=Path(info[year]["file"]).stat().st_size / 2 ** 20)
    else:
        open_s = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        mrio.validate(m, year)
        val_s, val_c = time.perf_counter() - t, time.process_time() - c
        X, sinfo = mrio.solve_dense(m, label=year, precision=precision)
        out.update(open_and_validate_s=open_s, validate_s=val_s, validate_cpu_s=val_c,
                   solve_s=time.perf_counter() - t - val_s, solve_cpu_s=time.process_time() - c - val_c,
                   seconds=time.perf_counter() - t, cpu_s=time.process_time() - c, rows=int(m.x.shape[0]),
                   demand_cities=int(X.shape[1]), **sinfo)
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _child(args: list[str], env: dict) -> dict:
    r = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if r.returncode:
        return {"error": (r.stderr.strip().splitlines() or [str(r.returncode)])[-1]}
    return json.loads(r.stdout.strip().splitlines()[-1])


def _load() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/ceads.json")
    ap.add_argument("--cities", type=int, default=313)
    ap.add_argument("--fake", help="folder holding (or to hold) the full-size fake; kept")
    ap.add_argument("--keep", action="store_true", help="keep the temporary fake folder")
    ap.add_argument("--no-double", action="store_true", help="skip the double-precision comparison solve")
    ap.add_argument("--no-book", action="store_true", help="skip the whole book build")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--pfile", help=argparse.SUPPRESS)
    ap.add_argument("--year", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--precision", default="auto", help=argparse.SUPPRESS)
    ap.add_argument("--outdir", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.step == "book":
        print(json.dumps(book(a.pfile, a.outdir)))
        return 0
    if a.step:
        print(json.dumps(step(a.step, a.pfile, a.year, a.precision)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="intercity-ceads-bench-"))
    fake = Path(a.fake) if a.fake else work / "fake"
    env = {**os.environ, "INTERCITY_CACHE": str(work / "cache"), "OPENBLAS_NUM_THREADS": os.environ["OPENBLAS_NUM_THREADS"]}
    result: dict = {"cities": a.cities, "years": list(YEARS), "load_before": _load(), "work": str(work)}
    try:
        if not all((fake / f"city_mrio_{y}.mat").is_file() for y in YEARS):
            t = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "intercity", "data", "fake-ceads", "--out", str(fake), "--cities",
                                str(a.cities), "--all-prefectures", "--formats", "mat"], capture_output=True, text=True,
                               env=env)
            if r.returncode:
                raise SystemExit(f"fake-ceads failed: {r.stderr.strip()}")
            result["fake_write_s"] = round(time.perf_counter() - t, 1)
        result["fake"] = json.loads((fake / "fake.json").read_text())
        pfile = work / "ceads-benchmark.yaml"
        pfile.write_text(_params(fake, "ceads-benchmark"))
        years = []
        for y in YEARS:
            rd = _child(["--step", "read", "--pfile", str(pfile), "--year", str(y)], env)
            sv = _child(["--step", "solve", "--pfile", str(pfile), "--year", str(y)], env)
            years.append({"year": y, "read": rd, "solve": sv})
            print(json.dumps(years[-1]), file=sys.stderr)
        result["per_year"] = years
        ok = [r["solve"] for r in years if "error" not in r["solve"]]
        if ok:
            result["solve_max_s"] = round(max(r["seconds"] for r in ok), 2)
            result["solve_max_cpu_s"] = round(max(r["cpu_s"] for r in ok), 2)
            result["solve_only_max_cpu_s"] = round(max(r["solve_cpu_s"] for r in ok), 2)
            result["solve_max_peak_rss_mib"] = round(max(r["peak_rss_mib"] for r in ok), 1)
            result["targets"] = {"seconds_per_year": 20, "gib_per_year": 4,
                                 "seconds_met": result["solve_max_s"] < 20, "cpu_seconds_met": result["solve_max_cpu_s"] < 20,
                                 "memory_met": result["solve_max_peak_rss_mib"] < 4 * 1024}
        if not a.no_double:
            result["double_first_year"] = _child(["--step", "solve", "--pfile", str(pfile), "--year", str(YEARS[0]),
                                                  "--precision", "double"], env)
            print(json.dumps(result["double_first_year"]), file=sys.stderr)
        if not a.no_book:  # the tables are in the cache by now: the bundle reads them memory-mapped
            result["book"] = _child(["--step", "book", "--pfile", str(pfile), "--outdir", str(work / "book")], env)
    finally:
        result["load_after"] = _load()
        if a.keep and not a.fake:  # keep the temporary fake only
            for p in work.iterdir():
                if p != fake:
                    shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink()
            result["kept_fake"] = str(fake)
        else:
            shutil.rmtree(work, ignore_errors=True)
    write(result, a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
