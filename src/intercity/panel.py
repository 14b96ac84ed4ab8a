"""The ordered city-pair x period panel that every model of the study is estimated on.

One row per ordered pair (origin i, destination j), i != j, and period ("2012-2015", ...).
Yearly variables are averaged over the years of each period, both ends included.

Variables (i = origin, j = destination; ``_i`` / ``_j`` suffixes for city variables):
- IT, IT_direction, IT_labor, IT_capital, IT_tech: transfer from i to j (see :mod:`intercity.transfer`).
- connectivity_HSR: period average of the number of HSR lines serving both cities.
- connectivity_I: ln(1 + period average of the daily search index from i to j).
- connectivity_double: connectivity_HSR x connectivity_I (the synergy term).
- controls: edl (GDP per capita, 10k yuan), ul (urbanisation), fil (FDI / GDP), hcl (college
  students / population), ftl (trade / GDP), gel (government expenditure / GDP).
- mechanism outcomes: factor_labor = employed workers / resident population (the deck's
  definition, a ratio), and in logs factor_fcapital = ln fixed assets,
  factor_ccapital = ln liquid assets, factor_flc = ln(fixed assets / employment),
  factor_clc = ln(liquid assets / employment), factor_tech = ln(1 + patents).
- down_gradient: 1 if edl_i > edl_j in the period (else up-gradient); down_gradient_pop: the same
  with population. developed: the deck's "developed cities" columns have exactly half the rows,
  as the gradient halves do, so we read them as down-gradient pairs (origin richer than dest).
- distance_km (great circle), tier (label of the distance tier, e.g. "200-500"; empty outside).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from intercity.schema import StudyData
from intercity.cities import great_circle_km

CONTROLS = ("edl", "ul", "fil", "hcl", "ftl", "gel")
FACTORS = ("factor_labor", "factor_fcapital", "factor_ccapital", "factor_flc", "factor_clc", "factor_tech")
_CONTROL_SOURCE = {"edl": "gdp_per_capita", "ul": "urbanization", "fil": "fdi_gdp",
                   "hcl": "college_per_pop", "ftl": "trade_gdp", "gel": "gov_exp_gdp"}


def _periods_long(frame: pd.DataFrame, periods: tuple[tuple[int, int], ...], keys: list[str],
                  values: list[str]) -> pd.DataFrame:
    """Average ``values`` over the years of each period; adds a ``period`` label column."""
    out = []
    for a, b in periods:
        sub = frame[frame["year"].between(a, b)]
        missing = sorted(set(range(a, b + 1)) - set(sub["year"].unique()))
        if missing:
            raise ValueError(f"period {a}-{b}: no data for year(s) {missing}")
        avg = sub.groupby(keys, sort=False)[values].mean().reset_index()
        avg.insert(0, "period", f"{a}-{b}")
        out.append(avg)
    return pd.concat(out, ignore_index=True)


def city_period(bundle: StudyData, periods: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    """City x period averages: the controls, population and the mechanism factors."""
    raw = ["gdp_per_capita", "urbanization", "fdi_gdp", "college_per_pop", "trade_gdp",
           "gov_exp_gdp", "population", "employment", "fixed_assets", "liquid_assets", "patents"]
    cp = _periods_long(bundle.city_year, periods, ["city_id"], raw)
    out = cp[["period", "city_id"]].copy()
    for short, long in _CONTROL_SOURCE.items():
        out[short] = cp[long]
    out["pop"] = cp["population"]
    out["factor_labor"] = cp["employment"] / cp["population"]
    out["factor_fcapital"] = np.log(cp["fixed_assets"])
    out["factor_ccapital"] = np.log(cp["liquid_assets"])
    out["factor_flc"] = np.log(cp["fixed_assets"] / cp["employment"])
    out["factor_clc"] = np.log(cp["liquid_assets"] / cp["employment"])
    out["factor_tech"] = np.log1p(cp["patents"])
    return out


def tier_labels(edges: tuple[float, ...]) -> list[str]:
    """["0-200", "200-500", ...] from the tier edges in km."""
    return [f"{a:g}-{b:g}" for a, b in zip(edges, edges[1:])]


def build(bundle: StudyData, transfers: pd.DataFrame, periods: tuple[tuple[int, int], ...],
          tiers_km: tuple[float, ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pair panel and the ledger rows it adds (pairs outside every distance tier).

    ``transfers``: :func:`intercity.transfer.period_transfer` output for the same periods.
    Rows: periods in order, then origin, dest in the order of ``bundle.cities``.
    """
    pairs = _periods_long(bundle.pair_year, periods, ["origin", "dest"], ["hsr_lines", "baidu_index"])
    panel = transfers.merge(pairs, on=["period", "origin", "dest"], how="left", validate="one_to_one")
    lost = panel[panel["hsr_lines"].isna()]
    if len(lost):
        r = lost.iloc[0]
        raise ValueError(f"pair {r['origin']}->{r['dest']} in period {r['period']} has a transfer "
                         "but no connectivity data in pair_year")
    panel["connectivity_HSR"] = panel.pop("hsr_lines")
    panel["connectivity_I"] = np.log1p(panel.pop("baidu_index"))
    panel["connectivity_double"] = panel["connectivity_HSR"] * panel["connectivity_I"]
    cp = city_period(bundle, periods)
    for end, suffix in (("origin", "_i"), ("dest", "_j")):
        side = cp.rename(columns={c: c + suffix for c in cp.columns if c not in ("period", "city_id")})
        panel = panel.merge(side.rename(columns={"city_id": end}), on=["period", end], how="left",
                            validate="many_to_one")
    panel["down_gradient"] = (panel["edl_i"] > panel["edl_j"]).astype("int8")
    panel["down_gradient_pop"] = (panel["pop_i"] > panel["pop_j"]).astype("int8")
    panel["developed"] = panel["down_gradient"]
    ids = bundle.cities["city_id"].to_numpy()
    pos = {c: k for k, c in enumerate(ids)}
    dist = great_circle_km(bundle.cities["lon"], bundle.cities["lat"])
    oi, dj = panel["origin"].map(pos).to_numpy(), panel["dest"].map(pos).to_numpy()
    panel["distance_km"] = dist[oi, dj]
    labels = tier_labels(tiers_km)
    panel["tier"] = pd.cut(panel["distance_km"], bins=list(tiers_km), labels=labels, right=False)
    panel["tier"] = panel["tier"].astype("string").fillna("")
    panel["pair_id"] = (oi * len(ids) + dj).astype("int64")
    outside = panel[(panel["tier"] == "") & (panel["period"] == panel["period"].iloc[0])]
    ledger = pd.DataFrame({
        "stage": "panel", "kind": "pair", "key": outside["origin"] + "-" + outside["dest"], "name": "",
        "reason": [f"distance {d:.0f} km outside the tiers {labels[0]}..{labels[-1]} km: kept in the "
                   "panel, left out of the distance-tier models" for d in outside["distance_km"]],
    })
    return panel.reset_index(drop=True), ledger
