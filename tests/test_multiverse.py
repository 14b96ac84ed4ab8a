"""The multiverse: every book specification built the multiverse's way (variant panel, sample
rules, study choices) through the engine against converged pyfixest; non-study choices against
pyfixest too; each choice's construction (transforms and units, end-year values, GDP gradient,
flips, municipalities, tiers, distance interactions); the specification grid and verdicts; the
exact permutation re-fits and the specification-curve test's size under no effect; Dask and a
plain loop giving the same multiverse.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
from pyfixest.demeaners import MapDemeaner

from intercity import choices, engine, figures, models, multiverse as mv, pipeline, scorecard, sweep

TIGHT = MapDemeaner(fixef_tol=1e-12, fixef_maxiter=100_000)
VCOV = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"}, "twoway": {"CRV1": "origin+dest"}}
REL = 1e-8


def _close(a: float, b: float, rel: float = REL) -> bool:
    return abs(a - b) <= rel * max(abs(a), abs(b))


def _pyfixest(data: pd.DataFrame, fml: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pf.feols(fml, data, vcov=VCOV["pair"], ssc=pf.ssc(**engine.SSC), fixef_rm="none", demeaner=TIGHT)


def _compare(row: pd.Series, data: pd.DataFrame, dep: str, regs: tuple, ctrl: tuple, clusters) -> list[str]:
    """Mismatches between an engine row and pyfixest on the same rows and formula."""
    reg = regs[0]
    try:
        fit = _pyfixest(data, f"{dep} ~ {' + '.join(regs + ctrl)} | pair_id + period")
    except ValueError as err:  # pyfixest refuses a model whose every regressor is collinear
        assert "All variables are collinear" in str(err)
        return [] if np.isnan(row["coef"]) and row["rank"] == 0 else ["pyfixest found nothing identified"]
    bad = []
    if row["nobs"] != fit._N:
        bad.append(f"nobs {row['nobs']} != {fit._N}")
    if reg not in fit.coef().index:
        if not np.isnan(row["coef"]):
            bad.append("pyfixest dropped the regressor, the engine did not")
        return bad
    if not _close(row["coef"], fit.coef()[reg]):
        bad.append(f"coef {row['coef']} != {fit.coef()[reg]}")
    if row["df_resid"] == 0:
        return bad  # saturated: both SEs are rounding noise (tests/test_engine.py)
    for c in clusters:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit.vcov(VCOV[c])
            se, p = fit.se()[reg], fit.pvalue()[reg]
        if np.isnan(se) and np.isnan(row[f"se_{c}"]):
            continue
        if not (_close(row[f"se_{c}"], se) and abs(row[f"p_{c}"] - p) <= 1e-10):
            bad.append(f"{c}: se {row[f'se_{c}']} vs {se}, p {row[f'p_{c}']} vs {p}")
    return bad


@pytest.fixture(scope="module")
def mvsetup(ci_params):
    return mv.setup(ci_params, ["synthetic"])


@pytest.fixture(scope="module")
def variants(ci_study, mvsetup):
    return {per: choices.variant_panel(ci_study, per, mvsetup.shifted_tiers_km) for per in ("average", "end_year")}


# ----------------------------------------------------------------------------- against pyfixest

def test_every_book_specification_built_the_multiverse_way_equals_pyfixest(ci_study, ci_params, variants):
    """All 102 book models (published rows, tier and synergy models) under the study's choices:
    the multiverse's columns and sample rules on the variant panel, fitted by the engine, equal
    pyfixest (converged demeaner) on the book's own panel and samples to 1e-8 in coefficient and
    SE, under pair, origin and two-way clustering. Covers singleton pairs (the gradient halves),
    a gradient sample, the saturated 0-200 km tier and HSR without variation in a tier."""
    panel = variants["average"]
    tiers = mv._study_tier_labels()
    specs = models.published_specs() + models.tier_specs(tiers)
    labels = ci_params.period_labels
    study_choice = {"source": "synthetic", "transform": "slog_10k", "controls": "study",
                    "gradient": "gdp_per_capita", "periods": "average", "sample": "all", "tiers": "study"}
    ms, rules, cols = [], {}, []
    for sp in specs:
        dims = mv.fit_dimensions(sp)
        choice = {d: (v if d in dims else "") for d, v in study_choice.items()}
        dep, regs, ctrl, _ = mv._model_columns(sp, choice, labels)
        rule = mv._rule(sp, choice)
        rules[rule.name] = rule
        ms.append(engine.Model(sp.key, dep, regs, ctrl, sample=rule.name))
        cols.append((dep, regs, ctrl))
    res = engine.fit(panel, ms, ("pair", "origin", "twoway"), samples=rules).set_index("key")
    assert len(specs) == 102
    grad = res.loc["gradient_scale:2"]
    assert grad["n_singletons"] > 0 and grad["nobs"] > grad["nobs_effective"]
    failures = {}
    book = ci_study.panel
    for sp, (dep, regs, ctrl) in zip(specs, cols):
        data = models.sample_rows(book, sp.sample, sp.tier)   # the book's own sample
        book_dep = sp.dependent_column
        book_regs = tuple(sp.regressors)
        book_ctrl = tuple(models.CONTROL_COLUMNS) if sp.controls else ()
        assert ctrl == book_ctrl
        bad = _compare(res.loc[sp.key], data, book_dep, book_regs, book_ctrl, ("pair", "origin", "twoway"))
        if bad:
            failures[sp.key] = bad
    assert not failures, failures
    assert (res["df_resid"] == 0).any() and res["note"].str.startswith("not identified").any()


def test_alternative_choices_equal_pyfixest(ci_params, mvsetup, variants):
    """A sample of the multiverse's other models (transforms, units, end-year values, GDP and
    population gradients, samples without municipalities or flipping pairs, distance
    interactions, shifted tiers) equal pyfixest on the variant panel's rows."""
    fits = mv.plan(mvsetup, ci_params.period_labels)
    ols = fits[(fits["method"] == "ols") & (fits["transform"] != "slog_10k")]
    pick = ols.sample(40, random_state=3)
    pick = pd.concat([pick, ols[(ols["periods"] == "end_year") & (ols["gradient"] == "gdp")
                                & (ols["sample"] == "no_gradient_flips") & (ols["controls"] == "study_distance")].head(4)])
    failures = {}
    for f in pick.itertuples():
        panel = variants[f.periods]
        res = engine.fit(panel, [engine.Model("m", f.dependent, tuple(f.regressors), tuple(f.controls_in),
                                              sample=f.rule.name)], ("pair", "twoway"), samples={f.rule.name: f.rule})
        data = panel.loc[f.rule(panel)]
        bad = _compare(res.iloc[0], data, f.dependent, tuple(f.regressors), tuple(f.controls_in), ("pair", "twoway"))
        if bad:
            failures[f"{f.key} {f.periods} {f.transform} {f.gradient} {f.sample} {f.controls} {f.tiers}"] = bad
    assert not failures, failures


