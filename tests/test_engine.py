"""The exact fast FE engine against pyfixest: every model of the book at ci scale under pair, origin,
destination and two-way clustering (singletons, gradient halves, a saturated tier, a regressor
without within variation, non-finite values), a hand-made panel with more than two periods, and
the dyadic-robust variance against the O(N^2) double sum it replaces.

The reference is ``pyfixest.feols`` with ``ssc=engine.SSC``, ``fixef_rm="none"`` and its own MAP
demeaner run to convergence (``fixef_tol=1e-12``): at pyfixest's default tolerance (1e-6) the
demeaning itself leaves relative errors up to ~1e-6 in the SEs of this panel, so the default cannot
be the yardstick of a 1e-8 comparison.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

from intercity import engine, models, pipeline

TIGHT = MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000)
VCOV = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"}, "dest": {"CRV1": "dest"},
        "twoway": {"CRV1": "origin+dest"}}
REL = 1e-8


def _pyfixest(data: pd.DataFrame, fml: str, vcov: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, data, vcov=vcov, ssc=engine.SSC, fixef_rm="none", demeaner=TIGHT)


def _close(a: float, b: float, rel: float = REL, atol: float = 0.0) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b)) + atol


def _compare(row: pd.Series, fit, reg: str, clusters: list[str], data: pd.DataFrame) -> list[str]:
    """Mismatches between an engine row and a pyfixest fit (re-using the fit for each clustering)."""
    bad = []
    if row["nobs"] != fit._N:
        bad.append(f"nobs {row['nobs']} != {fit._N}")
    for name, ours, theirs in (("r2", row["r2"], fit._r2), ("r2_within", row["r2_within"], fit._r2_within)):
        if not _close(ours, theirs, atol=1e-12):
            bad.append(f"{name} {ours} != {theirs}")
    if reg not in fit.coef().index:
        if not (np.isnan(row["coef"]) and row["note"].startswith("not identified")):
            bad.append(f"{reg} dropped by pyfixest but estimated by the engine")
        return bad
    if not _close(row["coef"], fit.coef()[reg]):
        bad.append(f"coef {row['coef']} != {fit.coef()[reg]}")
    saturated = row["df_resid"] == 0
    for c in clusters:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit.vcov(VCOV[c])  # on the rows pyfixest kept (its stored data)
            se, p = fit.se()[reg], fit.pvalue()[reg]
            ci = fit.confint(alpha=0.05).loc[reg]
        ours = row[f"se_{c}"]
        if saturated:  # residuals are exactly zero: both SEs are rounding noise around 0
            if not (ours <= 1e-6 * max(1.0, abs(row["coef"])) and se <= 1e-6 * max(1.0, abs(row["coef"]))):
                bad.append(f"saturated fit: se_{c} {ours} / {se} not ~0")
            continue
        if np.isnan(se) or np.isnan(ours):
            if not (np.isnan(se) and np.isnan(ours)):
                bad.append(f"se_{c} {ours} vs {se}: one is NaN")
            continue
        if not _close(ours, se):
            bad.append(f"se_{c} {ours} != {se}")
        if not _close(row[f"p_{c}"], p, atol=1e-12):
            bad.append(f"p_{c} {row[f'p_{c}']} != {p}")
        if not (_close(row[f"ci95_low_{c}"], ci.iloc[0]) and _close(row[f"ci95_high_{c}"], ci.iloc[1])):
            bad.append(f"ci95_{c} ({row[f'ci95_low_{c}']}, {row[f'ci95_high_{c}']}) != {tuple(ci)}")
        if row[f"df_t_{c}"] != fit._df_t:
            bad.append(f"df_t_{c} {row[f'df_t_{c}']} != {fit._df_t}")
    return bad


@pytest.fixture(scope="module")
def book(ci_study, ci_params):
    specs = models.published_specs() + models.tier_specs(pipeline.tiers_present(ci_study.panel, ci_params))
    res = engine.fit(ci_study.panel, specs, ("pair", "origin", "dest", "twoway", "dyadic"),
                     samples=models.SAMPLES)
    return specs, res


def test_every_book_spec_equals_pyfixest(book, ci_study):
    specs, res = book
    panel = ci_study.panel
    assert list(res["key"]) == [s.key for s in specs]
    failures = {}
    for spec, (_, row) in zip(specs, res.iterrows()):
        data = models.sample_rows(panel, spec.sample, spec.tier)
        fit = _pyfixest(data, f"{spec.dependent_column} ~ {spec.rhs()} | pair_id + period", VCOV["pair"])
        bad = _compare(row, fit, spec.regressors[0], ["pair", "origin", "dest", "twoway"], data)
        if bad:
            failures[spec.key] = bad
    assert not failures, failures


def test_the_book_exercises_the_hard_cases(book):
    """The comparison above covers singletons, gradient halves, a saturated tier and a regressor
    without within variation; if the ci panel stopped having them, that test would prove less."""
    _, res = book
    grad = res[(res["sample"] == "down_gradient") & (res["tier"] == "")]
    assert (grad["n_singletons"] > 0).all() and (grad["nobs"] > grad["nobs_effective"]).all()
    assert (res["df_resid"] == 0).any()                                  # 0-200 km tier at ci scale
    assert (res["note"].str.startswith("not identified")).any()          # HSR constant in a tier
    assert ((res["n_pairs"] < 20) & (res["tier"] != "")).any()
    # the identification facts are consistent: two periods, FD observations = pairs seen twice
    fd = res["nobs_effective"] // 2
    assert (res["nobs"] == res["nobs_effective"] + res["n_singletons"]).all()
    assert (res["df_resid"] == fd - 1 - res["rank"]).all()
    assert (res["n_pairs"] == fd + res["n_singletons"]).all()
    # the counts behind the book's identification rule: period effects and effective clusters
    assert (res["period_rank"] == (fd > 0).astype(int)).all()
    assert (res["G_effective_pair"] == fd).all()
    for c in ("pair", "origin", "dest", "twoway", "dyadic"):
        assert (res[f"G_effective_{c}"] <= res[f"G_{c}"]).all(), c
    assert (res["G_effective_twoway"] == res[["G_effective_origin", "G_effective_dest"]].min(axis=1)).all()


def test_output_carries_the_columns_of_fit_specs(book, ci_study):
    specs, res = book
    old = models.fit_specs(ci_study.panel, specs[:2])
    # the design and identification columns of the models contract (issue 9) are decided by
    # models.fit_specs around a fit, not by the engine: which controls entered or were left out
    # and why, rows lost, parameters, the identification rule, and g_<c> (the engine's G_<c>)
    around = {"controls_in", "controls_out", "nobs_lost", "n_params", "identified"} | {f"g_{c}" for c in models.CLUSTERINGS}
    assert set(old.columns) - around <= set(res.columns)
    assert {f"G_{c}" for c in models.CLUSTERINGS} <= set(res.columns)
    assert (res["cluster"] == "pair").all() and np.allclose(res["se"], res["se_pair"], equal_nan=True)
    ident = res["note"] == ""
    assert (res.loc[ident, "stars"] == [models.stars(p) for p in res.loc[ident, "p"]]).all()


def test_regressor_without_within_variation_and_nonfinite_rows(ci_study):
    """A pair-constant regressor (distance) is dropped as pyfixest drops it, whether first
    (reported: not identified) or later (listed as collinear); NaN and inf rows are left out as
    pyfixest leaves them out, and counted."""
    panel = ci_study.panel.copy()
    rng = np.random.default_rng(3)
    panel["y_gappy"] = panel["IT"]
    panel.loc[rng.choice(len(panel), 25, replace=False), "y_gappy"] = np.nan
    panel["x_gappy"] = panel["connectivity_I"]
    panel.loc[rng.choice(len(panel), 7, replace=False), "x_gappy"] = np.inf
    ctrl = tuple(models.CONTROL_COLUMNS)
    ms = [engine.Model("d_first", "IT", ("distance_km", "connectivity_I"), ctrl),
          engine.Model("d_later", "IT", ("connectivity_I", "distance_km"), ctrl),
          engine.Model("gappy", "y_gappy", ("x_gappy", "connectivity_HSR"), ctrl, sample="up_gradient"),
          engine.Model("clean", "IT", ("x_gappy",), (), sample="up_gradient")]
    res = engine.fit(panel, ms, ("pair", "twoway"), samples=models.SAMPLES).set_index("key")
    assert np.isnan(res.loc["d_first", "coef"]) and res.loc["d_first", "note"].startswith("not identified")
    assert res.loc["d_later", "collinear"] == "distance_km" and res.loc["d_later", "note"] == ""
    assert res.loc["gappy", "n_nonfinite"] > 0 and res.loc["clean", "n_nonfinite"] > 0
    failures = {}
    for m in ms:
        data = models.sample_rows(panel, m.sample, m.tier)
        fml = f"{m.dependent} ~ {' + '.join(m.regressors + m.controls)} | pair_id + period"
        fit = _pyfixest(data, fml, VCOV["pair"])
        bad = _compare(res.loc[m.key], fit, m.regressors[0], ["pair", "twoway"], data)
        if m.key == "d_later" and "distance_km" in fit.coef().index:
            bad.append("pyfixest kept distance_km")
        if res.loc[m.key, "nobs"] + res.loc[m.key, "n_nonfinite"] != len(data):
            bad.append("rows lost without a count")
        if bad:
            failures[m.key] = bad
    assert not failures, failures


# ----------------------------------------------------------------------------- hand-made panels

def _toy_panel(n_cities: int, n_periods: int, seed: int, drop: float = 0.15) -> pd.DataFrame:
    """Every ordered pair of ``n_cities`` over ``n_periods`` periods, a share ``drop`` of rows
    removed (singletons and gaps), city shocks shared by every pair of a city."""
    rng = np.random.default_rng(seed)
    cities = [f"c{i:02d}" for i in range(n_cities)]
    rows = [(o, d, t) for o, d in itertools.permutations(range(n_cities), 2) for t in range(n_periods)]
    df = pd.DataFrame(rows, columns=["o", "d", "t"])
    df = df[rng.random(len(df)) > drop].reset_index(drop=True)
    city_shock = rng.normal(size=(n_cities, n_periods))
    df["origin"] = [cities[i] for i in df["o"]]
    df["dest"] = [cities[i] for i in df["d"]]
    df["pair_id"] = df["o"] * n_cities + df["d"]
    df["period"] = [f"p{t}" for t in df["t"]]
    n = len(df)
    df["x1"] = rng.normal(size=n) + city_shock[df["o"], df["t"]]
    df["x2"] = rng.normal(size=n) + 0.5 * df["x1"]
    df["x_const"] = df["o"] * 0.3 + df["d"]          # constant within pairs: not identified
    df["y"] = (0.7 * df["x1"] - 0.2 * df["x2"] + city_shock[df["o"], df["t"]]
               + city_shock[df["d"], df["t"]] + rng.normal(size=n))
    return df.drop(columns=["o", "d", "t"])


@pytest.mark.parametrize("n_periods", [2, 3, 4])
def test_hand_made_panels_equal_pyfixest(n_periods):
    """More than two periods go through pyfixest's demeaner (once per sample); two through FD."""
    df = _toy_panel(12, n_periods, seed=n_periods, drop=0.3)
    df["half"] = (df["pair_id"] % 3 == 0).astype(int)
    ms = [engine.Model("a", "y", ("x1", "x2")), engine.Model("b", "y", ("x2", "x1", "x_const")),
          engine.Model("c", "y", ("x_const", "x1")), engine.Model("d", "x2", ("x1",), sample="half")]
    res = engine.fit(df, ms, ("pair", "origin", "twoway"), samples={"half": ("half", 1)}).set_index("key")
    assert res.loc["a", "n_singletons"] > 0 and res.loc["a", "period_rank"] == n_periods - 1
    assert np.isnan(res.loc["c", "coef"]) and res.loc["b", "collinear"] == "x_const"
    failures = {}
    for m in ms:
        data = df if m.sample == "all" else df[df["half"] == 1]
        fit = _pyfixest(data, f"{m.dependent} ~ {' + '.join(m.regressors)} | pair_id + period", VCOV["pair"])
        bad = _compare(res.loc[m.key], fit, m.regressors[0], ["pair", "origin", "twoway"], data)
        if bad:
            failures[m.key] = bad
    assert not failures, failures


