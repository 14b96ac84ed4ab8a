"""Benchmark writing and reading the fake CEADs tables (.mat and .xlsx) at small and full size.

Usage::

    python benchmarks/ceads_fake.py --out benchmarks/results/ceads_fake.json \
        [--small 41] [--full 273] [--skip-full] [--xlsx-cities 41,82]

Each step runs in a child process so that its peak resident memory (``ru_maxrss``) is its own:

* ``build``: the synthetic world and one year's fake arrays (``FakeWorld.year``);
* ``mat``: write one year's ``.mat`` (scipy, uncompressed) and read it back (``ceads.read``) in a
  fresh process;
* ``xlsx``: write one year's ``.xlsx`` (openpyxl write-only) and read it back with calamine
  (the default) and, at the small size, with openpyxl (streaming).

From the ``.xlsx`` rates (cells per second) it extrapolates the time of a full-size sheet, 313
cities x 42 sectors = 13,146 rows x (3 + 13,146 + 1 + 313 x 5 + 2) columns. ``--full`` runs the
``.mat`` steps at that many cities (the synthetic world has at most 288).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

S = 42
K = 5


def _cells(n: int) -> int:
    N = n * S
    return (N + 8) * (3 + N + 1 + n * K + 2)


def step(name: str, n: int, folder: str) -> dict:
    """One measured step in this process; prints its JSON result."""
    import numpy as np

    from intercity.sources import ceads
    from intercity.sources.ceads import fake as ceads_fake

    out: dict = {"step": name, "cities": n, "rows": n * S}
    folder_p = Path(folder)
    if name == "mat_read":  # in a process of its own: its peak memory is the reader's
        t = time.perf_counter()
        tab = ceads.read(folder_p / "f.mat", folder_p / "city_list.csv", ceads_fake.layout())
        out["read_s"] = time.perf_counter() - t
        out["read_ok"] = bool(np.isfinite(tab.mrio.x).all())
        out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return out
    t = time.perf_counter()
    world = ceads_fake.build(n)
    fy = world.year(2012, keep_synthetic=False)
    out["build_s"] = time.perf_counter() - t
    names = list(world.cities["name_zh"])
    import pandas as pd

    pd.DataFrame({"城市": names}).to_csv(folder_p / "city_list.csv", index=False)
    lay = ceads_fake.layout()
    if name == "mat_write":
        p = folder_p / "f.mat"
        t = time.perf_counter()
        ceads_fake.write_mat(p, fy)
        out["write_s"] = time.perf_counter() - t
        out["file_mb"] = p.stat().st_size / 2**20
    elif name == "xlsx":
        p = folder_p / "f.xlsx"
        t = time.perf_counter()
        ceads_fake.write_xlsx(p, fy, names, 2012)
        out["write_s"] = time.perf_counter() - t
        out["file_mb"] = p.stat().st_size / 2**20
        out["cells"] = _cells(n)
        expected = fy.expected
        del fy
        for engine in ("calamine", "openpyxl") if n <= 41 else ("calamine",):
            t = time.perf_counter()
            tab = ceads.read(p, folder_p / "city_list.csv", ceads.Layout(**{**lay.to_dict(), "engine": engine}))
            out[f"read_{engine}_s"] = time.perf_counter() - t
            out[f"read_{engine}_max_rel_err"] = float(np.abs(tab.mrio.Z - expected.Z).max() / np.abs(expected.Z).max())
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def _child(name: str, n: int, folder: str) -> dict:
    r = subprocess.run([sys.executable, __file__, "--step", name, "--cities", str(n), "--folder", folder],
                       capture_output=True, text=True)
    if r.returncode:
        return {"step": name, "cities": n, "error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else str(r.returncode)}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(name: str, n: int) -> dict:
    """One step (``xlsx``) or two (``mat``: write, then read in a fresh process), in a temp folder."""
    with tempfile.TemporaryDirectory() as folder:
        if name != "mat":
            return _child(name, n, folder)
        w = _child("mat_write", n, folder)
        r = _child("mat_read", n, folder) if "error" not in w else {}
    return {"step": "mat", "cities": n, "rows": n * S, **{k: v for k, v in w.items() if k not in ("step", "peak_rss_mb")},
            "write_peak_rss_mb": w.get("peak_rss_mb"), "read_s": r.get("read_s"), "read_ok": r.get("read_ok"),
            "read_peak_rss_mb": r.get("peak_rss_mb"), **({"read_error": r["error"]} if "error" in r else {})}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/ceads_fake.json")
    ap.add_argument("--small", type=int, default=41)
    ap.add_argument("--full", type=int, default=273)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--xlsx-cities", default="41,82", help="city counts of the .xlsx steps")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--cities", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.step:
        print(json.dumps(step(a.step, a.cities, a.folder)))
        return 0
    results = [run("mat", a.small)]
    for n in (int(v) for v in a.xlsx_cities.split(",") if v):
        results.append(run("xlsx", n))
        print(json.dumps(results[-1]), file=sys.stderr)
    if not a.skip_full:
        results.append(run("mat", a.full))
        print(json.dumps(results[-1]), file=sys.stderr)
    xl = [r for r in results if r["step"] == "xlsx" and "error" not in r]
    full_cells = _cells(313)
    summary = {}
    if xl:
        big = max(xl, key=lambda r: r["cells"])
        w_rate = big["cells"] / big["write_s"]
        r_rate = big["cells"] / big["read_calamine_s"]
        summary = {
            "full_size_cells": full_cells,
            "xlsx_write_cells_per_s": w_rate,
            "xlsx_read_calamine_cells_per_s": r_rate,
            "full_size_xlsx_write_s_extrapolated": full_cells / w_rate,
            "full_size_xlsx_read_calamine_s_extrapolated": full_cells / r_rate,
            "full_size_xlsx_read_calamine_rss_mb_extrapolated": big["peak_rss_mb"] * full_cells / big["cells"],
        }
        small = [r for r in xl if "read_openpyxl_s" in r]
        if small:
            summary["full_size_xlsx_read_openpyxl_s_extrapolated"] = full_cells / (small[0]["cells"] / small[0]["read_openpyxl_s"])
    doc = {"machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(),
                       "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")},
           "results": results, "summary": summary}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(doc, indent=1))
    print(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
