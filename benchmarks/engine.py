"""Time the exact FE engine against pyfixest on the book's models, and its throughput; write JSON.

    python benchmarks/engine.py --out benchmarks/results/engine.json            # full scale
    python benchmarks/engine.py --params params/ci.yaml --n-specs 500 --out /tmp/engine-ci.json

Without ``--params`` it runs the full-scale synthetic study: ``params/default.yaml`` with
``data_source: synthetic``, written to a temporary file (first build about a minute, then cached).

Measured, in this order:
1. ``engine.fit`` over the book's models (published rows + distance tiers + synergy) under pair
   and two-way clustering (best of ``--repeat``, wall and CPU seconds); also pair only, and pair +
   two-way + dyadic.
2. Throughput: ``--n-specs`` specifications (default 10,000) sharing five samples (all, the two GDP
   gradient halves, the two population gradient halves): 5 outcomes x 4 regressor sets x random
   (seeded) subsets of the 12 controls, under pair and two-way clustering; specifications per
   second, seconds, and the peak RSS (``resource.getrusage``) of a child process that reads only
   the panel (a temporary parquet) and runs them: the parent's peak is that of building the study
   when it is not cached (about 2.6 GB at full scale) and of pyfixest (about 3.6 GB), not the engine's.
3. pyfixest as the package fitted the book before the engine (benchmarks/_pyfixest_book.py: one
   ``feols`` per shared formula, pyfixest's default demeaner) under pair and two-way clustering;
   the largest relative difference engine vs that, and engine vs pyfixest
   with its demeaner converged (``fixef_tol=1e-12``) on every book model under pair clustering
   (``--no-converged`` skips the latter, the slowest part).
Wall-clock seconds vary by +-20% on a shared 2-vCPU machine; CPU seconds less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

import _report  # noqa: E402  (benchmarks/_report.py)

_t0 = time.perf_counter()
from intercity import engine  # noqa: E402

ENGINE_IMPORT_S = time.perf_counter() - _t0

TARGET_BOOK_S = 3.0          # issue 13: all book models through the engine
TARGET_SPECS_S = 120.0       # issue 13: 10,000 specifications
TARGET_RSS_MIB = 3 * 1024
OUTCOMES = ("IT", "IT_direction", "IT_labor", "IT_capital", "IT_tech")
REGRESSOR_SETS = (("connectivity_HSR",), ("connectivity_I",), ("connectivity_double",),
                  ("connectivity_double", "connectivity_HSR", "connectivity_I"))
SAMPLES = ("all", "down_gradient", "up_gradient", "down_gradient_pop", "up_gradient_pop")


def _peak_mib() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _timed(fn, *args, **kw):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn(*args, **kw)
    return time.perf_counter() - w0, time.process_time() - c0, out


def _full_scale_params() -> Path:
    spec = yaml.safe_load(Path("params/default.yaml").read_text())
    spec["data_source"] = "synthetic"
    out = Path(tempfile.gettempdir()) / "intercity-engine-bench-default-synthetic.yaml"
    out.write_text(yaml.safe_dump(spec, sort_keys=False))
    return out


def throughput_specs(n: int, controls: tuple[str, ...], seed: int = 20121517) -> list[engine.Model]:
    """``n`` distinct specifications over :data:`SAMPLES`: outcomes x regressor sets x seeded
    random subsets of the controls (the empty and the full set first)."""
    per_subset = len(SAMPLES) * len(OUTCOMES) * len(REGRESSOR_SETS)
    n_subsets = -(-n // per_subset)
    rng = np.random.default_rng(seed)
    subsets, seen = [(), tuple(controls)], {(), tuple(controls)}
    while len(subsets) < n_subsets:
        pick = tuple(c for c in controls if rng.random() < 0.5)
        if pick not in seen:
            seen.add(pick)
            subsets.append(pick)
    specs = []
    for si, sub in enumerate(subsets):
        for sample in SAMPLES:
            for y in OUTCOMES:
                for ri, regs in enumerate(REGRESSOR_SETS):
                    specs.append(engine.Model(f"{sample}:{y}:{ri}:{si}", y, regs, sub, sample=sample))
    return specs[:n]


def _max_rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    if not ok.any():
        return float("nan")
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--params", default=None, help="parameter file (default: full-scale synthetic)")
    ap.add_argument("--out", default="benchmarks/results/engine.json")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--n-specs", type=int, default=10_000)
    ap.add_argument("--no-converged", action="store_true", help="skip the converged-pyfixest comparison")
    ap.add_argument("--throughput-panel", default=None, help=argparse.SUPPRESS)  # the child's input
    args = ap.parse_args()

    import pandas as pd

    from intercity import models

    if args.throughput_panel:  # the child: panel only, then the throughput specifications
        w0 = time.perf_counter()
        panel = pd.read_parquet(args.throughput_panel)
        load_s, rss_panel = time.perf_counter() - w0, _peak_mib()
        many = throughput_specs(args.n_specs, models.CONTROL_COLUMNS)
        tp_s, tp_cpu, tp = _timed(engine.fit, panel, many, ("pair", "twoway"), samples=models.SAMPLES)
        print(json.dumps({"throughput_specs": len(many), "throughput_identified": int((tp["note"] == "").sum()),
                          "throughput_s": tp_s, "throughput_cpu_s": tp_cpu, "child_panel_load_s": load_s,
                          "child_peak_rss_after_panel_mib": rss_panel, "child_peak_rss_mib": _peak_mib()}))
        return

    from intercity import params, pipeline

    pfile = Path(args.params) if args.params else _full_scale_params()
    p = params.load(pfile)
    study_s, _, s = _timed(pipeline.study, p)
    panel = s.panel
    rss_study = _peak_mib()
    specs = models.published_specs() + models.tier_specs(pipeline.tiers_present(panel, p))

    # 1. the book's models through the engine
    runs = [_timed(engine.fit, panel, specs, ("pair", "twoway"), samples=models.SAMPLES)
            for _ in range(max(1, args.repeat))]
    book = runs[0][2]
    pair_s, _, _ = _timed(engine.fit, panel, specs, ("pair",), samples=models.SAMPLES)
    dyadic_s, _, _ = _timed(engine.fit, panel, specs, ("pair", "twoway", "dyadic"), samples=models.SAMPLES)
    rss_book = _peak_mib()

    # 2. throughput, in a child process that holds only the panel (its own peak RSS)
    with tempfile.TemporaryDirectory() as tmp:
        panel_file = Path(tmp) / "panel.parquet"
        panel.to_parquet(panel_file)
        child = subprocess.run([sys.executable, __file__, "--n-specs", str(args.n_specs),
                                "--throughput-panel", str(panel_file)], capture_output=True, text=True, check=True)
    tp = json.loads(child.stdout.strip().splitlines()[-1])

    # 3. pyfixest
    import _pyfixest_book

    pf_pair_s, pf_pair_cpu, pf_pair = _timed(_pyfixest_book.fit_book, panel, specs, ("pair",))
    pf_twoway_s, pf_twoway_cpu, pf_twoway = _timed(_pyfixest_book.fit_book, panel, specs, ("twoway",))
    eng = book.set_index("key")
    a_pair, a_two = pf_pair.set_index("key").loc[eng.index], pf_twoway.set_index("key").loc[eng.index]
    dof = (eng["df_resid"] > 0).to_numpy()  # saturated fits: both SEs are rounding noise around 0
    result = {
        "params": str(pfile), "data_source": s.source, "cities": len(s.data.cities), "panel_rows": len(panel),
        "study_s": round(study_s, 3), "engine_import_s": round(ENGINE_IMPORT_S, 3),
        "book_models": len(specs),
        "engine_book_pair_twoway_s": round(min(r[0] for r in runs), 3),
        "engine_book_pair_twoway_runs_s": [round(r[0], 3) for r in runs],
        "engine_book_pair_twoway_cpu_s": round(min(r[1] for r in runs), 3),
        "engine_book_pair_only_s": round(pair_s, 3),
        "engine_book_pair_twoway_dyadic_s": round(dyadic_s, 3),
        "pyfixest_book_pair_s": round(pf_pair_s, 3), "pyfixest_book_pair_cpu_s": round(pf_pair_cpu, 3),
        "pyfixest_book_twoway_s": round(pf_twoway_s, 3), "pyfixest_book_twoway_cpu_s": round(pf_twoway_cpu, 3),
        "pyfixest_book_pair_plus_twoway_s": round(pf_pair_s + pf_twoway_s, 3),
        "speedup_book_pair_twoway": round((pf_pair_s + pf_twoway_s) / min(r[0] for r in runs), 1),
        "speedup_book_pair_twoway_cpu": round((pf_pair_cpu + pf_twoway_cpu) / min(r[1] for r in runs), 1),
        "vs_pyfixest_default_max_rel_coef": _max_rel(eng["coef"], a_pair["coef"]),
        "vs_pyfixest_default_max_rel_se_pair": _max_rel(eng["se_pair"][dof], a_pair["se_pair"][dof]),
        "vs_pyfixest_default_max_rel_se_twoway": _max_rel(eng["se_twoway"][dof], a_two["se_twoway"][dof]),
        "book_models_saturated": int((~dof).sum()),
        "vs_pyfixest_default_nobs_equal": bool((eng["nobs"] == a_pair["nobs"]).all()),
        "throughput_specs": tp["throughput_specs"], "throughput_identified": tp["throughput_identified"],
        "throughput_samples": len(SAMPLES), "throughput_clusterings": ["pair", "twoway"],
        "throughput_s": round(tp["throughput_s"], 3), "throughput_cpu_s": round(tp["throughput_cpu_s"], 3),
        "specs_per_s": round(tp["throughput_specs"] / tp["throughput_s"], 1),
        "throughput_child_panel_load_s": round(tp["child_panel_load_s"], 3),
        "throughput_child_peak_rss_after_panel_mib": tp["child_peak_rss_after_panel_mib"],
        "throughput_child_peak_rss_mib": tp["child_peak_rss_mib"],
        "peak_rss_after_study_mib": rss_study, "peak_rss_after_engine_book_mib": rss_book,
        "target_book_s": TARGET_BOOK_S, "target_specs_s": TARGET_SPECS_S, "target_rss_mib": TARGET_RSS_MIB,
        "meets_book_target": bool(min(r[0] for r in runs) < TARGET_BOOK_S),
        "meets_throughput_target": bool(tp["throughput_specs"] >= 10_000 and tp["throughput_s"] < TARGET_SPECS_S
                                        and tp["child_peak_rss_mib"] < TARGET_RSS_MIB),
    }
    if not args.no_converged:
        import pyfixest as pf
        from pyfixest.demeaners import MapDemeaner

        tight = MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000)
        rel_c, rel_se, saturated = [], [], 0
        w0 = time.perf_counter()
        for spec in specs:
            row = eng.loc[spec.key]
            data = models.sample_rows(panel, spec.sample, spec.tier)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = pf.feols(f"{spec.dependent_column} ~ {spec.rhs()} | pair_id + period", data,
                               vcov=_pyfixest_book.VCOV["pair"], ssc=engine.SSC, fixef_rm="none", demeaner=tight)
                reg = spec.regressors[0]
                if reg not in fit.coef().index:
                    continue
                rel_c.append(abs(row["coef"] - fit.coef()[reg]) / abs(fit.coef()[reg]))
                if row["df_resid"] > 0:
                    rel_se.append(abs(row["se_pair"] - fit.se()[reg]) / fit.se()[reg])
                else:
                    saturated += 1
        result.update(vs_pyfixest_converged_max_rel_coef=float(max(rel_c)),
                      vs_pyfixest_converged_max_rel_se_pair=float(max(rel_se)),
                      vs_pyfixest_converged_saturated_skipped=saturated,
                      pyfixest_converged_book_pair_s=round(time.perf_counter() - w0, 3))
    _report.write(result, args.out)


if __name__ == "__main__":
    main()
