"""Time the data stages (bundle build, MRIO measurement, panel) from a cold cache; write JSON.

    python benchmarks/pipeline.py --params params/default.yaml --out benchmarks/results/pipeline.json

Uses a temporary cache folder, so every stage is computed, then times a second, cached call.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _report  # noqa: E402  (benchmarks/_report.py)
from intercity import params, pipeline  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--params", default="params/default.yaml")
    ap.add_argument("--out", default="benchmarks/results/pipeline.json")
    args = ap.parse_args()
    p = params.load(args.params)
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        cold = pipeline.study(p, cache_dir=Path(cache))
        cold_total = time.perf_counter() - t0
        t0 = time.perf_counter()
        pipeline.estimates(cold)
        models_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = pipeline.study(p, cache_dir=Path(cache))
        pipeline.estimates(warm)
        warm_total = time.perf_counter() - t0
    result = {
        "params": args.params, "cities": p.n_cities, "panel_rows": len(cold.panel),
        "cold_stages_s": {k: round(v, 3) for k, v in cold.timings.items()},
        "cold_total_s": round(cold_total, 3), "models_cold_s": round(models_cold, 3),
        "warm_total_s": round(warm_total, 3),
        "dense_check_s": round(float(cold.checks["dense_seconds"].max()), 3),
    }
    _report.write(result, args.out)


if __name__ == "__main__":
    main()
