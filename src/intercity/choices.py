"""The choices of the multiverse: each a named dimension with the study's value, what each value
means and why it is defensible, and the panel columns the choices need that the book's panel
(:mod:`intercity.panel`) does not have.

Dimensions (:data:`DIMENSIONS`; the study's value first):

- ``source``: the data source the panel is built from (synthetic, public, ceads).
- ``transform``: how the transfer T (10k yuan, :mod:`intercity.transfer`) enters a model as
  the outcome (or, in the reverse-causality test, as the regressor): the signed log
  sign(T) ln(1 + |T|) with T in 10k yuan (the study), in yuan or in 100 million yuan (the
  signed log is not invariant to the unit: ln(1 + |T|) is about ln|T| for large |T|, a unit
  change shifts it by a constant, but near zero it is linear in T, so the unit decides how much
  small transfers and changes of sign weigh); the inverse hyperbolic sine asinh(T), T in 10k
  yuan (the usual log-like transform defined at zero and for negative values; Bellemare and
  Wichman 2020, Oxford Bull. Econ. Stat. 82(1), warn that it is unit-dependent too); the
  direction only, 1[T > 0] (a linear probability model: does the effect hold for the sign of the
  transfer alone?); and the level of the *gross flow* by Poisson pseudo-maximum likelihood (PPML;
  Santos Silva and Tenreyro 2006, Rev. Econ. Stat. 88(4)), through pyfixest ``fepois``.
  **Gross flow** of a signed transfer: T_ij is the change of the output of the destination
  induced by the origin's final demand, and it has either sign; PPML needs a non-negative
  outcome, so the gross flow is its positive part max(T_ij, 0): the transfer that moved from i to
  j, zero when production moved the other way (T_ji is a different quantity, not -T_ij, so the
  reverse movement is not recorded in the pair's own row). PPML then models the expected gross
  flow as exp(b connectivity + ...), b a semi-elasticity; pairs whose gross flow is zero in
  every period carry no information with pair effects and drop out (pyfixest reports them).
  PPML is an outcome model: it is not applied where the transfer is the regressor.
- ``inference``: standard errors clustered by ordered pair (the study), by origin city, two-way
  by origin and destination city, and dyadic-robust (every pair sharing a city in any role;
  Aronow, Samii and Assenova 2015) (:mod:`intercity.engine`).
- ``controls``: the study's twelve city controls (six for each city of the pair), none, or the
  study's plus ln(distance) x period interactions, which let pairs at different distances trend
  differently between periods (distance itself is absorbed by the pair effect).
- ``gradient``: which city of a pair is "more developed" for the gradient and "developed"
  samples: GDP per capita (the study), population (the study's own robustness check) or GDP
  (GDP per capita x population: economic size, the home-market notion of a larger economy).
- ``periods``: yearly variables averaged within each period (the study) or taken at the period's
  end year, the year of the MRIO table that closes the period (the transfer compares the two
  tables; end-year values line the regressors up with the table the change ends in).
- ``sample``: every pair (the study); without the four municipalities under the central
  government (Beijing, Tianjin, Shanghai, Chongqing: provincial-level cities whose statistics
  cover whole provinces' worth of territory and population); without pairs whose gradient
  (under the gradient choice) flips between periods (their gradient sample changes with time,
  so they enter each gradient half in one period only).
- ``tiers``: the study's distance tiers (0-200-500-1000-2000-4000 km) or a shifted set
  (parameter ``multiverse.shifted_tiers_km``); tier k of either set stands for the study's tier k
  (proximal, regional, cross-regional, strategic, remote): tier edges have no theory behind them,
  so a finding that depends on where they fall is fragile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from intercity import panel as panel_mod
from intercity.models import CONTROL_COLUMNS

#: The four municipalities directly under the central government (city ids, 6-digit adcodes).
MUNICIPALITIES: dict[str, str] = {"110000": "Beijing", "120000": "Tianjin", "310000": "Shanghai",
                                  "500000": "Chongqing"}
#: The study's distance tiers, km (the deck's proximal, regional, cross-regional, strategic, remote).
STUDY_TIERS_KM: tuple[float, ...] = (0.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
#: IT variables (the transfer, all sectors and by sector group) -> the transfer column they transform.
TRANSFER_OF: dict[str, str] = {"IT": "transfer", "IT_labor": "transfer_labor", "IT_capital": "transfer_capital",
                               "IT_tech": "transfer_tech"}
#: Transforms of the transfer T (10k yuan); ``ppml`` is the gross flow max(T, 0) fitted by PPML.
TRANSFORMS: tuple[str, ...] = ("slog_10k", "slog_yuan", "slog_100m", "ihs", "direction", "ppml")
#: Gradient choice -> the city variable that says which city of a pair is more developed.
GRADIENT_VARIABLES: dict[str, str] = {"gdp_per_capita": "gdp_per_capita", "population": "population",
                                      "gdp": "gdp"}


@dataclass(frozen=True)
class Dimension:
    """One choice: ``name`` (column of the multiverse), ``title``, its ``values`` (the study's
    first), the study's value, a phrase per value, why the alternatives are defensible, and short
    labels (``short_title``, ``short``) for figure axes."""

    name: str
    title: str
    values: tuple[str, ...]
    words: dict[str, str]
    why: str
    short_title: str = ""
    short: dict[str, str] | None = None

    def label(self, value: str) -> str:
        """Short axis label of a value: "title: value"."""
        return f"{self.short_title or self.title}: {(self.short or {}).get(value, self.words.get(value, value))}"

    @property
    def study(self) -> str:
        return self.values[0]


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    Dimension("source", "data source", ("synthetic", "public", "ceads"),
              {"synthetic": "synthetic world", "public": "public data", "ceads": "CEADs tables"},
              "The study used the CEADs city MRIO; every source available to this build is a different "
              "measurement of the same chain (the synthetic source a world whose truth is known).", "source"),
    Dimension("transform", "outcome transform", TRANSFORMS,
              {"slog_10k": "signed log, 10k yuan", "slog_yuan": "signed log, yuan",
               "slog_100m": "signed log, 100 million yuan", "ihs": "inverse hyperbolic sine, 10k yuan",
               "direction": "direction only (1 if positive)", "ppml": "gross flow, PPML"},
              "The signed log depends on the money unit (a unit is a choice, not a fact); the inverse "
              "hyperbolic sine is the usual alternative; the direction asks only whether the sign moves; "
              "PPML models the level of the gross flow without any log.", "transform",
              {"slog_10k": "slog, 10k yuan", "slog_yuan": "slog, yuan", "slog_100m": "slog, 100m yuan",
               "ihs": "asinh", "direction": "direction", "ppml": "PPML"}),
    Dimension("inference", "inference", ("pair", "origin", "twoway", "dyadic"),
              {"pair": "clustered by pair", "origin": "clustered by origin city",
               "twoway": "two-way, origin and destination city", "dyadic": "dyadic-robust"},
              "Every pair of a city shares that city's shocks and city-level outcomes, so errors are "
              "correlated across pairs; pair clustering ignores it, the others allow for it.", "SE",
              {"pair": "pair", "origin": "origin city", "twoway": "two-way", "dyadic": "dyadic"}),
    Dimension("controls", "controls", ("study", "none", "study_distance"),
              {"study": "the study's twelve", "none": "none", "study_distance": "the study's + ln distance x period"},
              "Controls measured in the same period as connectivity may be outcomes of it (bad controls), "
              "so leaving them out is defensible; distance x period lets trends differ with distance.", "controls",
              {"study": "study's", "none": "none", "study_distance": "+ distance x period"}),
    Dimension("gradient", "gradient", ("gdp_per_capita", "population", "gdp"),
              {"gdp_per_capita": "GDP per capita", "population": "population", "gdp": "GDP"},
              "Which city is 'more developed' has no single measure: income (the study), size (the "
              "study's robustness) and economic size (GDP).", "gradient",
              {"gdp_per_capita": "GDP p.c.", "population": "population", "gdp": "GDP"}),
    Dimension("periods", "period values", ("average", "end_year"),
              {"average": "period averages", "end_year": "end-year values"},
              "The transfer compares two MRIO years; averaging yearly variables over the period and "
              "taking them in the year the period ends are both natural.", "periods",
              {"average": "averages", "end_year": "end year"}),
    Dimension("sample", "sample", ("all", "no_municipalities", "no_gradient_flips"),
              {"all": "every pair", "no_municipalities": "without the four municipalities",
               "no_gradient_flips": "without pairs whose gradient flips"},
              "The municipalities are provincial-level units unlike prefecture cities; pairs whose "
              "gradient flips change sample between periods.", "sample",
              {"all": "all pairs", "no_municipalities": "no municipalities", "no_gradient_flips": "no flips"}),
    Dimension("tiers", "distance tiers", ("study", "shifted"),
              {"study": "the study's tiers", "shifted": "shifted tiers"},
              "Tier edges have no theory behind them; a finding about a tier should not hinge on them.", "tiers",
              {"study": "study's", "shifted": "shifted"}),
)}
#: ``multiverse:`` parameter field -> dimension name.
PARAM_FIELDS: dict[str, str] = {"sources": "source", "transforms": "transform", "inference": "inference",
                                "controls": "controls", "gradients": "gradient", "period_values": "periods",
                                "samples": "sample", "tier_sets": "tiers"}


def transformed(values: np.ndarray, transform: str) -> np.ndarray:
    """The transfer ``values`` (10k yuan) under ``transform`` (:data:`TRANSFORMS`).

    slog_10k / slog_yuan / slog_100m: sign(T) ln(1 + |T|) with T in 10k yuan, yuan (x 1e4) or
    100 million yuan (/ 1e4); ihs: asinh(T), T in 10k yuan; direction: 1.0 if T > 0 else 0.0;
    ppml: the gross flow max(T, 0) in 10k yuan (the PPML outcome). NaN stays NaN.
    Raises ValueError on an unknown transform.
    """
    t = np.asarray(values, dtype=np.float64)
    if transform == "slog_10k":
        return np.sign(t) * np.log1p(np.abs(t))
    if transform == "slog_yuan":
        return np.sign(t) * np.log1p(np.abs(t) * 1e4)
    if transform == "slog_100m":
        return np.sign(t) * np.log1p(np.abs(t) / 1e4)
    if transform == "ihs":
        return np.arcsinh(t)
    if transform == "direction":
        return np.where(np.isnan(t), np.nan, (t > 0).astype(np.float64))
    if transform == "ppml":
        return np.where(np.isnan(t), np.nan, np.maximum(t, 0.0))
    raise ValueError(f"unknown transform {transform!r}; known: {list(TRANSFORMS)}")


def column(variable: str, transform: str) -> str:
    """Panel column of an IT variable under a transform (``IT__ihs``)."""
    return f"{variable}__{transform}"


def tier_index(distance_km: np.ndarray, edges_km: tuple[float, ...]) -> np.ndarray:
    """Position (0, 1, ...) of each distance in the tiers [e_k, e_k+1) km, -1 outside them."""
    d = np.asarray(distance_km, float)
    k = np.searchsorted(np.asarray(edges_km, float), d, side="right") - 1
    return np.where((d >= edges_km[0]) & (d < edges_km[-1]), k, -1).astype(np.int8)


def distance_controls(periods: tuple[str, ...]) -> tuple[str, ...]:
    """Names of the ln(distance) x period columns (every period but the first)."""
    return tuple(f"lndist_x_{p}" for p in periods[1:])


def _city_gdp(bundle, periods: tuple[tuple[int, int], ...]) -> pd.DataFrame:
    """GDP (GDP per capita x population, per year) averaged over each period's years: period,
    city_id, gdp (units of the two variables' product; only comparisons between cities use it)."""
    cy = bundle.city_year[["city_id", "year", "gdp_per_capita", "population"]]
    out = []
    for a, b in periods:
        sub = cy[cy["year"].between(a, b)]
        g = (sub["gdp_per_capita"] * sub["population"]).groupby(sub["city_id"], sort=False).mean()
        out.append(pd.DataFrame({"period": f"{a}-{b}", "city_id": g.index, "gdp": g.to_numpy()}))
    return pd.concat(out, ignore_index=True)


def variant_panel(study, periods: str = "average", shifted_tiers_km: tuple[float, ...] = (0, 250, 625, 1250, 2500,
                                                                                          4000)) -> pd.DataFrame:
    """The pair panel of ``study`` under a ``periods`` choice, with every column the choices need.

    ``periods``: "average" (the book's panel, :attr:`study.panel`) or "end_year" (yearly variables
    at each period's last year, built by :func:`intercity.panel.build` on one-year periods and
    relabelled with the book's period labels). Rows: as the book's panel (period, origin, dest).

    Columns: pair_id, period, origin, dest, distance_km; every IT variable under every transform
    (:func:`column`, e.g. ``IT__slog_10k`` = the book's ``IT``, ``IT_labor__ppml`` = the gross
    labour-intensive flow); connectivity_HSR, connectivity_I, connectivity_double; the controls
    (``models.CONTROL_COLUMNS``) and ``lndist_x_<period>`` (:func:`distance_controls`); the
    mechanism outcomes ``factor_*_i``; ``down_<g>`` (1 when the origin's gradient variable g of
    :data:`GRADIENT_VARIABLES` exceeds the destination's in the period), ``flip_<g>`` (1 on every
    row of a pair whose ``down_<g>`` differs between periods), ``municipality`` (1 when either city
    is one of :data:`MUNICIPALITIES`), ``tier_study`` and ``tier_shifted`` (tier positions, -1
    outside; :func:`tier_index`).

    Raises ValueError for an unknown ``periods`` choice (or, from the panel, missing years).
    """
    p = study.params
    if periods == "average":
        base = study.panel
        yearly = p.periods
    elif periods == "end_year":
        yearly = tuple((b, b) for _, b in p.periods)
        relabel = {f"{a}-{b}": f"{b}-{b}" for a, b in p.periods}
        tr = study.transfers.assign(period=study.transfers["period"].map(relabel))
        base, _ = panel_mod.build(study.data, tr, yearly, p.distance_tiers_km)
        back = {v: k for k, v in relabel.items()}
        base["period"] = base["period"].map(back)
    else:
        raise ValueError(f"unknown periods choice {periods!r}; known: {list(DIMENSIONS['periods'].values)}")
    labels = tuple(f"{a}-{b}" for a, b in p.periods)
    out = {c: base[c].to_numpy() for c in ("pair_id", "period", "origin", "dest", "distance_km")}
    for it, tcol in TRANSFER_OF.items():
        t = base[tcol].to_numpy(float)
        for tr_name in TRANSFORMS:
            out[column(it, tr_name)] = transformed(t, tr_name)
    for c in ("connectivity_HSR", "connectivity_I", "connectivity_double", *CONTROL_COLUMNS):
        out[c] = base[c].to_numpy(float)
    for c in panel_mod.FACTORS:
        out[f"{c}_i"] = base[f"{c}_i"].to_numpy(float)
    lnd = np.log(base["distance_km"].to_numpy(float))
    per = base["period"].to_numpy()
    for lab, name in zip(labels[1:], distance_controls(labels)):
        out[name] = np.where(per == lab, lnd, 0.0)
    frame = pd.DataFrame(out)
    # gradients: the panel's own (GDP per capita, population) and GDP
    gdp = _city_gdp(study.data, yearly)
    gdp["period"] = gdp["period"].map(dict(zip([f"{a}-{b}" for a, b in yearly], labels)))
    g = gdp.set_index(["period", "city_id"])["gdp"]
    gi = g.reindex(pd.MultiIndex.from_arrays([frame["period"], frame["origin"]])).to_numpy()
    gj = g.reindex(pd.MultiIndex.from_arrays([frame["period"], frame["dest"]])).to_numpy()
    if np.isnan(gi).any() or np.isnan(gj).any():
        raise ValueError("GDP (GDP per capita x population) is missing for a city of the panel")
    frame["down_gdp_per_capita"] = (base["edl_i"].to_numpy() > base["edl_j"].to_numpy()).astype(np.int8)
    frame["down_population"] = (base["pop_i"].to_numpy() > base["pop_j"].to_numpy()).astype(np.int8)
    frame["down_gdp"] = (gi > gj).astype(np.int8)
    for name in GRADIENT_VARIABLES:
        d = frame[f"down_{name}"]
        frame[f"flip_{name}"] = (d.groupby(frame["pair_id"]).transform("nunique") > 1).astype(np.int8)
    frame["municipality"] = (frame["origin"].isin(list(MUNICIPALITIES))
                             | frame["dest"].isin(list(MUNICIPALITIES))).astype(np.int8)
    frame["tier_study"] = tier_index(frame["distance_km"].to_numpy(), STUDY_TIERS_KM)
    frame["tier_shifted"] = tier_index(frame["distance_km"].to_numpy(), tuple(shifted_tiers_km))
    return frame