# ----------------------------------------------------------------------------- the choices

def test_transforms_and_money_units():
    t = np.array([-2.5e6, -3.0, -0.4, 0.0, 0.4, 7.0, 1.2e5, np.nan])
    slog = choices.transformed(t, "slog_10k")
    assert np.allclose(slog[:7], np.sign(t[:7]) * np.log(1 + np.abs(t[:7]))) and np.isnan(slog[7])
    assert np.allclose(choices.transformed(t, "slog_yuan")[:7], np.sign(t[:7]) * np.log(1 + 1e4 * np.abs(t[:7])))
    assert np.allclose(choices.transformed(t, "slog_100m")[:7], np.sign(t[:7]) * np.log(1 + np.abs(t[:7]) / 1e4))
    # large transfers: a unit change is a shift of ln(1e4); near zero it is not
    assert abs(choices.transformed(t, "slog_yuan")[0] - slog[0] + np.log(1e4)) < 1e-5
    assert choices.transformed(np.array([0.4]), "slog_yuan")[0] - np.log1p(0.4) > 7
    ihs = choices.transformed(t, "ihs")
    a = np.abs(t[:7])
    assert np.allclose(ihs[:7], np.sign(t[:7]) * np.log(a + np.sqrt(a ** 2 + 1)))  # odd: no cancellation
    assert list(choices.transformed(t, "direction")[:7]) == [0, 0, 0, 0, 1, 1, 1]
    gross = choices.transformed(t, "ppml")
    assert (gross[:7] >= 0).all() and gross[5] == 7.0 and gross[0] == 0.0
    with pytest.raises(ValueError, match="unknown transform 'log'"):
        choices.transformed(t, "log")


