"""Does the provincial constraint improve the public stand-in MRIO? Evidence, written as JSON.

Usage::

    python benchmarks/provincial_check.py --out benchmarks/results/provincial_check.json

Builds the full public bundle twice (``intercity.sources.public.assemble``, with and without the
provincial constraint; about a minute each) and reports, per MRIO year:

* ``misallocated_weights``: share of national output that the sector weights put in another
  province than the (coverage-adjusted) real provincial shares (0 with the constraint, by
  construction);
* ``misallocated_solved``: the same for the solved gross output of the MRIO (Leontief, all
  domestic final demand), where the gravity trade model moves supply toward demand;
* a few sectors whose geography is unmistakable: the share of national output made by the
  cities of Shanxi (coal), Heilongjiang (crude oil and gas), Guangdong (electronics);
* ``fdi_spearman``: rank correlation over cities of the manufacturing share and the electronics
  share of city output with FDI / GDP (G-P panel: a real city variable that no MRIO input uses);

and the held-out check: the 2017 weights constrained with the 2012 shares (2017's held out)
against the real 2017 shares, beside the unconstrained rule on 2017's own city data.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from intercity.cities import city_universe, outside_city_units  # noqa: E402
from intercity.mrio import gross_output  # noqa: E402
from intercity.sectors import SECTOR_CODES  # noqa: E402
from intercity.sources import provincial as pv, public  # noqa: E402
from intercity.sources.city_stats import SECTOR_TO_YB, city_statistics  # noqa: E402
from intercity.sources.national_io import national_table, sector_weights  # noqa: E402

YEARS = (2012, 2015, 2017)
GEOGRAPHY = {"Shanxi coal (02)": ("14", "02"), "Heilongjiang crude oil and gas (03)": ("23", "03"),
             "Guangdong electronics (20)": ("44", "20")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/provincial_check.json"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    built = {k: public.assemble(provincial_constraint=(k == "constrained")) for k in ("unconstrained", "constrained")}
    ids = list(built["constrained"].cities["city_id"])
    assert ids == list(built["unconstrained"].cities["city_id"])
    stats = city_statistics(None, list(range(2011, 2018)))
    out = pv.read_provincial_output()
    universe, outside = city_universe()["city_id"].tolist(), outside_city_units()
    manuf = np.array([SECTOR_TO_YB[c] == "manuf" for c in SECTOR_CODES])
    s20 = SECTOR_CODES.index("20")
    cy = built["constrained"].city_year.set_index(["city_id", "year"])["fdi_gdp"]
    report: dict = {"cities": len(ids), "years": {}}
    for y in YEARS:
        nat = national_table(None, y)
        t, _ = pv.targets(out, y, ids, stats["gdp"][y], nat, universe, outside)
        prov = pv.province_index(ids, t.has_data())
        w0, _ = sector_weights(ids, y, stats["yearbook"], stats["industry"], nat["x"])
        w1, _ = sector_weights(ids, y, stats["yearbook"], stats["industry"], nat["x"], provincial=t)
        fdi = cy.xs(y, level="year").reindex(ids).to_numpy(float)
        ok = np.isfinite(fdi)
        row = {"shares": t.source,
               "partial_coverage": {p: round(float(k), 3) for p, k in zip(pv.PROVINCES, t.kappa) if 0 < k < 0.995}}
        for kind, w in (("unconstrained", w0), ("constrained", w1)):
            x = gross_output(built[kind].mrio[y], label=y)
            a = np.zeros((len(pv.PROVINCES), x.shape[1]))
            np.add.at(a, prov, x)
            a = pv.shares_of(a)
            row[kind] = {
                "misallocated_weights": round(pv.misallocation(w, prov, t.shares, t.kappa, nat["x"]), 4),
                "misallocated_solved": round(pv.misallocation(x, prov, t.shares, t.kappa, x.sum(axis=0)), 4),
                "geography_solved": {k: round(float(a[pv.PROVINCES.index(p), SECTOR_CODES.index(c)]), 3)
                                     for k, (p, c) in GEOGRAPHY.items()},
                "fdi_spearman": {
                    "manufacturing share": round(float(spearmanr(x[ok][:, manuf].sum(1) / x[ok].sum(1), fdi[ok])[0]), 3),
                    "electronics share": round(float(spearmanr(x[ok, s20] / x[ok].sum(1), fdi[ok])[0]), 3)},
            }
        target = pv.shares_of(t.kappa[:, None] * t.shares)
        row["geography_data"] = {k: round(float(target[pv.PROVINCES.index(p), SECTOR_CODES.index(c)]), 3)
                                 for k, (p, c) in GEOGRAPHY.items()}
        report["years"][str(y)] = row
        print(y, json.dumps(row, ensure_ascii=False), flush=True)
    # held out: 2017 constrained with the 2012 shares, against the real 2017 shares
    nat = national_table(None, 2017)
    t17, _ = pv.targets(out, 2017, ids, stats["gdp"][2017], nat, universe, outside)
    held = pv.ProvincialTargets(2017, pv.provincial_shares(out, 2012)[0], t17.kappa, "2012 shares")
    prov = pv.province_index(ids, t17.has_data())
    w0, _ = sector_weights(ids, 2017, stats["yearbook"], stats["industry"], nat["x"])
    w12, _ = sector_weights(ids, 2017, stats["yearbook"], stats["industry"], nat["x"], provincial=held)
    report["held_out_2017"] = {
        kind: {"all sectors": round(pv.misallocation(w, prov, t17.shares, t17.kappa, nat["x"]), 4),
               "manufacturing": round(pv.misallocation(w[:, manuf], prov, t17.shares[:, manuf], t17.kappa,
                                                       nat["x"][manuf]), 4)}
        for kind, w in (("unconstrained rule, 2017 city data", w0), ("constrained with 2012 shares", w12))}
    report["seconds"] = round(time.perf_counter() - t0, 1)
    print("held out 2017:", report["held_out_2017"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    print(f"wrote {args.out} in {report['seconds']} s")


if __name__ == "__main__":
    main()
