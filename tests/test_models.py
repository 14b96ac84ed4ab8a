"""The model registry and its estimation: coverage of the published tables, agreement with
pyfixest (converged demeaner, every book model, to 1e-8), recovery of known effects on a simulated
panel, the clustered-SE convention (hand-computed CRV1, two-way, dyadic), the identification rule,
controls named, nothing lost, sample sizes implied by the design, and the deck's parenthesis
reading."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

from intercity import engine, models, panel as panel_mod, params, pipeline, reference

CONTROLS = [f"{c}_{s}" for s in ("i", "j") for c in ("edl", "ul", "fil", "hcl", "ftl", "gel")]
#: The sample rules written out independently of models.SAMPLES.
SAMPLE_RULES = {
    "all": lambda p: np.ones(len(p), bool),
    "down_gradient": lambda p: (p["edl_i"] > p["edl_j"]).to_numpy(),
    "up_gradient": lambda p: (p["edl_i"] < p["edl_j"]).to_numpy(),
    "down_gradient_pop": lambda p: (p["pop_i"] > p["pop_j"]).to_numpy(),
    "up_gradient_pop": lambda p: (p["pop_i"] < p["pop_j"]).to_numpy(),
    "developed": lambda p: (p["edl_i"] > p["edl_j"]).to_numpy(),
    "less_developed": lambda p: (p["edl_i"] < p["edl_j"]).to_numpy(),
}


def all_specs(panel: pd.DataFrame, params) -> list[models.Spec]:
    return models.published_specs() + models.tier_specs(pipeline.tiers_present(panel, params))


@pytest.fixture(scope="module")
def ci_results(ci_study, ci_params) -> pd.DataFrame:
    """Every model of the ci book, as the book estimates them (:func:`pipeline.estimates`)."""
    est = pipeline.estimates(ci_study)
    assert len(est) == len(all_specs(ci_study.panel, ci_params))
    return est


# ----------------------------------------------------------------------------- registry coverage

def test_every_published_row_has_a_registered_spec():
    pub = reference.published_tables()
    specs = {s.key: s for s in models.published_specs()}
    assert len(specs) == len(pub)  # keys unique
    for r in pub.itertuples():
        s = specs[f"{r.table}:{r.column}"]
        assert (s.dependent, s.regressors[0], s.sample, s.controls) == \
            (r.dependent, r.regressor, r.sample, r.controls == "yes")
        assert s.sample in models.SAMPLES


def test_published_sample_sizes_follow_the_sample_names():
    """273 cities: 74,256 ordered pairs; 'all' has both periods, every half one pair-period each."""
    pub = reference.published_tables()
    pairs = 273 * 272
    expected = np.where(pub["sample"] == "all", 2 * pairs, pairs)
    assert (pub["nobs"].to_numpy() == expected).all()


def test_registry_covers_tier_and_synergy_models_for_every_tier(ci_params):
    tiers = panel_mod.tier_labels(ci_params.distance_tiers_km)
    specs = models.tier_specs(tiers)
    assert len({s.key for s in specs}) == len(specs)
    for tier in tiers:
        tier_models = [s for s in specs if s.table == f"tier_{tier}"]
        assert {(s.sample, s.regressors) for s in tier_models} == {
            (g, (r,)) for g in ("down_gradient", "up_gradient") for r in ("connectivity_HSR", "connectivity_I")}
        syn = [s for s in specs if s.table == f"synergy_{tier}"]
        three = {"connectivity_HSR", "connectivity_I", "connectivity_double"}
        assert all(set(s.regressors) == three and s.tier == tier for s in syn)
        for g in ("down_gradient", "up_gradient"):  # each coefficient reported once per gradient
            assert sorted(s.regressors[0] for s in syn if s.sample == g) == sorted(three)
        assert all(s.dependent == "IT" and s.controls for s in tier_models + syn)


def test_every_spec_is_estimated_once(ci_results, ci_study, ci_params):
    specs = all_specs(ci_study.panel, ci_params)
    assert sorted(ci_results["key"]) == sorted(s.key for s in specs) and ci_results["key"].is_unique
    assert [c for c in ci_results.columns if c not in ("data_source", "money_unit")] == list(models.COLUMNS)
    identified = ci_results["identified"].astype(bool)
    assert ci_results.loc[identified, ["coef", "se", "p", "se_pair", "se_twoway", "p_twoway"]].notna().all().all()
    assert (ci_results.loc[~identified, "note"].str.startswith("not identified")).all()
    assert ci_results.loc[~identified, ["coef", "se", "se_pair", "se_origin", "se_twoway"]].isna().all().all()
    assert (ci_results.loc[~identified, ["stars", "stars_pair", "stars_twoway"]] == "").all().all()
    dyadic_ok = identified & ~ci_results["note"].str.contains("dyadic-clustered")  # not reported, or not positive
    assert ci_results.loc[dyadic_ok, ["se_dyadic", "p_dyadic"]].notna().all().all()


# ----------------------------------------------------------------------------- pyfixest, the reference

#: pyfixest's own demeaner run to convergence: at its default tolerance (1e-6) the demeaning leaves
#: relative errors up to a few 1e-6 in the SEs of this panel, too coarse for a 1e-8 comparison.
TIGHT = MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000)
PF_VCOV = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"}, "twoway": {"CRV1": "origin+dest"}}


def _feols(fml: str, data: pd.DataFrame, vcov: dict | str = "iid"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, data, vcov=vcov, ssc=engine.SSC, fixef_rm="none", demeaner=TIGHT)


def _dyadic_meat(scores: np.ndarray, origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """sum over every (i, j) whose pairs share a city in any role of s_i s_j': the O(N^2)
    definition (Fafchamps and Gubert 2007; Aronow, Samii and Assenova 2015)."""
    share = ((origin[:, None] == origin[None, :]) | (origin[:, None] == dest[None, :])
             | (dest[:, None] == origin[None, :]) | (dest[:, None] == dest[None, :]))
    return scores.T @ (share.astype(float) @ scores)


def test_every_book_model_equals_converged_pyfixest(ci_results, ci_study, ci_params):
    """``fit_specs`` (the book's estimates, through the engine) on every spec of the ci book against
    one plain ``pf.feols`` per spec with a converged demeaner, the samples written out
    independently: same N, R2, controls kept, coefficient to 1e-8, and the SE under pair, origin
    and two-way clustering (pyfixest's ``Feols.vcov`` on that fit) to 1e-8, with their p and G; the
    dyadic SE to 1e-8 against the O(N^2) double sum over pyfixest's scores. Not-identified models
    are checked against pyfixest too: an exact fit (residuals zero, df_resid = 0) or a regressor
    pyfixest drops. The comparison covers singleton pairs (gradient halves), a saturated tier and
    two-way clustering: the end asserts that it did."""
    pan = ci_study.panel
    ours = ci_results.set_index("key")
    leave_out = panel_mod.controls_left_out(ci_study.data)
    controls = [c for c in CONTROLS if c.rsplit("_", 1)[0] not in leave_out]
    seen = {"singletons": 0, "saturated": 0, "dropped_regressor": 0, "se": 0, "twoway": 0, "dyadic": 0}
    failures: dict[str, list[str]] = {}
    for s in all_specs(pan, ci_params):
        mask = SAMPLE_RULES[s.sample](pan) & ((pan["tier"] == s.tier).to_numpy() if s.tier else True)
        data = pan.loc[mask]
        dep = f"{s.dependent}_i" if s.dependent.startswith("factor_") else s.dependent
        fit = _feols(f"{dep} ~ {' + '.join(list(s.regressors) + (controls if s.controls else []))} | pair_id + period",
                     data, PF_VCOV["pair"])
        row, reg, bad = ours.loc[s.key], s.regressors[0], []
        kept = [str(c) for c in fit._coefnames]
        n_pairs, n_periods = data["pair_id"].nunique(), data["period"].nunique()
        df_resid = fit._N - n_pairs - (n_periods - 1) - len(kept)
        seen["singletons"] += int((data.groupby("pair_id").size() == 1).any())
        if (row["nobs"], row["n_pairs"], row["df_resid"]) != (fit._N, n_pairs, df_resid):
            bad.append(f"nobs, pairs, df_resid {(row['nobs'], row['n_pairs'], row['df_resid'])} != "
                       f"{(fit._N, n_pairs, df_resid)}")
        if [c for c in kept if c in CONTROLS] != (row["controls_in"].split(";") if row["controls_in"] else []):
            bad.append(f"controls kept by pyfixest {kept} != controls_in {row['controls_in']}")
        for name in ("r2", "r2_within"):
            if row[name] != pytest.approx(getattr(fit, f"_{name}"), rel=1e-8, abs=1e-10):
                bad.append(f"{name} {row[name]} != {getattr(fit, f'_{name}')}")
        if reg not in kept:
            seen["dropped_regressor"] += 1
            if row["identified"] or not row["note"].startswith(f"not identified: {reg}"):
                bad.append(f"pyfixest drops {reg}; ours: identified={row['identified']}, note={row['note']!r}")
        elif df_resid == 0:
            seen["saturated"] += 1
            if np.abs(fit._u_hat).max() > 1e-6 * np.abs(fit._Y).max():
                bad.append("df_resid = 0 but pyfixest's residuals are not zero")
            if row["identified"] or row["note"] != models.NO_DF or not np.isnan(row["coef"]):
                bad.append(f"saturated fit reported: identified={row['identified']}, note={row['note']!r}")
        elif not row["identified"]:
            bad.append(f"not identified although pyfixest estimates it: {row['note']!r}")
        else:
            if row["coef"] != pytest.approx(fit.coef()[reg], rel=1e-8):
                bad.append(f"coef {row['coef']} != {fit.coef()[reg]}")
            j = kept.index(reg)
            for c in ("pair", "origin", "twoway"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit.vcov(PF_VCOV[c])
                    se, p = fit.se()[reg], fit.pvalue()[reg]
                if row[f"g_{c}"] != min(fit._G):
                    bad.append(f"g_{c} {row[f'g_{c}']} != {min(fit._G)}")
                if np.isnan(row[f"se_{c}"]):  # left out by the rule G - 1 >= K: the note says so
                    if f"{c}-clustered" not in row["note"]:
                        bad.append(f"se_{c} missing without a note")
                    continue
                seen["se"] += 1
                seen["twoway"] += c == "twoway"
                if row[f"se_{c}"] != pytest.approx(se, rel=1e-8):
                    bad.append(f"se_{c} {row[f'se_{c}']} != {se}")
                if row[f"p_{c}"] != pytest.approx(p, rel=1e-6, abs=1e-12):
                    bad.append(f"p_{c} {row[f'p_{c}']} != {p}")
            N, G, K = fit._N, len(set(data["origin"]) | set(data["dest"])), len(kept) + n_periods
            meat = _dyadic_meat(fit._scores, data["origin"].to_numpy(), data["dest"].to_numpy())
            v = G / (G - 1) * (N - 1) / (N - K) * (fit._bread @ meat @ fit._bread)[j, j]
            if not np.isnan(row["se_dyadic"]):
                seen["dyadic"] += 1
                if row["se_dyadic"] != pytest.approx(np.sqrt(v), rel=1e-8):
                    bad.append(f"se_dyadic {row['se_dyadic']} != {np.sqrt(v)} (double sum)")
        if bad:
            failures[s.key] = bad
    assert not failures, failures
    # what the comparison must have covered
    assert seen["singletons"] >= 40 and seen["saturated"] >= 1 and seen["dropped_regressor"] >= 1, seen
    assert seen["twoway"] >= 60 and seen["dyadic"] >= 60 and seen["se"] >= 180, seen


def test_variance_recomputed_on_a_fit_equals_a_fresh_fit(ci_study):
    """pyfixest's ``Feols.vcov`` re-computes the variance on an existing fit exactly: the same as
    fitting again with that clustering (so the reference above may re-use one fit per model)."""
    data = models.sample_rows(ci_study.panel, "less_developed")
    fml = f"factor_tech_i ~ connectivity_I + {' + '.join(CONTROLS)} | pair_id + period"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = pf.feols(fml, data, vcov={"CRV1": "pair_id"}, ssc=engine.SSC, fixef_rm="none")
        for v in ("origin", "origin+dest", "pair_id"):
            fresh = pf.feols(fml, data, vcov={"CRV1": v}, ssc=engine.SSC, fixef_rm="none")
            fit.vcov({"CRV1": v})
            np.testing.assert_allclose(fit._vcov, fresh._vcov, rtol=1e-12, atol=0)


# ----------------------------------------------------------------------------- simulated panel

BETA = {"connectivity_HSR": 0.8, "connectivity_I": -0.5}


def simulated_panel(n_cities: int, seed: int, reps: int = 1) -> pd.DataFrame:
    """Ordered pairs x 2 periods with known effects: IT = 0.8 HSR - 0.5 I + controls + mu_ij
    + eta_t + e; pair effects correlated with the regressors; errors heteroskedastic across pairs
    and correlated within pairs. ``reps`` outcomes y0..y{reps-1} share X and differ in errors."""
    rng = np.random.default_rng(seed)
    o, d = np.array([(i, j) for i in range(n_cities) for j in range(n_cities) if i != j]).T
    n_pairs = len(o)
    mu = rng.normal(0, 2, n_pairs)
    frames = []
    city_ctrl = rng.normal(size=(2, n_cities, 6))
    for t in range(2):
        f = pd.DataFrame({"origin": o, "dest": d, "pair_id": np.arange(n_pairs), "period": t})
        f["connectivity_HSR"] = rng.poisson(np.exp(0.3 * mu / 2) * (0.4 + 0.6 * t))
        f["connectivity_I"] = 2 + 0.5 * mu + 0.7 * t + rng.normal(size=n_pairs)
        for k, c in enumerate(("edl", "ul", "fil", "hcl", "ftl", "gel")):
            f[f"{c}_i"] = city_ctrl[t, o, k]
            f[f"{c}_j"] = city_ctrl[t, d, k]
        frames.append(f)
    pan = pd.concat(frames, ignore_index=True)
    alpha = np.linspace(-0.4, 0.4, len(CONTROLS))
    mean = (BETA["connectivity_HSR"] * pan["connectivity_HSR"] + BETA["connectivity_I"] * pan["connectivity_I"]
            + pan[CONTROLS].to_numpy() @ alpha + np.tile(mu, 2) + 1.5 * pan["period"])
    scale = np.tile(rng.uniform(0.5, 2.0, n_pairs), 2)
    ys = {}
    for r in range(reps):
        common = np.tile(rng.normal(size=n_pairs), 2)  # within-pair correlation
        ys[f"y{r}"] = mean + scale * (0.6 * common + rng.normal(size=len(pan)))
    return pd.concat([pan.assign(tier=""), pd.DataFrame(ys)], axis=1)


def both_coefficients(dep: str) -> list[models.Spec]:
    regs = ("connectivity_HSR", "connectivity_I")
    return [models.Spec("sim", k, dep, regs if k == 1 else regs[::-1]) for k in (1, 2)]


def test_known_effects_are_recovered_on_a_simulated_panel():
    pan = simulated_panel(40, seed=11)
    res = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor")
    for reg, beta in BETA.items():
        r = res.loc[reg]
        assert r["nobs"] == 40 * 39 * 2
        assert abs(r["coef"] - beta) < 4 * r["se"], reg
        assert r["ci95_low"] < beta < r["ci95_high"], reg
        assert r["se"] < 0.1  # informative: the check above is not vacuous


def test_clustered_standard_errors_are_calibrated_by_monte_carlo():
    """Across 120 error draws, the mean reported SE matches the spread of the estimates and 95%
    intervals cover the truth about 95% of the time (an areg-style count of the pair effects
    would inflate the SEs by ~1.41 on two periods and push coverage towards 99%)."""
    reps = 120
    pan = simulated_panel(25, seed=5, reps=reps)
    specs = [s for r in range(reps) for s in both_coefficients(f"y{r}")]
    res = models.fit_specs(pan, specs)
    for reg, beta in BETA.items():
        sub = res[res["regressor"] == reg]
        ratio = sub["se"].mean() / sub["coef"].std()
        cover = ((sub["ci95_low"] < beta) & (beta < sub["ci95_high"])).mean()
        assert 0.8 < ratio < 1.25, (reg, ratio)  # sd of 120 draws: about 6.5% sampling error
        assert 0.88 <= cover <= 0.99, (reg, cover)


def hand_crv1(pan: pd.DataFrame, y: str, xs: list[str], cluster: str) -> tuple[np.ndarray, np.ndarray, int]:
    """OLS with explicit pair and period dummies; CRV0 sandwich of the within-transformed
    regressors (FWL), uncorrected; returns (coef, unscaled variance diagonal, number of clusters)."""
    dummies = np.hstack([pd.get_dummies(pan["pair_id"]).to_numpy(float),
                         pd.get_dummies(pan["period"], drop_first=True).to_numpy(float)])
    x = pan[xs].to_numpy(float)
    z = np.hstack([x, dummies])
    coef = np.linalg.lstsq(z, pan[y].to_numpy(), rcond=None)[0]
    u = pan[y].to_numpy() - z @ coef
    xt = x - dummies @ np.linalg.lstsq(dummies, x, rcond=None)[0]
    bread = np.linalg.inv(xt.T @ xt)
    groups = pan[cluster].to_numpy()
    scores = np.array([xt[groups == g].T @ u[groups == g] for g in np.unique(groups)])
    return coef[: len(xs)], np.diag(bread @ (scores.T @ scores) @ bread), len(np.unique(groups))


def test_clustered_se_convention_matches_hand_computed_crv1():
    """V = G/(G-1) (N-1)/(N-K) CRV0 with K = regressors + (periods - 1) + 1: pair effects nested in
    the clusters are not counted (engine.SSC, as reghdfe / fixest)."""
    pan = simulated_panel(9, seed=3)
    xs = ["connectivity_HSR", "connectivity_I"] + CONTROLS
    coef, v0, g = hand_crv1(pan, "y0", xs, "pair_id")
    n, k = len(pan), len(xs) + (2 - 1) + 1
    res = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor")
    for j, reg in enumerate(xs[:2]):
        assert res.loc[reg, "coef"] == pytest.approx(coef[j], rel=1e-9)
        assert res.loc[reg, "se"] == pytest.approx(np.sqrt(v0[j] * g / (g - 1) * (n - 1) / (n - k)), rel=1e-9)
    assert engine.SSC == pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")
    # the areg-style alternative counts every pair effect: larger by sqrt((N-K)/(N-K-G+1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full = pf.feols(f"y0 ~ {' + '.join(xs)} | pair_id + period", pan, vcov={"CRV1": "pair_id"},
                        fixef_rm="none", ssc=pf.ssc(k_fixef="full"))
    factor = models.areg_se_factor(n, g, k)
    assert full.se()["connectivity_HSR"] == pytest.approx(res.loc["connectivity_HSR", "se"] * factor, rel=1e-9)
    assert factor > 1.3


def test_twoway_clustering_runs_and_differs_from_pair_clustering(ci_study):
    spec = [s for s in models.published_specs() if s.key == "gradient_scale:3"]
    pair = models.fit_specs(ci_study.panel, spec, "pair").iloc[0]
    two = models.fit_specs(ci_study.panel, spec, "twoway").iloc[0]
    assert two["cluster"] == "twoway" and pair["cluster"] == "pair"
    assert two["coef"] == pytest.approx(pair["coef"], rel=1e-12)
    assert np.isfinite(two["se"]) and two["se"] > 0
    assert abs(two["se"] / pair["se"] - 1) > 0.01
    with pytest.raises(ValueError, match="unknown cluster"):
        models.fit_specs(ci_study.panel, spec, "pairs")


# ----------------------------------------------------------------------------- sample sizes

def test_sample_sizes_follow_from_the_design(ci_results, ci_study):
    pan, n = ci_study.panel, len(ci_study.data.cities)
    pairs = n * (n - 1)
    assert len(pan) == 2 * pairs
    sizes = {name: len(models.sample_rows(pan, name)) for name in models.SAMPLES}
    assert sizes["all"] == 2 * pairs
    for half in ("down_gradient", "up_gradient", "down_gradient_pop", "up_gradient_pop",
                 "developed", "less_developed"):
        assert sizes[half] == pairs, half
    pub = ci_results[ci_results["tier"] == ""]
    assert (pub["nobs"] == np.where(pub["sample"] == "all", 2 * pairs, pairs)).all()


def test_tiers_partition_the_rows_inside_the_tier_edges(ci_results, ci_study, ci_params):
    pan, edges = ci_study.panel, ci_params.distance_tiers_km
    inside = (pan["distance_km"] >= edges[0]) & (pan["distance_km"] < edges[-1])
    tiers = pipeline.tiers_present(pan, ci_params)
    rows = {t: len(models.sample_rows(pan, "all", t)) for t in tiers}
    assert sum(rows.values()) == inside.sum()
    assert ((pan["tier"] != "") == inside).all()
    res = ci_results.set_index("key")
    for t in tiers:
        assert res.loc[f"synergy_{t}:1", "nobs"] + res.loc[f"synergy_{t}:4", "nobs"] == rows[t]
        assert res.loc[f"tier_{t}:1", "nobs"] + res.loc[f"tier_{t}:3", "nobs"] == rows[t]
        lo, hi = (float(x) for x in t.split("-"))
        assert pan.loc[pan["tier"] == t, "distance_km"].between(lo, hi, inclusive="left").all()


# ----------------------------------------------------------------------------- the deck's parentheses

@pytest.mark.parametrize("coef, paren, stars, expected", [
    (0.094, 0.042, "**", "se"),       # 0.094 / 0.042 = 2.24: ** only as a standard error
    (3.534, 2.594, "***", "t"),       # 3.534 / 2.594 = 1.36 would carry no star; t = 2.594 gives ***
    (-0.388, -2.983, "***", "t"),     # a negative parenthesis can only be a t statistic
    (0.406, 0.150, "***", "se"),
    (-0.003, 0.017, "", "se"),        # positive parenthesis under a negative coefficient: not a t
    (1.348, 1.187, "", "ambiguous"),  # t = 1.187 and 1.348 / 1.187 = 1.14: both carry no star
])
def test_paren_convention(coef, paren, stars, expected):
    assert models.paren_convention(coef, paren, stars) == expected


def test_paren_convention_of_every_published_cell_is_consistent_with_its_stars():
    pub = reference.published_tables()
    pub["stars"] = pub["stars"].fillna("")
    for r in pub.itertuples():
        kind = models.paren_convention(r.coef, r.paren, r.stars)
        if kind == "t":
            assert models.stars(2 * (1 - _normal_cdf(abs(r.paren)))) == r.stars
        elif kind == "se":
            assert models.stars(2 * (1 - _normal_cdf(abs(r.coef / r.paren)))) == r.stars


def _normal_cdf(x: float) -> float:
    from math import erf, sqrt
    return 0.5 * (1 + erf(x / sqrt(2)))


@pytest.mark.parametrize("p, expected", [(0.0, "***"), (0.0099, "***"), (0.01, "**"), (0.049, "**"),
                                         (0.05, "*"), (0.0999, "*"), (0.1, ""), (0.7, ""),
                                         (float("nan"), "")])
def test_stars(p, expected):
    assert models.stars(p) == expected

# ----------------------------------------------------------------------------- inference that fits the data

def test_saturated_tier_is_not_identified_and_prints_no_stars(ci_results):
    """The 0-200 km tier at ci scale holds 16 pairs (14 seen twice) for 13 regressors and a period
    effect: zero residual degrees of freedom, R2 = 1, and (on the old code) t statistics in the
    hundreds of thousands with ***. It must show no coefficient, no SE and no stars."""
    tier = ci_results[ci_results["tier"] == "0-200"]
    assert len(tier) == 10
    assert (tier["df_resid"] == 0).all() and (tier["r2"] > 1 - 1e-6).all()
    assert not tier["identified"].any()
    assert (tier["note"] == models.NO_DF).all()
    stat_cols = ["coef", "se", "t", "p"] + [f"{s}_{c}" for c in ("pair", "origin", "twoway") for s in ("se", "t", "p")]
    assert tier[stat_cols].isna().all().all()
    assert (tier[["stars"] + [f"stars_{c}" for c in models.CLUSTERINGS]] == "").all().all()


def random_panel(n_pairs: int, n_cities: int, seed: int) -> pd.DataFrame:
    """``n_pairs`` pairs x 2 periods among ``n_cities`` cities, every regressor and control drawn
    per row (none collinear), outcome y0 = 0.5 HSR + noise."""
    rng = np.random.default_rng(seed)
    k = np.arange(n_pairs)
    pan = pd.concat([pd.DataFrame({"origin": k % n_cities, "dest": (k // n_cities) % n_cities, "pair_id": k,
                                   "period": t, "tier": ""}) for t in range(2)], ignore_index=True)
    for c in ["connectivity_HSR", "connectivity_I"] + CONTROLS:
        pan[c] = rng.normal(size=len(pan))
    pan["y0"] = 0.5 * pan["connectivity_HSR"] + rng.normal(size=len(pan))
    return pan


def test_identification_rule_on_small_panels():
    """K = 2 regressors + 12 controls + 1 period effect = 15 parameters within pairs.
    20 pairs: df_resid = 40 - 20 - 1 - 14 = 5 < K: not identified, with the numbers.
    30 pairs among 6 cities: df_resid = 60 - 30 - 15 = 15 >= K: identified; pair clustering has 30
    clusters (G - 1 >= K) but origin, two-way and dyadic clustering only 6 origins, 5 destinations
    and 6 cities: their SEs are not reported, and the note says why."""
    r = models.fit_specs(random_panel(20, 6, 1), both_coefficients("y0")).set_index("regressor").loc["connectivity_HSR"]
    assert (r["df_resid"], r["n_params"]) == (5, 15) and not r["identified"] and np.isnan(r["coef"])
    assert r["note"] == "not identified (too few residual degrees of freedom: 5 for 15 parameters)"
    r = models.fit_specs(random_panel(30, 6, 1), both_coefficients("y0"),
                         cluster="twoway").set_index("regressor").loc["connectivity_HSR"]
    assert (r["df_resid"], r["n_params"]) == (15, 15) and r["identified"]
    assert np.isfinite(r["coef"]) and np.isfinite(r["se_pair"]) and r["g_pair"] == 30
    assert np.isnan(r["se_twoway"]) and r["stars_twoway"] == "" and np.isnan(r["se"])  # headline = twoway
    assert np.isnan(r["se_origin"])
    assert r["note"] == ("origin-clustered SE not reported: 6 clusters for 15 parameters; "
                         "twoway-clustered SE not reported: 5 clusters for 15 parameters; "
                         "dyadic-clustered SE not reported: 6 clusters for 15 parameters")  # 6 origins, 5 dests
    r = models.fit_specs(random_panel(15, 6, 1), both_coefficients("y0")).set_index("regressor").loc["connectivity_HSR"]
    assert r["df_resid"] == 0 and r["note"] == models.NO_DF and r["stars_pair"] == ""


def test_regressor_changing_in_one_pair_gets_no_standard_error():
    """HSR changes within one pair only: its first difference has leverage 1 and a zero residual, so
    the coefficient is that pair's change and no clustered variance of it is estimable. The rule
    (models.MIN_VARYING_FOR_SE) keeps the coefficient and reports no SE, p or stars (a review found
    p = 4e-103 printed on one pair); with two changing pairs the SEs are reported."""
    pan = random_panel(60, 12, 3)
    pan["connectivity_HSR"] = 0.0
    pan.loc[(pan["pair_id"] == 7) & (pan["period"] == 1), "connectivity_HSR"] = 1.0
    pan["y0"] = 0.5 * pan["connectivity_HSR"] + np.random.default_rng(0).normal(size=len(pan))
    r = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor").loc["connectivity_HSR"]
    assert r["identified"] and np.isfinite(r["coef"])
    assert r[["se", "p", "se_pair", "se_twoway", "p_twoway"]].isna().all() and r["stars"] == r["stars_pair"] == ""
    assert "changes within 1 pair only" in r["note"]
    pan.loc[(pan["pair_id"] == 9) & (pan["period"] == 1), "connectivity_HSR"] = 1.0
    r = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor").loc["connectivity_HSR"]
    assert np.isfinite(r["se_pair"]) and "pair only" not in r["note"]


def test_hand_computed_twoway_se():
    """Two-way clustering re-derived with explicit dummies: V = c (B M_origin B + B M_dest B -
    B M_pair B) with c = G/(G-1) (N-1)/(N-K), G = min(origins, destinations) (Cameron, Gelbach
    and Miller 2011; engine.SSC)."""
    pan = simulated_panel(20, seed=4)
    xs = ["connectivity_HSR", "connectivity_I"] + CONTROLS
    _, v_o, g_o = hand_crv1(pan, "y0", xs, "origin")
    _, v_d, g_d = hand_crv1(pan, "y0", xs, "dest")
    _, v_p, _ = hand_crv1(pan, "y0", xs, "pair_id")
    n, k, g = len(pan), len(xs) + (2 - 1) + 1, min(g_o, g_d)
    res = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor")
    for j, reg in enumerate(xs[:2]):
        hand = np.sqrt(g / (g - 1) * (n - 1) / (n - k) * (v_o[j] + v_d[j] - v_p[j]))
        assert res.loc[reg, "se_twoway"] == pytest.approx(hand, rel=1e-9)
        assert res.loc[reg, "g_twoway"] == g == 20


def city_shock_panel(n_cities: int, seed: int, reps: int) -> pd.DataFrame:
    """Ordered pairs x 2 periods; the regressor has an origin-city, a destination-city and a pair
    component; ``reps`` outcomes y0.. are origin-city-period shocks independent of everything (a
    city-level outcome with a true coefficient of 0) plus a little pair noise."""
    rng = np.random.default_rng(seed)
    o, d = np.array([(i, j) for i in range(n_cities) for j in range(n_cities) if i != j]).T
    a, b = rng.normal(size=(2, 2, n_cities))
    frames = []
    for t in range(2):
        f = pd.DataFrame({"origin": o, "dest": d, "pair_id": np.arange(len(o)), "period": t, "tier": ""})
        f["connectivity_I"] = a[t, o] + b[t, d] + rng.normal(size=len(o))
        frames.append(f)
    pan = pd.concat(frames, ignore_index=True)
    shocks = rng.normal(size=(reps, 2, n_cities))
    per, org = pan["period"].to_numpy(), pan["origin"].to_numpy()
    ys = {f"y{r}": shocks[r, per, org] + 0.1 * rng.normal(size=len(pan)) for r in range(reps)}
    return pd.concat([pan, pd.DataFrame(ys)], axis=1)


def test_pair_clustering_over_rejects_for_city_level_outcomes():
    """A city-level outcome with no effect: clustering by pair treats the 19 pairs of a city as
    independent and rejects the true null far more often than 5%; two-way clustering does not."""
    reps = 60
    pan = city_shock_panel(20, seed=7, reps=reps)
    specs = [models.Spec("placebo", r, f"y{r}", ("connectivity_I",), controls=False) for r in range(reps)]
    res = models.fit_specs(pan, specs)
    reject = {c: float((res[f"p_{c}"] < 0.05).mean()) for c in ("pair", "origin", "twoway")}
    assert reject["pair"] > 0.3, reject
    assert reject["twoway"] <= 0.15 and reject["origin"] <= 0.15, reject
    assert (res["se_twoway"] / res["se_pair"]).median() > 2


def test_zero_effect_synthetic_world_pair_clustering_over_rejects():
    """The synthetic world with no planted effect (both trade knobs 0), ci scale: a city-level
    placebo outcome (an origin-city-period shock, the same in every pair of the city, true
    coefficient 0) on connectivity_I with the study's controls. Pair clustering rejects it at 5%
    in about 30% of 100 draws; two-way clustering in at most half as many (it still over-rejects
    somewhat with 41 cities). benchmarks/inference_size.py runs more seeds and scales."""
    from intercity import schema, transfer
    from intercity.sources import synthetic

    seed, draws = 20121517, 100
    p = params.from_mapping({"data_source": "synthetic", "scale": 0.15, "seed": seed})
    raw = synthetic.generate(p.n_cities, seed, list(range(2011, 2018)), list(p.periods), p.mrio_years,
                             synthetic.Knobs(hsr_trade_effect=0.0, info_trade_effect=0.0))
    data = schema.StudyData(source="synthetic", cities=raw["cities"], city_year=raw["city_year"],
                            pair_year=raw["pair_year"], mrio=raw["mrio"], ledger=raw["ledger"])
    transfers, _ = transfer.measure(data, p.periods)
    pan, _ = panel_mod.build(data, transfers, p.periods, p.distance_tiers_km)
    rng = np.random.default_rng(seed)
    pos = {c: k for k, c in enumerate(data.city_ids)}
    origin, period = pan["origin"].map(pos).to_numpy(), pd.factorize(pan["period"])[0]
    shocks = rng.normal(size=(draws, 2, len(pos)))
    pan = pd.concat([pan, pd.DataFrame({f"y{r}": shocks[r, period, origin] for r in range(draws)},
                                       index=pan.index)], axis=1)
    res = models.fit_specs(pan, [models.Spec("placebo", r, f"y{r}", ("connectivity_I",)) for r in range(draws)])
    reject = {c: float((res[f"p_{c}"] < 0.05).mean()) for c in ("pair", "twoway")}
    assert reject["pair"] >= 0.2 and reject["twoway"] <= 0.15 and reject["pair"] >= 2 * reject["twoway"], reject


# ----------------------------------------------------------------------------- controls named

def test_constant_and_imputed_controls_are_left_out_and_named(ci_study):
    """On a bundle where college_per_pop is one imputed value (as the public source's hcl) and
    gov_exp_gdp is imputed for every city (but varies), both are left out of every formula before
    fitting, named with their reason, and the coefficients equal a direct fit without them."""
    import copy

    data = copy.copy(ci_study.data)
    cy = data.city_year.copy()
    cy["college_per_pop"] = 0.0123
    cy["prov_college_per_pop"] = pd.Categorical(["imputed"] * len(cy), categories=cy["prov_college_per_pop"].cat.categories)
    cy["prov_gov_exp_gdp"] = pd.Categorical(["imputed"] * len(cy), categories=cy["prov_gov_exp_gdp"].cat.categories)
    data.city_year = cy
    leave_out = panel_mod.controls_left_out(data)
    assert set(leave_out) == {"hcl", "gel"}
    assert leave_out["hcl"].startswith("constant on this source (college_per_pop = 0.0123")
    assert leave_out["gel"].startswith("imputed for every city and year")
    spec = [s for s in models.published_specs() if s.key == "gradient_scale:2"]
    row = models.fit_specs(ci_study.panel, spec, leave_out=leave_out).iloc[0]
    assert row["controls_in"].split(";") == ["edl_i", "ul_i", "fil_i", "ftl_i", "edl_j", "ul_j", "fil_j", "ftl_j"]
    out = dict(part.split(": ", 1) for part in row["controls_out"].split("; "))
    assert set(out) == {"hcl_i", "gel_i", "hcl_j", "gel_j"} and out["hcl_j"] == leave_out["hcl"]
    kept = ["edl_i", "ul_i", "fil_i", "ftl_i", "edl_j", "ul_j", "fil_j", "ftl_j"]
    data_rows = models.sample_rows(ci_study.panel, "up_gradient")
    fit = _feols(f"IT ~ connectivity_HSR + {' + '.join(kept)} | pair_id + period", data_rows)
    assert row["coef"] == pytest.approx(fit.coef()["connectivity_HSR"], rel=1e-9)


def test_control_without_within_pair_variation_is_named_not_dropped_silently(ci_study):
    pan = ci_study.panel.copy()
    first = pan["period"] == pan["period"].iloc[0]
    fixed = pan.loc[first].set_index(["origin", "dest"])["ul_i"]
    pan["ul_i"] = pd.MultiIndex.from_frame(pan[["origin", "dest"]]).map(fixed).to_numpy()  # time-invariant
    spec = [s for s in models.published_specs() if s.key == "gradient_scale:2"]
    row = models.fit_specs(pan, spec).iloc[0]
    assert "ul_i" not in row["controls_in"].split(";")
    assert "ul_i: no variation within pairs in this sample (absorbed by the pair effects)" in row["controls_out"]


# ----------------------------------------------------------------------------- nothing lost

def test_row_without_a_pair_id_is_named_not_dropped(ci_study):
    """A row without a pair id cannot be placed in a pair effect; rather than dropping it (pyfixest
    would, unrecorded), the estimation stops with one line naming the column and the row."""
    pan = ci_study.panel.copy()
    pan["pair_id"] = pan["pair_id"].astype(float)
    pan.loc[pan.index[3], "pair_id"] = np.nan
    spec = [s for s in models.published_specs() if s.key == "baseline_direction:1"]
    with pytest.raises(ValueError, match=r"panel column 'pair_id' is missing in row 3"):
        models.fit_specs(pan, spec)


def test_rows_the_estimator_would_drop_unrecorded_raise(ci_study, monkeypatch):
    """The N check: if the estimator reports another number of rows than fit_specs gave it (here an
    estimator that loses one), RuntimeError names the model instead of printing a wrong N."""
    from intercity import engine as engine_mod

    real = engine_mod.fit

    def losing(*args, **kwargs):
        out = real(*args, **kwargs)
        out.loc[0, "nobs"] -= 1
        return out

    monkeypatch.setattr(engine_mod, "fit", losing)
    spec = [s for s in models.published_specs() if s.key == "baseline_direction:1"]
    with pytest.raises(RuntimeError, match=r"model baseline_direction:1: the estimator used 3279 of the 3280 rows"):
        models.fit_specs(ci_study.panel, spec)


# ----------------------------------------------------------------------------- the contract

def test_estimates_follow_the_contract(ci_results, ci_study):
    est = ci_results
    contract = (["key", "table", "column", "sample", "tier", "dependent", "regressor", "data_source",
                 "controls", "controls_in", "controls_out", "nobs", "nobs_lost", "n_pairs", "df_resid",
                 "r2", "r2_within", "money_unit", "identified", "coef", "cluster", "note"]
                + [f"{s}_{c}" for c in models.CLUSTERINGS for s in (*models.STATS, "g")] + list(models.STATS))
    assert set(contract) <= set(est.columns)
    assert (est["money_unit"] == ci_study.params.money_unit).all() and (est["data_source"] == "synthetic").all()
    ok = est["identified"].astype(bool)
    for s in models.STATS:  # headline = the cluster parameter's
        pd.testing.assert_series_equal(est.loc[ok, s], est.loc[ok, f"{s}_{ci_study.params.cluster}"], check_names=False)
    cmp = models.compare_published(est)
    assert {"se_pair", "se_twoway", "p_pair", "p_twoway", "stars_pair", "stars_twoway", "controls_in",
            "same_stars_pair", "same_stars_twoway"} <= set(cmp.columns)
