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

Nothing is lost on the way to the models: a city-period whose value lies outside the domain of a
factor's log or ratio (:data:`FACTOR_DOMAIN`: fixed or liquid assets, employment or population
zero) gets NaN in the factors that use it and a ledger entry (stage "panel", kind "value")
naming the city, the period, the variable, its value and the years behind it; every other value
of the panel must be finite, or :func:`build` raises naming the row and column. The models count
the rows each NaN removes (:func:`intercity.models.fit_specs`, ``nobs_lost``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from intercity.schema import StudyData, ledger_frame
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


#: Mechanism factor -> (bundle variable, what it must exceed) for every variable the factor logs or
#: divides by: ln and ratios need positive assets, employment and population; ln(1 + patents) is
#: defined for patents > -1 (the schema already rejects negative values).
FACTOR_DOMAIN: dict[str, tuple[tuple[str, float], ...]] = {
    "factor_labor": (("population", 0.0),),
    "factor_fcapital": (("fixed_assets", 0.0),),
    "factor_ccapital": (("liquid_assets", 0.0),),
    "factor_flc": (("fixed_assets", 0.0), ("employment", 0.0)),
    "factor_clc": (("liquid_assets", 0.0), ("employment", 0.0)),
    "factor_tech": (("patents", -1.0),),
}


def city_period(bundle: StudyData, periods: tuple[tuple[int, int], ...]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """City x period averages: the controls, population and the mechanism factors, and the ledger
    rows of every city-period whose factor is undefined (:data:`FACTOR_DOMAIN`).

    A period average at or below a factor's bound makes that factor NaN for the city-period (never
    -inf or a silently dropped row); the ledger entry names the city, period, variable, the period
    average and the years whose values are at or below the bound. Raises ``ValueError`` naming the
    city, period and column of any other non-finite value.
    """
    raw = ["gdp_per_capita", "urbanization", "fdi_gdp", "college_per_pop", "trade_gdp",
           "gov_exp_gdp", "population", "employment", "fixed_assets", "liquid_assets", "patents"]
    cp = _periods_long(bundle.city_year, periods, ["city_id"], raw)
    out = cp[["period", "city_id"]].copy()
    for short, long in _CONTROL_SOURCE.items():
        out[short] = cp[long]
    out["pop"] = cp["population"]
    valid = {var: cp[var].to_numpy() > bound for f in FACTOR_DOMAIN.values() for var, bound in f}
    with np.errstate(divide="ignore", invalid="ignore"):
        out["factor_labor"] = cp["employment"] / cp["population"]
        out["factor_fcapital"] = np.log(cp["fixed_assets"])
        out["factor_ccapital"] = np.log(cp["liquid_assets"])
        out["factor_flc"] = np.log(cp["fixed_assets"] / cp["employment"])
        out["factor_clc"] = np.log(cp["liquid_assets"] / cp["employment"])
        out["factor_tech"] = np.log1p(cp["patents"])
    for factor, needs in FACTOR_DOMAIN.items():
        ok = np.logical_and.reduce([valid[var] for var, _ in needs])
        out.loc[~ok, factor] = np.nan
    rows = []
    names = bundle.cities.set_index("city_id")["name_en"].to_dict()
    for var in dict.fromkeys(v for f in FACTOR_DOMAIN.values() for v, _ in f):
        bound = next(b for f in FACTOR_DOMAIN.values() for v, b in f if v == var)
        uses = [f for f, needs in FACTOR_DOMAIN.items() if var in dict(needs)]
        for k in np.flatnonzero(~valid[var]):
            city, period = cp["city_id"].iat[k], cp["period"].iat[k]
            a, b = (int(y) for y in period.split("-"))
            cy = bundle.city_year
            yearly = cy[(cy["city_id"] == city) & cy["year"].between(a, b) & (cy[var] <= bound)]
            years = ", ".join(f"{int(y)}: {v:g}" for y, v in zip(yearly["year"], yearly[var]))
            rows.append(("panel", "value", city, names.get(city, ""),
                         f"{var} = {cp[var].iat[k]:g} in period {period} (average; years at or below "
                         f"{bound:g}: {years or 'none'}): {', '.join(uses)} undefined, set missing for "
                         f"this city-period; the models of these outcomes leave out its rows"))
    bad = ~np.isfinite(out.drop(columns=["period", "city_id"]).to_numpy(dtype=float))
    explained = np.zeros_like(bad)
    for j, col in enumerate(out.columns[2:]):
        if col in FACTOR_DOMAIN:
            explained[:, j] = out[col].isna().to_numpy() & bad[:, j]
    stray = np.argwhere(bad & ~explained)
    if len(stray):
        k, j = stray[0]
        raise ValueError(f"city {out['city_id'].iat[k]}, period {out['period'].iat[k]}: "
                         f"{out.columns[2 + j]} = {out.iat[k, 2 + j]} is not finite")
    return out, ledger_frame(rows)


def controls_left_out(bundle: StudyData) -> dict[str, str]:
    """The study's controls (:data:`CONTROLS`) that cannot enter a model on this bundle, each with
    the reason: one value for every city and year (a constant, absorbed by the pair effects), or
    every value imputed (no observed, interpolated, proxy, synthetic or user value: not data).

    Returns {control short name (e.g. "hcl"): reason}; :func:`intercity.models.fit_specs` leaves
    these out of every formula and names them in each model's ``controls_out``.
    """
    out = {}
    cy = bundle.city_year
    for short, var in _CONTROL_SOURCE.items():
        values = cy[var]
        prov = cy[f"prov_{var}"].astype(str) if f"prov_{var}" in cy.columns else pd.Series("", index=cy.index)
        kinds = "/".join(sorted(set(prov) - {""})) or "unknown provenance"
        if values.nunique() <= 1:
            out[short] = (f"constant on this source ({var} = {values.iloc[0]:g} for every city and "
                          f"year, {kinds})")
        elif (prov == "imputed").all():
            out[short] = f"imputed for every city and year on this source ({var} has no observed value)"
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
    cp, value_ledger = city_period(bundle, periods)
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
    _check_finite(panel)
    return panel.reset_index(drop=True), pd.concat([value_ledger, ledger], ignore_index=True)


def _check_finite(panel: pd.DataFrame) -> None:
    """Every numeric value of the panel is finite, except the factors :func:`city_period` set
    missing (and wrote to the ledger); else ``ValueError`` naming the pair, period and column."""
    factor_cols = {f"{f}_{s}" for f in FACTOR_DOMAIN for s in ("i", "j")}
    for col in panel.columns:
        if col in factor_cols or not pd.api.types.is_numeric_dtype(panel[col]):
            continue
        bad = ~np.isfinite(panel[col].to_numpy(dtype=float))
        if bad.any():
            r = panel.loc[bad].iloc[0]
            raise ValueError(f"panel: {col} = {r[col]} is not finite for pair {r['origin']}->{r['dest']} "
                             f"in period {r['period']} ({int(bad.sum())} such rows)")
