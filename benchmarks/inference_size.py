"""Size of the tests under pair, origin and two-way clustering in synthetic worlds with no planted
effect; write JSON.

    python benchmarks/inference_size.py --scales 0.15 0.4 --seeds 1 2 3 4 --draws 100 \
        --out benchmarks/results/inference_size.json

For every scale and seed, the synthetic world is generated with ``Knobs(hsr_trade_effect=0,
info_trade_effect=0)`` (connectivity moves no trade) and its pair panel built as the book builds it.
Two families of models are fitted (:func:`intercity.models.fit_specs`, each model once, variances
under the three clusterings from that fit):

* ``placebo``: ``--draws`` city-level outcomes that are independent of everything by construction
  (a standard normal shock per origin city and period, the same number in every pair of that
  origin, as the mechanism outcomes are), regressed on connectivity_I with the study's controls, on
  the whole panel and on the less-developed half. The true coefficient is 0, so the share of
  |t| > critical value at 5% is the test's size: it should be about 0.05.
* ``mechanism``: the study's 24 mechanism models on the world's own city factors. These are NOT
  null in the synthetic world: its search index is generated from population and GDP per capita,
  which also drive fixed and liquid assets and patents, so connectivity and the factors move
  together without any planted effect. Their rejection shares are reported for information only.

Reported per scale, seed and family: the number of models, the share rejected at 5% under each
clustering, and the median ratio of the two-way to the pair-clustered standard error. The
contrast grows with the number of cities (pair clustering treats the n - 1 pairs of a city as
independent).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import _report  # noqa: E402  (benchmarks/_report.py)
from intercity import models, panel as panel_mod, params, schema, transfer  # noqa: E402
from intercity.sources import synthetic  # noqa: E402

CLUSTERINGS = ("pair", "origin", "twoway")


def zero_effect_panel(scale: float, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """The pair panel of the synthetic world at ``scale`` and ``seed`` with both trade knobs at 0,
    and its city ids."""
    p = params.from_mapping({"data_source": "synthetic", "scale": scale, "seed": seed})
    knobs = synthetic.Knobs(hsr_trade_effect=0.0, info_trade_effect=0.0)
    years = list(range(min(p.mrio_years) - 1, max(p.mrio_years) + 1))
    raw = synthetic.generate(p.n_cities, seed, years, list(p.periods), p.mrio_years, knobs)
    data = schema.StudyData(source="synthetic", cities=raw["cities"], city_year=raw["city_year"],
                            pair_year=raw["pair_year"], mrio=raw["mrio"], ledger=raw["ledger"])
    transfers, _ = transfer.measure(data, p.periods)
    panel, _ = panel_mod.build(data, transfers, p.periods, p.distance_tiers_km)
    return panel, list(data.city_ids)


def with_placebo(panel: pd.DataFrame, city_ids: list[str], draws: int, seed: int) -> pd.DataFrame:
    """``panel`` with ``draws`` placebo outcomes ``placebo_<r>``: one N(0, 1) shock per origin city
    and period (seeded), repeated in every pair of that origin."""
    rng = np.random.default_rng([seed, 20240901])
    pos = {c: k for k, c in enumerate(city_ids)}
    origin = panel["origin"].map(pos).to_numpy()
    period = pd.factorize(panel["period"])[0]
    shocks = rng.standard_normal((draws, period.max() + 1, len(city_ids)))
    extra = pd.DataFrame({f"placebo_{r}": shocks[r, period, origin] for r in range(draws)}, index=panel.index)
    return pd.concat([panel, extra], axis=1)


def rejection(res: pd.DataFrame) -> dict:
    ok = res[res["identified"].astype(bool)]
    out = {"models": int(len(ok))}
    for c in CLUSTERINGS:
        out[f"reject_5pct_{c}"] = round(float((ok[f"p_{c}"] < 0.05).mean()), 4)
    out["median_se_ratio_twoway_pair"] = round(float((ok["se_twoway"] / ok["se_pair"]).median()), 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scales", type=float, nargs="+", default=[0.15, 0.4])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--out", default="benchmarks/results/inference_size.json")
    args = ap.parse_args()
    runs = []
    t_all = time.perf_counter()
    for scale in args.scales:
        for seed in args.seeds:
            t0 = time.perf_counter()
            panel, ids = zero_effect_panel(scale, seed)
            panel = with_placebo(panel, ids, args.draws, seed)
            row = {"scale": scale, "seed": seed, "cities": len(ids)}
            for sample in ("all", "less_developed"):
                specs = [models.Spec("placebo", r, f"placebo_{r}", ("connectivity_I",), sample)
                         for r in range(args.draws)]
                row[f"placebo_{sample}"] = rejection(models.fit_specs(panel, specs))
            mech = [s for s in models.published_specs() if s.table.startswith("mechanism")]
            row["mechanism"] = rejection(models.fit_specs(panel, mech))
            row["seconds"] = round(time.perf_counter() - t0, 1)
            print(row, flush=True)
            runs.append(row)
    summary = {}
    for scale in args.scales:
        mine = [r for r in runs if r["scale"] == scale]
        for fam in ("placebo_all", "placebo_less_developed", "mechanism"):
            summary[f"{scale}:{fam}"] = {
                f"mean_reject_5pct_{c}": round(float(np.mean([r[fam][f"reject_5pct_{c}"] for r in mine])), 4)
                for c in CLUSTERINGS}
    _report.write({"scales": args.scales, "seeds": args.seeds, "draws": args.draws,
                   "knobs": {"hsr_trade_effect": 0.0, "info_trade_effect": 0.0}, "summary": summary,
                   "runs": runs, "seconds": round(time.perf_counter() - t_all, 1)}, args.out)


if __name__ == "__main__":
    main()