def _dyadic_brute(scores: np.ndarray, origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """sum over every (i, j) whose pairs share a city, in any role: the O(N^2) definition."""
    n = len(origin)
    M = np.zeros((scores.shape[1],) * 2)
    for i in range(n):
        for j in range(n):
            if {origin[i], dest[i]} & {origin[j], dest[j]}:
                M += np.outer(scores[i], scores[j])
    return M


@pytest.mark.parametrize("n_periods", [2, 3])
def test_dyadic_variance_equals_the_double_sum(n_periods):
    """Engine dyadic SE = sqrt(c B M B) with M the O(N^2) double sum over pyfixest's own row
    scores and c = G/(G-1) (N-1)/(N-K), G cities, K = regressors + periods (pair effects nested)."""
    df = _toy_panel(9, n_periods, seed=10 + n_periods)
    res = engine.fit(df, [engine.Model("m", "y", ("x1", "x2"))], ("dyadic", "pair")).iloc[0]
    fit = _pyfixest(df, "y ~ x1 + x2 | pair_id + period", VCOV["pair"])
    M = _dyadic_brute(fit._scores, df["origin"].to_numpy(), df["dest"].to_numpy())
    B = fit._bread
    N, G, K = len(df), df[["origin", "dest"]].stack().nunique(), 2 + n_periods
    V = G / (G - 1) * (N - 1) / (N - K) * (B @ M @ B)
    assert _close(res["se_dyadic"], float(np.sqrt(V[0, 0])))
    assert res["G_dyadic"] == G and res["df_t_dyadic"] == G - 1
    assert res["se"] == res["se_dyadic"] and res["cluster"] == "dyadic"
    # dyadic pools every pair of a city: it contains the two-way (origin, destination) links
    assert res["se_dyadic"] != res["se_pair"]


def test_negative_two_way_variance_gives_nan_as_pyfixest_does():
    """A two-way variance with a negative diagonal has no SE (pyfixest: NaN, no eigenvalue fix)."""
    found = False
    for seed in range(200):
        df = _toy_panel(4, 2, seed=seed, drop=0.3)
        res = engine.fit(df, [engine.Model("m", "y", ("x1",))], ("twoway",)).iloc[0]
        if res["note_twoway"].startswith("negative"):
            found = True
            fit = _pyfixest(df, "y ~ x1 | pair_id + period", VCOV["twoway"])
            with warnings.catch_warnings():  # pyfixest: sqrt of the negative variance
                warnings.simplefilter("ignore", RuntimeWarning)
                se = fit.se()["x1"]
            assert np.isnan(se) and np.isnan(res["se_twoway"]) and res["stars_twoway"] == ""
            break
    assert found, "no seed gave a negative two-way variance"


def test_bad_input_is_named():
    df = _toy_panel(5, 2, seed=1)
    with pytest.raises(KeyError, match="unknown clustering 'state'"):
        engine.fit(df, [engine.Model("m", "y", ("x1",))], ("state",))
    with pytest.raises(KeyError, match="unknown sample 'east'"):
        engine.fit(df, [engine.Model("m", "y", ("x1",), sample="east")])
    with pytest.raises(KeyError, match="no column 'x9'"):
        engine.fit(df, [engine.Model("m", "y", ("x9",))])
    dup = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    with pytest.raises(ValueError, match="appears twice"):
        engine.fit(dup, [engine.Model("m", "y", ("x1",))])


def test_collinearity_rule_is_pyfixests():
    """The pivot rule on X~'X~ (absolute tolerance 1e-9, formula order) as pyfixest applies it."""
    from pyfixest.core.collinear import find_collinear_variables  # what feols calls

    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 6))
    X[:, 3] = X[:, 0] - 2 * X[:, 1]
    X[:, 5] = 1e-6 * rng.normal(size=50)       # pivot ~5e-11: below the absolute tolerance
    xtx = np.ascontiguousarray(X.T @ X)
    ref = np.asarray(find_collinear_variables(xtx, engine.COLLIN_TOL)[0], bool)
    assert (engine.collinear(xtx) == ref).all() and ref.sum() == 2 and ref[3] and ref[5]
