"""The model registry and its estimation: coverage of the published tables, agreement with direct
pyfixest calls, recovery of known effects on a simulated panel, the clustered-SE convention
(hand-computed CRV1), sample sizes implied by the design, and the deck's parenthesis reading."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest

from intercity import models, panel as panel_mod, pipeline, reference

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
    return models.fit_specs(ci_study.panel, all_specs(ci_study.panel, ci_params))


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
    identified = ci_results["note"] == ""
    assert ci_results.loc[identified, ["coef", "se", "p"]].notna().all().all()
    assert (ci_results.loc[~identified, "note"].str.startswith("not identified")).all()


# ----------------------------------------------------------------------------- direct pyfixest

def test_registry_results_equal_direct_pyfixest_calls(ci_results, ci_study, ci_params):
    """Every spec (published, tiers, synergy), one plain ``pf.feols`` call each with pyfixest's
    default small-sample correction: same coefficient, standard error and N as the grouped fits."""
    pan = ci_study.panel
    ours = ci_results.set_index("key")
    for s in all_specs(pan, ci_params):
        mask = SAMPLE_RULES[s.sample](pan) & ((pan["tier"] == s.tier).to_numpy() if s.tier else True)
        dep = f"{s.dependent}_i" if s.dependent.startswith("factor_") else s.dependent
        rhs = list(s.regressors) + (CONTROLS if s.controls else [])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"{dep} ~ {' + '.join(rhs)} | pair_id + period", pan.loc[mask],
                           vcov={"CRV1": "pair_id"}, fixef_rm="none")
        row, reg = ours.loc[s.key], s.regressors[0]
        assert row["nobs"] == fit._N == mask.sum(), s.key
        if reg not in fit.coef().index:
            assert np.isnan(row["coef"]) and np.isnan(row["se"]), s.key
            continue
        assert row["coef"] == pytest.approx(fit.coef()[reg], rel=1e-9, abs=1e-12), s.key
        assert row["se"] == pytest.approx(fit.se()[reg], rel=1e-9, abs=1e-12), s.key
        assert row["p"] == pytest.approx(fit.pvalue()[reg], rel=1e-7, abs=1e-12), s.key


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
    the clusters are not counted (models.SSC, as reghdfe / fixest)."""
    pan = simulated_panel(9, seed=3)
    xs = ["connectivity_HSR", "connectivity_I"] + CONTROLS
    coef, v0, g = hand_crv1(pan, "y0", xs, "pair_id")
    n, k = len(pan), len(xs) + (2 - 1) + 1
    res = models.fit_specs(pan, both_coefficients("y0")).set_index("regressor")
    for j, reg in enumerate(xs[:2]):
        assert res.loc[reg, "coef"] == pytest.approx(coef[j], rel=1e-9)
        assert res.loc[reg, "se"] == pytest.approx(np.sqrt(v0[j] * g / (g - 1) * (n - 1) / (n - k)), rel=1e-9)
    assert models.SSC == pf.ssc(k_adj=True, k_fixef="nonnested", G_adj=True, G_df="min")
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