def test_variant_panel_at_the_study_choices_is_the_book_panel(ci_study, variants):
    v, book = variants["average"], ci_study.panel
    assert len(v) == len(book) and (v["pair_id"].to_numpy() == book["pair_id"].to_numpy()).all()
    for it in choices.TRANSFER_OF:
        assert np.allclose(v[choices.column(it, "slog_10k")], book[it])
    assert (v["IT__direction"].to_numpy() == book["IT_direction"].to_numpy()).all()
    assert (v["down_gdp_per_capita"] == book["down_gradient"]).all()
    assert (v["down_population"] == book["down_gradient_pop"]).all()
    labels = choices.tier_index(v["distance_km"].to_numpy(), choices.STUDY_TIERS_KM)
    study_labels = np.array(mv._study_tier_labels() + [""])[np.where(labels < 0, -1, labels)]
    assert (study_labels == book["tier"].to_numpy()).all()


def test_end_year_values_are_the_end_years(ci_study, ci_params, variants):
    """End-year variant: connectivity, controls and mechanism factors in the year each period ends."""
    v, data = variants["end_year"], ci_study.data
    ends = {f"{a}-{b}": b for a, b in ci_params.periods}
    v = v.assign(year=v["period"].map(ends))
    py = data.pair_year.set_index(["origin", "dest", "year"])
    hsr = py["hsr_lines"].reindex(pd.MultiIndex.from_arrays([v["origin"], v["dest"], v["year"]])).to_numpy()
    assert np.allclose(v["connectivity_HSR"], hsr)
    idx = py["baidu_index"].reindex(pd.MultiIndex.from_arrays([v["origin"], v["dest"], v["year"]])).to_numpy()
    assert np.allclose(v["connectivity_I"], np.log1p(idx))
    cy = data.city_year.set_index(["city_id", "year"])
    gdppc_i = cy["gdp_per_capita"].reindex(pd.MultiIndex.from_arrays([v["origin"], v["year"]])).to_numpy()
    assert np.allclose(v["edl_i"], gdppc_i)
    fa = cy["fixed_assets"].reindex(pd.MultiIndex.from_arrays([v["origin"], v["year"]])).to_numpy()
    assert np.allclose(v["factor_fcapital_i"], np.log(fa))
    # the transfer does not depend on how yearly variables enter
    assert np.allclose(v["IT__slog_10k"], variants["average"]["IT__slog_10k"])
    assert not np.allclose(v["connectivity_I"], variants["average"]["connectivity_I"])


def test_gdp_gradient_flips_municipalities_and_distance_interactions(ci_study, ci_params, variants):
    v, data = variants["average"], ci_study.data
    cy = data.city_year
    a, b = ci_params.periods[0]
    first = cy[cy["year"].between(a, b)]
    gdp = (first["gdp_per_capita"] * first["population"]).groupby(first["city_id"]).mean()
    p1 = v[v["period"] == f"{a}-{b}"]
    expect = (gdp.reindex(p1["origin"]).to_numpy() > gdp.reindex(p1["dest"]).to_numpy()).astype(int)
    assert (p1["down_gdp"].to_numpy() == expect).all()
    assert 0 < p1["down_gdp"].mean() < 1 and (p1["down_gdp"] != p1["down_gdp_per_capita"]).any()
    for g in choices.GRADIENT_VARIABLES:
        n = v.groupby("pair_id")[f"down_{g}"].nunique()
        flipped = set(n.index[n > 1])
        assert set(v.loc[v[f"flip_{g}"] == 1, "pair_id"]) == flipped
    muni = v["origin"].isin(choices.MUNICIPALITIES) | v["dest"].isin(choices.MUNICIPALITIES)
    assert (v["municipality"].astype(bool) == muni).all() and muni.any()
    name = choices.distance_controls(ci_params.period_labels)[0]
    late = v["period"] == ci_params.period_labels[1]
    assert np.allclose(v.loc[late, name], np.log(v.loc[late, "distance_km"])) and (v.loc[~late, name] == 0).all()
    shifted = choices.tier_index(np.array([10.0, 249.9, 250.0, 3999.0, 4000.0]), (0, 250, 625, 1250, 2500, 4000))
    assert list(shifted) == [0, 0, 1, 4, -1]


