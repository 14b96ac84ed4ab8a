"""Time the design lab (intercity.lab); write JSON.

    python benchmarks/lab.py --params params/default.yaml --out benchmarks/results/lab.json

Measures, each from an empty cache (a temporary folder):

* seconds per draw (a world built, its MRIO solved, two counterfactual re-solves, every model and
  inference method), in this process, at the parameter set's lab scale and at full scale (273
  cities), with the seconds of each step (world, counterfactual, estimate, resampling); the first
  draw of each scale is timed apart (imports, first calls);
* the speed-up of a LocalCluster of 2 single-threaded workers over 1 worker on the same sweep
  (``--speedup-draws`` draws at lab scale; cluster start-up included, as a build pays it);
* unless ``--no-sweep``: the wall seconds of the parameter set's whole lab from an empty cache,
  as a cold ``make book`` runs it (its workers, draws and settings), and again from the warm cache.

This machine has 2 vCPUs that deliver about one core, shared with other work: wall seconds vary by
+-20% or more, and process parallelism gains little. Reported as measured.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _report  # noqa: E402  (benchmarks/_report.py)
from intercity import lab, labdraw, params  # noqa: E402


def _draw_seconds(p: params.Params, n: int) -> dict:
    specs = [s for s in lab.draw_specs(p) if s.setting == list(p.lab.settings)[min(1, len(p.lab.settings) - 1)]][:n]
    rows = []
    for s in specs:
        t0 = time.perf_counter()
        out = labdraw.run_draw(s)
        rows.append({"seconds": time.perf_counter() - t0,
                     **{r.step: r.seconds for r in out["timing"].itertuples()}})
    first, rest = rows[0], rows[1:] or rows[:1]
    mean = {k: round(sum(r[k] for r in rest) / len(rest), 3) for k in rest[0]}
    return {"cities": p.lab.n_cities, "draws_timed": len(rows), "first_draw_seconds": round(first["seconds"], 2),
            "seconds_per_draw": mean["seconds"], "steps_seconds": {k: v for k, v in mean.items() if k != "seconds"}}


def _sweep_seconds(p: params.Params, cache: Path) -> float:
    t0 = time.perf_counter()
    lab.run(p, cache=cache)
    return round(time.perf_counter() - t0, 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--out", default="benchmarks/results/lab.json")
    ap.add_argument("--draws", type=int, default=4, help="draws timed per scale")
    ap.add_argument("--full-draws", type=int, default=2, help="draws timed at full scale")
    ap.add_argument("--speedup-draws", type=int, default=12)
    ap.add_argument("--no-sweep", action="store_true", help="skip the parameter set's whole lab")
    args = ap.parse_args()
    p = params.load(args.params)
    result: dict = {"params": args.params, "lab": p.lab.model_dump(mode="json")}
    result["lab_scale"] = _draw_seconds(p, args.draws)
    full = params.from_mapping({**p.to_dict(), "lab": {**p.lab.model_dump(mode="json"), "scale": 1.0}})
    result["full_scale"] = _draw_seconds(full, args.full_draws)
    small = {**p.lab.model_dump(mode="json"), "draws": max(2, args.speedup_draws // len(p.lab.settings))}
    seconds = {}
    for workers in (1, 2):
        q = params.from_mapping({**p.to_dict(), "scheduler": None, "lab": {**small, "workers": workers}})
        with tempfile.TemporaryDirectory() as tmp:
            seconds[workers] = _sweep_seconds(q, Path(tmp))
    result["localcluster"] = {"draws": small["draws"] * len(p.lab.settings), "seconds_1_worker": seconds[1],
                              "seconds_2_workers": seconds[2], "speedup_2_over_1": round(seconds[1] / seconds[2], 2)}
    if not args.no_sweep:
        with tempfile.TemporaryDirectory() as tmp:
            cold = _sweep_seconds(p, Path(tmp))
            warm = _sweep_seconds(p, Path(tmp))
        result["whole_lab"] = {"draws": p.lab.draws * len(p.lab.settings), "workers": p.lab.workers,
                               "cold_seconds": cold, "warm_seconds": warm, "target_cold_seconds": 300}
    _report.write(result, args.out)


if __name__ == "__main__":
    main()