def test_variant_panel_names_a_bad_choice(ci_study):
    with pytest.raises(ValueError, match="unknown periods choice 'midyear'"):
        choices.variant_panel(ci_study, "midyear")


# ----------------------------------------------------------------------------- the specifications

def test_each_claim_crosses_the_choices_that_apply_to_it(mvsetup):
    setup = mvsetup
    dims_b1, _ = mv.claim_dimensions(scorecard.CLAIMS[2], setup)       # B1: IT_direction, all pairs
    assert scorecard.CLAIMS[2].id == "B1"
    assert "transform" not in dims_b1 and "gradient" not in dims_b1 and "tiers" not in dims_b1
    assert {"source", "inference", "controls", "periods", "sample"} <= set(dims_b1)
    by = {c.id: c for c in mv.claims()}
    d, vals = mv.claim_dimensions(by["R3"], setup)                     # IT as the regressor: no PPML
    assert "transform" in d and "ppml" not in vals["transform"]
    d, _ = mv.claim_dimensions(by["R1"], setup)                        # population gradient stays
    assert "gradient" not in d
    d, _ = mv.claim_dimensions(by["F4"], setup)                        # "largest of" only: no inference
    assert "inference" not in d and "tiers" in d
    for claim in mv.claims():
        sp = mv.specifications(claim, setup)
        dims, values = mv.claim_dimensions(claim, setup)
        full = int(np.prod([len(values[x]) for x in dims]))
        with_ppml = "transform" in dims and "ppml" in values["transform"]
        # PPML crossed only with the study's other fitted choices (multiverse.ppml = "study")
        n_ppml = (full // len(values["transform"])) if with_ppml else 0
        others = [x for x in dims if x not in ("source", "transform", "inference")]
        kept = n_ppml // int(np.prod([len(values[x]) for x in others])) if with_ppml else 0
        assert len(sp) == full - n_ppml + kept, claim.id
        assert sp["study_spec"].sum() == len(setup.values["source"]), claim.id  # one per source
        assert not sp.duplicated(list(mv.DIMS)).any()


def test_registered_curves_are_the_regression_claims():
    assert figures.CURVE_CLAIMS == tuple(c.id for c in mv.claims())
    assert {c.id for c in scorecard.CLAIMS} - set(figures.CURVE_CLAIMS) == {"C1", "C2"}


@pytest.fixture(scope="module")
def small(ci_study, ci_params):
    """A small multiverse at ci scale computed in a plain loop (no Dask)."""
    p = ci_params.model_copy(update={"multiverse": ci_params.multiverse.model_copy(update={
        "transforms": ("slog_10k", "ihs", "ppml"), "controls": ("study", "none"),
        "gradients": ("gdp_per_capita", "gdp"), "samples": ("all", "no_gradient_flips"), "tier_sets": ("study",),
        "period_values": ("average",), "permutations": 19, "workers": 0})})
    study = pipeline.Study(params=p, data=ci_study.data, transfers=ci_study.transfers, panel=ci_study.panel,
                           ledger=ci_study.ledger, checks=ci_study.checks, cache=ci_study.cache)
    return mv.compute(study)


def test_multiverse_rows_estimates_and_verdicts(small, ci_study, ci_params):
    rows = small.rows
    # one row per (claim check, specification), every choice a column
    assert not rows.duplicated(["claim", "spec", "check"]).any()
    for col in (*mv.DIMS, "coef", "se", "p", "nobs", "check_result", "claim_result", "testable", "verdict"):
        assert col in rows.columns
    n_checks = {c.id: len(c.checks) for c in mv.claims()}
    per = rows.groupby("claim").agg(specs=("spec", "nunique"), n=("spec", "size"))
    assert all(per.loc[c, "n"] == per.loc[c, "specs"] * k for c, k in n_checks.items())
    # the study's choices reproduce the book's estimates (engine on the book panel) exactly
    specs = models.published_specs() + models.tier_specs(pipeline.tiers_present(ci_study.panel, ci_params))
    ref = engine.fit(ci_study.panel, specs, ("pair", "twoway"), samples=models.SAMPLES).set_index("key")
    st = rows[rows["study_spec"] & rows["inference"].isin(["pair", mv.NA])].drop_duplicates("key").set_index("key")
    both = st[["coef", "p"]].join(ref[["coef", "p_pair"]].rename(columns={"coef": "coef_book", "p_pair": "p_book"}))
    ok = both["coef"].notna()
    assert ok.sum() >= 30
    assert np.allclose(both.loc[ok, "coef"], both.loc[ok, "coef_book"], rtol=1e-12, atol=1e-14)
    # (F4 compares coefficients: its rows carry the study clustering's p)
    assert np.allclose(both.loc[ok, "p"], both.loc[ok, "p_book"], rtol=1e-9, atol=1e-14)
    # the synthetic world is not China: nothing testable, and the reason says so
    assert (~rows["testable"]).all() and (rows["verdict"] == mv.NOT_SOURCE).all()
    assert rows["reason"].str.contains("synthetic world is not China").all()
    # PPML went through pyfixest and is there where the transfer is the outcome
    ppml = rows[rows["method"] == "ppml"]
    assert len(ppml) and (ppml["transform"] == "ppml").all() and ppml["coef"].notna().any()


def test_check_results_agree_with_the_scorecard(small):
    """Each check's result equals scorecard.check_holds on the same numbers."""
    rows = small.rows
    by = {c.id: c for c in mv.claims()}
    sample = rows[rows["check_result"] != mv.NOT_IDENTIFIED].sample(400, random_state=1)
    f = small.fits.set_index(["key", *mv.FIT_DIMS])
    assert set(sample["check_result"]) == {"holds", "fails"}
    for r in sample.itertuples():
        ch = by[r.claim].checks[r.check - 1]
        same = rows[(rows["claim"] == r.claim) & (rows["spec"] == r.spec)]
        coef, p = {}, {}
        for k in (ch.key, *ch.among):
            # the estimate of key k under this specification (its fit)
            dims = mv.fit_dimensions(mv.registry()[k])
            idx = (k, *[getattr(r, d) if d in dims else mv.NA for d in mv.FIT_DIMS])
            coef[k] = float(f.loc[idx, "coef"])
        p[ch.key] = r.p
        assert scorecard.check_holds(ch, coef, p, {}) == (r.check_result == "holds"), (r.claim, r.spec, r.check)
        assert len(same)


def test_summary_words_and_curves(small):
    summ = mv.claim_summary(small)
    assert list(summ["claim"]) == [c.id for c in mv.claims()]
    assert (summ["holds"] + summ["fails"] + summ["not_identified"] == summ["specifications"]).all()
    by = mv.source_summary(small)
    assert (by.groupby("claim")["specifications"].sum().reindex(summ["claim"]).to_numpy()
            == summ["specifications_all"].to_numpy()).all()
    assert not (by["moves_most"] == "source").any()
    src = small.meta["sources"][0]
    inf = mv.influence(small.rows, "B3", src)
    assert "source" not in set(inf["dimension"])
    dim, words = mv.moves_most(small.rows, "B3", src)
    if dim:
        r = inf[inf["dimension"] == dim]
        assert words.startswith(f"the {choices.DIMENSIONS[dim].title}") and f"{100 * r['share_holds'].max():.0f}%" in words
    c = mv.curve(small, "B3", max_points=50)
    assert c.shown <= 50 + int(c.frame["study_spec"].sum()) and (np.diff(c.frame["coef"]) >= 0).all()
    fig = figures.spec_curve(c)
    assert len(fig.data) >= 3
    g = mv.glue_values(small)
    assert g["mv_claims"] == "22" and all(f"mv_{x.id}_moves" in g for x in mv.claims())


def _two_source_rows() -> pd.DataFrame:
    """Claim B1 on two sources: on public it holds with two transforms and fails with the third; on
    the synthetic world it fails everywhere (and nothing there is testable)."""
    out = []
    for src, results in (("public", ("holds", "holds", "fails")), ("synthetic", ("fails", "fails", "fails"))):
        for tr, res in zip(("slog_10k", "ihs", "direction"), results):
            row = {d: mv.NA for d in mv.DIMS}
            row.update(source=src, transform=tr, claim="B1", check=1, spec=f"{src}-{tr}", claim_result=res,
                       testable=src == "public", reason="" if src == "public" else "the synthetic world is not China",
                       study_spec=tr == "slog_10k")
            out.append(row)
    return pd.DataFrame(out)


def test_the_data_source_is_a_stratum_not_a_choice():
    """Pooled over sources the source "moved" B1 most (67% vs 0%); within each source only the
    analysis choices count, and every share is per source."""
    from types import SimpleNamespace

    rows = _two_source_rows()
    assert "source" not in mv.ANALYSIS_DIMS
    inf = mv.influence(rows, "B1", "public")
    assert set(inf["dimension"]) == {"transform"} and inf["range"].iloc[0] == 1.0
    with pytest.raises(ValueError, match="stratum"):
        mv.influence(rows, "B1")
    dim, words = mv.moves_most(rows, "B1", "public")
    assert dim == "transform" and "100%" in words and "0%" in words
    assert mv.moves_most(rows, "B1", "synthetic")[0] == ""  # fails under every transform: nothing moves it
    res = SimpleNamespace(rows=rows, meta={"sources": ["public", "synthetic"]})
    by = mv.source_summary(res)
    assert list(by["source"]) == ["public", "synthetic"]
    assert by["share_holds"].round(3).tolist() == [0.667, 0.0] and by["not_testable"].tolist() == [0, 3]
    table = mv.summary_table(res)
    assert list(table["source"]) == ["public", "synthetic"] and list(table["holds, % of evaluable"]) == ["67%", "0%"]
    synth = mv.source_sentence(next(by[by["source"] == "synthetic"].itertuples()))
    assert "none of the 3 can be judged on this source" in synth and "run anyway, its checks hold in 0%" in synth
    assert "could be evaluated" not in synth.split("run anyway")[0]
    assert "data source" not in mv.reading(res)


# ----------------------------------------------------------------------------- the permutation test

def test_permutation_fit_is_exact(ci_study):
    """engine.permutation_fit equals engine.fit on the shuffled panel it reports: in replication r
    pair k takes the regressor's whole path of the pair it was shuffled onto, in every sample."""
    pn = ci_study.panel
    ctrl = models.CONTROL_COLUMNS
    ms = [engine.Model("a", "IT", ("connectivity_I",), ctrl, sample="up_gradient"),
          engine.Model("b", "IT_labor", ("connectivity_I",), (), sample="up_gradient"),
          engine.Model("c", "IT", ("connectivity_I", "connectivity_HSR"), ctrl)]
    cl = ("pair", "origin", "twoway", "dyadic")
    res = engine.permutation_fit(pn, ms, cl, samples=models.SAMPLES, permutations=3, seed=5, label="x")
    again = engine.permutation_fit(pn.iloc[::-1], ms[:1], cl, samples=models.SAMPLES, permutations=3, seed=5,
                                   label="x")
    assert np.allclose(again.coef[0], res.coef[0], rtol=1e-10)   # the same shuffles whatever the row order
    src = pn.set_index(["pair_id", "period"])["connectivity_I"]
    for r in range(3):
        mapping = dict(zip(res.pairs, res.pairs[res.permutations[r]]))
        q = pn.copy()
        q["connectivity_I"] = src.reindex(pd.MultiIndex.from_arrays([q["pair_id"].map(mapping), q["period"]])).to_numpy()
        assert not np.allclose(q["connectivity_I"], pn["connectivity_I"])
        f = engine.fit(q, ms, cl, samples=models.SAMPLES)
        for i in range(len(ms)):
            assert _close(f.iloc[i]["coef"], res.coef[i, r], 1e-10)
            for c in cl:
                assert _close(f.iloc[i][f"se_{c}"], res.se[c][i, r], 1e-10)
                assert abs(f.iloc[i][f"p_{c}"] - res.p[c][i, r]) < 1e-12


def _toy(seed: int, effect: float, n_cities: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [(o, d, t) for o, d in itertools.permutations(range(n_cities), 2) for t in range(2)]
    df = pd.DataFrame(rows, columns=["o", "d", "t"])
    df["origin"], df["dest"] = df["o"].astype(str), df["d"].astype(str)
    df["pair_id"], df["period"] = df["o"] * n_cities + df["d"], df["t"].map({0: "p1", 1: "p2"})
    n = len(df)
    df["x"] = rng.normal(size=n)
    df["z"] = rng.normal(size=n) + 0.3 * df["x"]
    df["half"] = (df["o"] < df["d"]).astype(int)
    shock = rng.normal(size=(n_cities, 2))
    df["y1"] = effect * df["x"] + shock[df["o"], df["t"]] + rng.normal(size=n)
    df["y2"] = np.sign(df["y1"]) * np.log1p(np.abs(df["y1"]))
    return df


def _toy_curve(df: pd.DataFrame, R: int, seed: int) -> dict:
    """A curve of 8 specifications (2 outcomes x 2 control sets x 2 samples) under pair and
    origin clustering, and its joint test."""
    ms = [engine.Model(f"{y}{k}{s}", y, ("x",), ctrl, sample=s) for y in ("y1", "y2")
          for k, ctrl in enumerate(((), ("z",))) for s in ("all", "half")]
    samples = {"half": ("half", 1)}
    fit = engine.fit(df, ms, ("pair", "origin"), samples=samples)
    perm = engine.permutation_fit(df, ms, ("pair", "origin"), samples=samples, permutations=R, seed=seed)
    inf = np.array(["pair", "origin"] * 4)
    p = np.where(inf == "pair", fit["p_pair"], fit["p_origin"])
    pp = np.where(inf[:, None] == "pair", perm.p["pair"], perm.p["origin"])
    return mv.curve_test(fit["coef"].to_numpy(), p, 0.05, 1.0, perm.coef, pp)


def test_curve_test_rejects_at_about_its_level_under_no_effect():
    """With no effect (x independent of y), the share and median tests reject at 5% in about 5%
    of 200 data sets (binomial 99% interval for 200 draws at 0.05: 1 to 20 rejections)."""
    rej_share = rej_med = 0
    for s in range(200):
        t = _toy_curve(_toy(s, 0.0), R=19, seed=s)
        rej_share += t["p_share"] <= 0.05
        rej_med += t["p_median"] <= 0.05
        assert 0 < t["p_share"] <= 1 and 0 < t["p_median"] <= 1
    assert 1 <= rej_share <= 20 and 1 <= rej_med <= 20, (rej_share, rej_med)


def test_curve_test_detects_a_real_effect():
    t = _toy_curve(_toy(7, 0.5), R=19, seed=7)
    assert t["share"] > 0.5 and t["p_share"] == pytest.approx(1 / 20) and t["p_median"] == pytest.approx(1 / 20)


# ----------------------------------------------------------------------------- Dask

def _square(shared, payload):
    return shared["k"] * payload


def test_dask_and_a_plain_loop_give_the_same_results(ci_params, mvsetup, variants):
    """The sweep's Dask path (a LocalCluster of one worker) and the plain loop return the same
    results in task order; so do the multiverse's own tasks."""
    tasks = [("a", 1), ("b", 2), ("a", 3)]
    shared = {"a": {"k": 10}, "b": {"k": 100}}
    assert sweep.run(_square, tasks, shared, workers=0) == sweep.run(_square, tasks, shared, workers=1) == [10, 200, 30]
    with pytest.raises(KeyError, match="shared object 'c'"):
        sweep.run(_square, [("c", 1)], shared, workers=0)
    fits = mv.plan(mvsetup, ci_params.period_labels)
    ts = [t for t in mv.tasks(fits, mvsetup) if t.method == "ols"][:2]
    ts = [mv.Task(t.source, t.periods, t.sample, t.gradient, t.method, t.fits[:60], t.clusters, 3, 1) for t in ts]
    panels = {(t.source, t.periods): variants[t.periods] for t in ts}
    loop = sweep.run(mv.run_task, [((t.source, t.periods), t) for t in ts], panels, workers=0)
    dask = sweep.run(mv.run_task, [((t.source, t.periods), t) for t in ts], panels, workers=1)
    for a, b in zip(loop, dask):
        pd.testing.assert_frame_equal(a["estimates"], b["estimates"])
        assert np.array_equal(a["permuted"]["coef"], b["permuted"]["coef"], equal_nan=True)


def test_a_sweep_runs_on_the_cluster_at_a_scheduler_address():
    """``scheduler:`` names an existing cluster: the sweep connects to it instead of starting one."""
    from dask.distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        got = sweep.run(_square, [("a", 4), ("a", 5)], {"a": {"k": 3}}, scheduler=cluster.scheduler_address)
        assert got == [12, 15]
        assert len(cluster.scheduler.workers) == 1


def _double(x):
    return 2 * x


def test_a_sweep_without_shared_objects_hands_each_result_as_it_finishes():
    """The design lab's use: tasks are payloads, each result is handed to on_result (and dropped
    with keep=False); an exception there stops the sweep."""
    seen = []
    assert sweep.run(_double, [1, 2, 3], workers=0, on_result=lambda i, r: seen.append((i, r)), keep=False) == [None] * 3
    assert seen == [(0, 2), (1, 4), (2, 6)]
    got = []
    assert sorted(sweep.run(_double, [5, 6], workers=1, on_result=lambda i, r: got.append((i, r)))) == [10, 12]
    assert sorted(got) == [(0, 10), (1, 12)]

    def stop(i, r):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep.run(_double, [1, 2], workers=0, on_result=stop)


def test_hsr_changing_in_one_pair_gets_no_standard_error_in_the_multiverse():
    """The book's rule (models.MIN_VARYING_FOR_SE) in the multiverse: a fit whose HSR measure
    changes within one pair keeps its coefficient but no SE or p under any clustering (a review
    found 216 checks decided on one pair, p = 4e-115); two pairs keep them; fits without an HSR
    measure (varying_hsr = -1) are untouched."""
    from intercity import multiverse

    clusters = ("pair", "twoway")
    est = pd.DataFrame({"coef": [1.0, 1.0, 1.0], "df_resid": [100] * 3, "rank": [3] * 3, "period_rank": [1] * 3,
                        "note": [""] * 3, "varying_hsr": [1, 2, -1]})
    for c in clusters:
        est[f"g_eff_{c}"] = 50
        est[f"note_{c}"] = ""
        for k in ("se", "p", "ci95_low", "ci95_high"):
            est[f"{k}_{c}"] = 0.5
    multiverse._identify(est, clusters)
    assert est["identified"].all() and est["coef"].notna().all()
    assert est.loc[0, ["se_pair", "p_pair", "se_twoway", "p_twoway"]].isna().all()
    assert "changes within 1 pair only" in est.loc[0, "note"]
    assert est.loc[1:, ["se_pair", "p_twoway"]].notna().all().all() and est.loc[1:, "note"].eq("").all()
