"""The replication scorecard: verdicts earned only where the source can test the claim.

Most tests run the scorecard on CONSTRUCTED estimate tables with the columns of the estimates
contract (``p_pair``, ``p_twoway``, ``identified``, ...) and constructed source facts, so each
verdict kind is triggered by a case built for it: a proxy outcome, a stand-in MRIO under a spatial
claim, an HSR measure varying in too few pairs, an unidentified fit, a claim holding under pair
but failing under two-way clustering, distance tiers other than the study's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intercity import models, panel as panel_mod, pipeline, scorecard
from intercity.schema import CITY_YEAR_VARS, PAIR_YEAR_VARS

STUDY_EDGES = (0.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
SHIFTED = (0.0, 300.0, 800.0, 1500.0, 4000.0)


# ----------------------------------------------------------------------------- constructed inputs

def variables(kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """variable_status-like table: every bundle variable measured unless ``kinds`` says otherwise."""
    kinds = kinds or {}
    rows = []
    for v in CITY_YEAR_VARS + PAIR_YEAR_VARS:
        k = kinds.get(v, "measured")
        rows.append({"variable": v, "table": "city_year" if v in CITY_YEAR_VARS else "pair_year", "kind": k,
                     "share_proxy": 1.0 if k == "proxy" else 0.0, "share_imputed": 1.0 if k == "constant" else 0.0,
                     "note": f"{k} stand-in for {v}" if k != "measured" else ""})
    return pd.DataFrame(rows)


def facts(source: str = "ceads", kinds: dict[str, str] | None = None, standin: str = "",
          varying: dict[str, int] | None = None, tiers=STUDY_EDGES) -> scorecard.SourceFacts:
    """Source facts in which every HSR estimate varies in 1,000 pairs unless ``varying`` says otherwise."""
    specs = models.published_specs() + models.tier_specs(panel_mod.tier_labels(tiers))
    counts = {s.key: 1000 for s in specs if scorecard.hsr_measure(s) is not None}
    counts.update(varying or {})
    return scorecard.SourceFacts(source=source, variables=variables(kinds), mrio_standin=standin,
                                 varying_pairs=counts, tiers_km=tuple(tiers))


def _holding_value(key: str, claims=scorecard.CLAIMS) -> tuple[float, float]:
    """A (coef, p) for ``key`` under which every check naming it holds."""
    for c in claims:
        for ch in c.checks:
            if ch.key == key and ch.expect in "+-":
                return (1.0 if ch.expect == "+" else -1.0), 0.001
            if ch.key == key and ch.expect == "0":
                return 0.1, 0.6
    return 0.2, 0.5


def estimates(tiers=STUDY_EDGES, **changes: dict) -> pd.DataFrame:
    """One row per registered model with the contract's columns, numbers under which every claim
    holds on the study's tiers (the peak tier 500-1000 km largest); ``changes``: key -> columns."""
    specs = models.published_specs() + models.tier_specs(panel_mod.tier_labels(tiers))
    rows = []
    for s in specs:
        coef, p = _holding_value(s.key)
        if s.table.startswith("tier_"):
            lo, hi = (float(x) for x in s.tier.split("-"))
            coef, p = (1.0 + (1.0 if (lo < 1000 and hi > 500) else 0.0)) * (1 if s.column in (1, 2, 3, 4) else 0), 0.01
        if s.table.startswith("synergy_"):
            coef, p = 1.0, 0.001
        row = {"key": s.key, "table": s.table, "column": s.column, "sample": s.sample, "tier": s.tier,
               "dependent": s.dependent, "regressor": s.regressors[0], "data_source": "constructed",
               "controls": "yes" if s.controls else "no", "controls_in": "edl_i;edl_j", "controls_out": "",
               "nobs": 1000, "nobs_lost": 0, "n_pairs": 500, "df_resid": 480, "identified": True, "coef": coef,
               "cluster": "pair", "note": ""}
        for c in ("pair", "origin", "twoway", "dyadic"):
            row.update({f"se_{c}": 0.1, f"p_{c}": p, f"stars_{c}": models.stars(p)})
        row.update(se=0.1, p=p, stars=models.stars(p))
        row.update(changes.get(s.key, {}))
        rows.append(row)
    return pd.DataFrame(rows)


REGIONS = pd.DataFrame({"region": ["east", "central", "west", "northeast"] * 2,
                        "period": ["2012-2015"] * 4 + ["2015-2017"] * 4,
                        "net": [5e4, -3e4, -1e4, -1e4, 1e4, 2e4, 1e4, -4e4]})


def card(est=None, f=None, cluster="pair", regions=REGIONS) -> pd.DataFrame:
    return scorecard.scorecard(estimates() if est is None else est, f or facts(), regions, cluster).set_index("id")


# ----------------------------------------------------------------------------- the constructed world

def test_every_claim_holds_when_the_source_can_test_everything():
    c = card()
    assert (c["testable"] == "yes").all(), c.loc[c["testable"] != "yes", "not_testable_reason"]
    assert (c["verdict_pair"] == "holds").all() and (c["verdict_twoway"] == "holds").all(), c["reason_pair"]
    n = scorecard.headline(c.reset_index())
    assert n["claims"] == n["testable"] == n["hold_pair"] == n["hold_twoway"] == len(scorecard.CLAIMS)


def test_proxy_outcome_is_not_testable_but_a_proxy_control_is_only_noted():
    c = card(f=facts(source="public", kinds={"patents": "proxy", "urbanization": "proxy"}))
    for claim in ("M6", "M7"):  # outcome factor_tech <- patents
        assert c.loc[claim, "verdict_pair"] == c.loc[claim, "verdict_twoway"] == scorecard.NOT_SOURCE
        assert "factor_tech" in c.loc[claim, "reason_pair"] and "patents" in c.loc[claim, "reason_pair"]
        assert c.loc[claim, "checks_pair"] == "holds"  # the checks still run and are shown
    # urbanisation enters only as the control ul: the claims stay testable, the control is named
    assert c.loc["B1", "verdict_pair"] == "holds" and "ul (urbanization)" in c.loc["B1", "source_note"]
    assert "does not make a claim untestable" in c.loc["B1", "source_note"]


@pytest.mark.parametrize("kind", ["constant", "imputed"])
def test_constant_or_mostly_imputed_outcome_is_not_testable(kind):
    c = card(f=facts(source="public", kinds={"fixed_assets": kind}))
    for claim in ("M1", "M2", "M3", "M4"):  # factor_fcapital / factor_flc <- fixed_assets
        assert c.loc[claim, "verdict"] == scorecard.NOT_SOURCE and "fixed_assets" in c.loc[claim, "reason"]
    assert c.loc["M5", "verdict"] == "holds"  # liquid assets measured


def test_a_proxy_sample_split_is_not_testable():
    c = card(f=facts(source="public", kinds={"population": "proxy"}))
    assert c.loc["R1", "verdict"] == scorecard.NOT_SOURCE and "down_gradient_pop" in c.loc["R1", "reason"]
    assert c.loc["B3", "verdict"] == "holds"


def test_claims_on_the_transfer_of_a_standin_mrio_are_not_testable():
    """A stand-in MRIO's trade shares do not respond to connectivity: spatial claims read its
    assumption and regression claims on IT ask for a pair-level channel it lacks by construction;
    claims whose outcome and regressor do not involve IT (the mechanism tables) stay testable."""
    c = card(f=facts(source="public", standin="a distance-gravity stand-in for the CEADs tables"))
    for claim in ("C1", "C2"):
        assert c.loc[claim, "verdict"] == scorecard.NOT_SOURCE
        assert "stand-in MRIO" in c.loc[claim, "reason"] and "distance-gravity" in c.loc[claim, "reason"]
        assert c.loc[claim, "checks_pair"] == "holds"
    on_it = ["B1", "B2", "B3", "B4", "B5", "B6", "B7", "R1", "R2", "R3", "F1", "F2", "F3", "F4", "F5"]
    for claim in on_it:
        assert c.loc[claim, "verdict_pair"] == c.loc[claim, "verdict_twoway"] == scorecard.NOT_SOURCE, claim
        assert "do not respond to connectivity" in c.loc[claim, "reason"], claim
        assert c.loc[claim, "checks_pair"] == "holds", claim  # the numbers are still shown
    mechanism = [k for k in c.index if k.startswith("M")]
    assert mechanism and (c.loc[mechanism, "verdict"] == "holds").all()
    assert (card(f=facts(source="ceads"))["verdict"] == "holds").all()  # a real MRIO: all testable


def test_hsr_varying_in_too_few_pairs_is_not_testable():
    few = scorecard.MIN_VARYING_PAIRS - 1
    c = card(f=facts(varying={"gradient_scale:2": few}))
    assert c.loc["B3", "verdict_pair"] == c.loc["B3", "verdict_twoway"] == scorecard.NOT_SOURCE
    assert f"Economic gradient (2): {few} pairs" in c.loc["B3", "reason"]
    assert c.loc["B4", "verdict"] == "holds"  # information connectivity: no HSR rule
    enough = card(f=facts(varying={"gradient_scale:2": scorecard.MIN_VARYING_PAIRS}))
    assert enough.loc["B3", "verdict"] == "holds"
    # the reverse-causality test has HSR as its outcome: the same rule
    c = card(f=facts(varying={"robust_reverse_causality:1": 3}))
    assert c.loc["R3", "verdict"] == scorecard.NOT_SOURCE


def test_unidentified_estimate_gives_not_identified():
    nan = float("nan")
    est = estimates(**{"gradient_scale:3": {"identified": False, "coef": nan, "se_pair": nan, "p_pair": nan,
                                            "se_twoway": nan, "p_twoway": nan, "stars_pair": "", "stars_twoway": "",
                                            "note": "not identified (no residual degrees of freedom)"}})
    c = card(est)
    assert c.loc["B4", "verdict_pair"] == c.loc["B4", "verdict_twoway"] == scorecard.NOT_IDENTIFIED
    assert "no residual degrees of freedom" in c.loc["B4", "reason_pair"]
    assert c.loc["B4", "testable"] == "yes"
    n = scorecard.headline(c.reset_index())
    assert n["not_identified_pair"] == 1 and n["hold_pair"] == n["testable"] - 1


def test_a_claim_can_hold_under_pair_and_fail_under_twoway_clustering():
    est = estimates(**{"baseline_direction:1": {"p_twoway": 0.30, "stars_twoway": ""}})
    c = card(est, cluster="pair")
    assert c.loc["B1", "verdict_pair"] == "holds" and c.loc["B1", "verdict_twoway"] == "fails"
    assert "Direction of transfer (1)" in c.loc["B1", "reason_twoway"] and "p = 0.300" in c.loc["B1", "reason_twoway"]
    assert c.loc["B1", "verdict"] == "holds" and c.loc["B1", "cluster"] == "pair"
    assert card(est, cluster="twoway").loc["B1", "verdict"] == "fails"  # the headline follows params.cluster
    n = scorecard.headline(c.reset_index())
    assert n["hold_pair"] == n["hold_twoway"] + 1 and n["fail_twoway"] == 1
    sentence = scorecard.claim_sentence(c.loc["B1"].to_dict() | {"id": "B1"})
    assert "holds with the study's pair-clustered errors but fails with two-way" in sentence


def test_a_zero_check_can_fail_under_pair_and_hold_under_twoway():
    """The reverse direction: significant only with the smaller pair-clustered standard error."""
    est = estimates(**{"robust_reverse_causality:1": {"p_pair": 0.001, "stars_pair": "***"}})
    c = card(est)
    assert c.loc["R3", "verdict_pair"] == "fails" and c.loc["R3", "verdict_twoway"] == "holds"
    comment = scorecard.reverse_causality_comment(c.reset_index())
    assert comment.startswith("Contrary to the study") and "pair-clustered" in comment


def test_twoway_p_missing_in_a_tiny_sample_is_not_identified_for_that_clustering_only():
    est = estimates(**{"gradient_scale:4": {"p_twoway": float("nan"), "se_twoway": float("nan")}})
    c = card(est)
    assert c.loc["B4", "verdict_pair"] == "holds" and c.loc["B4", "verdict_twoway"] == scorecard.NOT_IDENTIFIED


def test_synthetic_source_tests_no_claim_but_runs_every_check():
    c = card(f=facts(source="synthetic"))
    assert (c["verdict_pair"] == scorecard.NOT_SOURCE).all() and (c["testable"] == "no").all()
    assert c["reason_pair"].str.contains("synthetic world is not China").all()
    assert (c["checks_pair"] == "holds").all() and (c["checks_twoway"] == "holds").all()
    n = scorecard.headline(c.reset_index())
    assert n["testable"] == 0 and n["checks_hold_pair"] == len(c)
    assert "not China" in scorecard.rule_sentence(c.reset_index(), "synthetic")


def test_published_verdict_is_kept_and_counted():
    c = card(f=facts(source="synthetic"))
    printed = c[c["published_verdict"] != "asserted"]
    assert len(printed) >= 15 and (printed["published_verdict"] == "holds").all()
    n = scorecard.headline(c.reset_index())
    assert n["published_support"] == len(c) and n["published_asserted"] == len(c) - len(printed)
    assert n["published_support_testable"] == 0


def test_published_numbers_support_every_claim_with_printed_numbers():
    """The claims transcribe the study: on its own printed numbers each must hold."""
    empty = pd.DataFrame(columns=["table", "column", "coef", "p_pair", "p_twoway", "identified"])
    c = scorecard.scorecard(empty, facts(), None)
    printed = c[c["published_verdict"] != "asserted"]
    assert len(printed) >= 15 and (printed["published_verdict"] == "holds").all(), printed
    assert not c["verdict"].isin(["holds", "fails"]).any()


# ----------------------------------------------------------------------------- distance tiers

def test_study_tiers_match_themselves():
    m = scorecard.match_tiers(STUDY_EDGES)
    assert all(x.tiers == (x.study,) and x.how == "same tier" for x in m.values())


def test_shifted_tiers_match_by_distance_range():
    m = scorecard.match_tiers(SHIFTED)
    assert m["0-200"].tiers == ("0-300",) and m["0-200"].how == "covered by"
    assert m["2000-4000"].tiers == ("1500-4000",)
    for t in ("200-500", "500-1000", "1000-2000"):  # crossed by parameter edges: no match
        assert m[t].tiers == () and m[t].how == "no match" and "cross its bounds" in m[t].detail


def test_a_parameter_tier_mostly_outside_the_study_tier_does_not_match():
    m = scorecard.match_tiers((0.0, 1000.0, 4000.0))
    assert m["0-200"].tiers == () and "mostly outside" in m["0-200"].detail
    assert m["1000-2000"].tiers == ()  # 1000-4000 covers it with a third of its range inside
    assert m["2000-4000"].tiers == ("1000-4000",) and m["2000-4000"].how == "covered by"  # two thirds inside


def test_split_tiers_partition_the_study_tier():
    m = scorecard.match_tiers((0.0, 100.0, 200.0, 350.0, 500.0, 1000.0, 2000.0, 4000.0))
    assert m["0-200"].tiers == ("0-100", "100-200") and m["0-200"].how == "split over"
    assert m["200-500"].tiers == ("200-350", "350-500")


def test_tier_claims_follow_shifted_parameter_tiers():
    """Never 'not available' because labels changed: matched claims are judged on the parameter
    tiers, the others are 'not testable with these tiers'."""
    est = estimates(tiers=SHIFTED)
    c = card(est, facts(tiers=SHIFTED))
    for claim in ("F3", "F5"):  # remote tier 2000-4000 <- 1500-4000
        assert c.loc[claim, "verdict_pair"] == "holds", c.loc[claim, "reason_pair"]
        assert "1500-4000" in c.loc[claim, "check"] and "study 2000-4000 km -> 1500-4000" in c.loc[claim, "tiers"]
    for claim in ("F1", "F2", "F4"):
        assert c.loc[claim, "verdict_pair"] == c.loc[claim, "verdict_twoway"] == scorecard.NOT_TIERS
        assert "cross its bounds" in c.loc[claim, "reason_pair"]
    assert not c["verdict"].str.contains("available").any()
    n = scorecard.headline(c.reset_index())
    assert n["not_testable_tiers"] == 3 and n["testable"] == len(c) - 3
    # a failing coefficient in the matched parameter tier makes the claim fail
    bad = estimates(tiers=SHIFTED, **{"tier_1500-4000:1": {"coef": -1.0}})
    assert card(bad, facts(tiers=SHIFTED)).loc["F3", "verdict_pair"] == "fails"


def test_split_tier_checks_must_hold_in_every_part():
    edges = (0.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
    c = card(estimates(tiers=edges), facts(tiers=edges))
    assert c.loc["F1", "verdict"] == "holds" and "distance tier 0-100 km (3)" in c.loc["F1", "check"]
    bad = estimates(tiers=edges, **{"tier_100-200:3": {"p_pair": 0.5, "p_twoway": 0.5}})
    c = card(bad, facts(tiers=edges))
    assert c.loc["F1", "verdict"] == "fails" and "distance tier 100-200 km (3)" in c.loc["F1", "reason"]


def test_peak_split_over_parts_holds_when_the_largest_is_in_a_part():
    edges = (0.0, 200.0, 500.0, 750.0, 1000.0, 2000.0, 4000.0)
    est = estimates(tiers=edges)
    est.loc[est["key"] == "tier_500-750:2", "coef"] = 0.5  # the other half of the peak tier stays largest
    c = card(est, facts(tiers=edges))
    assert c.loc["F4", "verdict"] == "holds", c.loc["F4", "reason"]
    est.loc[est["key"] == "tier_750-1000:2", "coef"] = 0.4  # now the 0-200 km tier (1.0) is the largest
    est.loc[est["key"] == "tier_500-750:2", "coef"] = 0.4
    assert card(est, facts(tiers=edges)).loc["F4", "verdict"] == "fails"


def test_a_matched_tier_without_pairs_is_not_testable_on_this_source():
    est = estimates()
    est = est[~est["table"].isin(["tier_2000-4000", "synergy_2000-4000"])]
    c = card(est)
    assert c.loc["F3", "verdict"] == scorecard.NOT_SOURCE and "no estimate in this build" in c.loc["F3", "reason"]
    assert c.loc["F4", "verdict"] == "holds"  # the peak is compared over the tiers that have pairs


# ----------------------------------------------------------------------------- facts from data

class _Data:
    """A bundle-like object: city_year and pair_year with provenance columns, and meta."""

    def __init__(self, city_year, pair_year, meta=None):
        self.city_year, self.pair_year, self.meta = city_year, pair_year, meta or {}


def test_variable_status_from_provenance_and_values():
    years = [2012, 2013]
    cy = pd.DataFrame({"city_id": ["a", "b"] * 2, "year": [2012, 2012, 2013, 2013]})
    cy["patents"], cy["prov_patents"] = [1.0, 2.0, 3.0, 4.0], ["proxy", "observed", "proxy", "observed"]
    cy["trade_gdp"], cy["prov_trade_gdp"] = 0.3, "imputed"
    cy["employment"], cy["prov_employment"] = [1.0, 2.0, 3.0, 5.0], ["observed", "observed", "observed", "imputed"]
    cy["fixed_assets"], cy["prov_fixed_assets"] = [1.0, 2.0, 3.0, 5.0], ["imputed", "imputed", "imputed", "observed"]
    cy["population"], cy["prov_population"] = [1.0, 2.0, 3.0, 5.0], "synthetic"
    py = pd.DataFrame({"origin": ["a"], "dest": ["b"], "year": [2012], "hsr_lines": [1.0],
                       "prov_hsr_lines": ["observed"]})
    st = scorecard.variable_status(_Data(cy, py, {"variables": {"patents": "research employment"}}), years)
    kind = st.set_index("variable")["kind"]
    assert kind["patents"] == "proxy" and kind["trade_gdp"] == "constant" and kind["employment"] == "measured"
    assert kind["fixed_assets"] == "imputed" and kind["population"] == "synthetic" and kind["hsr_lines"] == "constant"
    assert st.set_index("variable").loc["patents", "note"] == "research employment"


def test_varying_pairs_counts_pairs_whose_hsr_changes_within_the_sample():
    rows = []
    for pid, (h1, h2), (d1, d2) in [(0, (0, 1), (1, 1)), (1, (1, 1), (1, 1)), (2, (0, 2), (1, 0)), (3, (0, 1), (0, 0))]:
        for period, h, d in (("2012-2015", h1, d1), ("2015-2017", h2, d2)):
            rows.append({"pair_id": pid, "period": period, "connectivity_HSR": float(h), "connectivity_I": 1.0,
                         "connectivity_double": float(h), "IT": 1.0, "down_gradient": d, "tier": "0-200",
                         **{c: 1.0 for c in models.CONTROL_COLUMNS}})
    panel = pd.DataFrame(rows)
    down = scorecard.spec_for("gradient_scale:1")  # HSR, down-gradient
    up = scorecard.spec_for("gradient_scale:2")
    # pair 0 changes and is down-gradient in both periods; pair 2 changes but is down-gradient once
    assert scorecard.varying_pairs(panel, down) == 1
    assert scorecard.varying_pairs(panel, up) == 1  # pair 3
    with pytest.raises(ValueError, match="no HSR measure"):
        scorecard.varying_pairs(panel, scorecard.spec_for("gradient_scale:3"))


def test_table_note_marks_proxy_outcomes():
    f = facts(source="public", kinds={"patents": "proxy"})
    assert "proxy" in scorecard.table_note(f, "mechanism_tech") and "patents" in scorecard.table_note(f, "mechanism_tech")
    assert scorecard.table_note(f, "mechanism_labor") == "Labour"


def test_distance_findings_answer_the_question():
    est = estimates()
    out = scorecard.distance_findings(est, facts())
    assert out["dist_info_fades"] == "no" and "largest in the 500-1000 km tier" in out["dist_info"]
    # make information fade: the farthest tier smaller than the nearest on both halves
    for col in (2, 4):
        est.loc[est["key"] == f"tier_2000-4000:{col}", "coef"] = 0.5
    assert scorecard.distance_findings(est, facts())["dist_info_fades"] == "yes, on both gradient halves"
    few = facts(varying={k: 0 for k in est["key"] if k.startswith(("tier_", "synergy_"))
                         and scorecard.hsr_measure(scorecard.spec_for(k)) is not None})
    out = scorecard.distance_findings(est, few)
    assert out["dist_hsr_fades"] == "cannot be told on this build" and out["dist_synergy"].startswith("No tier")
    assert out["dist_info_fades"] == "yes, on both gradient halves"  # information has no HSR rule


# ----------------------------------------------------------------------------- on the ci build

def test_scorecard_checks_name_registered_estimates(ci_params):
    known = {s.key for s in models.published_specs()}
    known |= {s.key for s in models.tier_specs(panel_mod.tier_labels(ci_params.distance_tiers_km))}
    for claim in scorecard.CLAIMS:
        assert claim.checks or claim.spatial is not None, claim.id
        for ch in claim.checks:
            assert ch.expect in ("+", "-", "0", "max") and ch.level in (0.01, 0.05, 0.1)
            assert {ch.key, *ch.among} <= known, claim.id
    assert len({c.id for c in scorecard.CLAIMS}) == len(scorecard.CLAIMS)


@pytest.mark.parametrize("expect, level, coef, p, stars, holds", [
    ("+", 0.05, 0.5, 0.04, "", True), ("+", 0.05, 0.5, 0.06, "", False), ("+", 0.05, -0.5, 0.01, "", False),
    ("-", 0.01, -0.5, 0.009, "", True), ("0", 0.05, 3.0, 0.2, "", True), ("0", 0.05, 3.0, 0.03, "", False),
    ("+", 0.05, 0.5, float("nan"), "**", True), ("+", 0.01, 0.5, float("nan"), "**", False),
    ("0", 0.05, 0.5, float("nan"), "*", True), ("0", 0.1, 0.5, float("nan"), "*", False),
])
def test_check_holds(expect, level, coef, p, stars, holds):
    ch = scorecard.Check("t:1", expect, level)
    assert scorecard.check_holds(ch, {"t:1": coef}, {"t:1": p}, {"t:1": stars}) is holds


def test_peak_check_ignores_unidentified_tiers():
    ch = scorecard.Check("t:2", "max", among=("t:1", "t:2", "t:3"))
    coef = {"t:1": 0.4, "t:2": 0.9, "t:3": float("nan")}
    assert scorecard.check_holds(ch, coef, {}, {}) is True
    assert scorecard.check_holds(ch, {**coef, "t:1": 1.2}, {}, {}) is False
    assert scorecard.check_holds(ch, {**coef, "t:2": float("nan")}, {}, {}) is None


def test_scorecard_on_the_ci_build(ci_study):
    est = pipeline.estimates(ci_study)
    f = scorecard.source_facts(ci_study)
    c = scorecard.for_study(ci_study, est)
    assert list(c["id"]) == [x.id for x in scorecard.CLAIMS]
    assert set(c["verdict_pair"]) | set(c["verdict_twoway"]) <= set(scorecard.VERDICTS)
    # the ci build is synthetic: nothing about China is testable, every check still runs
    assert ci_study.source == "synthetic" and (c["testable"] == "no").all()
    assert c["checks_pair"].isin(["holds", "fails", scorecard.NOT_IDENTIFIED]).all()
    # the HSR counts are the panel's: the 0-200 km tier has very few pairs at ci scale
    assert f.varying_pairs["tier_0-200:3"] < scorecard.MIN_VARYING_PAIRS
    assert f.varying_pairs["baseline_direction:1"] == scorecard.varying_pairs(
        ci_study.panel, scorecard.spec_for("baseline_direction:1"))
    assert not c["verdict"].str.contains("available").any()


def test_results_scorecard_csv_has_verdicts_under_both_clusterings(ci_study, tmp_path):
    from intercity import runner

    runner.write_results(ci_study, tmp_path)
    out = pd.read_csv(tmp_path / "scorecard.csv", keep_default_na=False)
    for col in ("verdict_pair", "reason_pair", "verdict_twoway", "reason_twoway", "verdict", "reason",
                "testable", "not_testable_reason", "published_verdict"):
        assert col in out.columns, col
    assert (out["reason_pair"] != "").all() and np.isin(out["verdict_pair"], scorecard.VERDICTS).all()


# ----------------------------------------------------------------------------- words for the prose

def test_claim_sentences_say_why_and_what_the_checks_give():
    c = card(f=facts(source="public", kinds={"patents": "proxy"}))
    s = scorecard.claim_sentence(c.loc["M6"].to_dict())
    assert s.startswith("not testable on this source, because outcome factor_tech rests on patents")
    assert s.endswith("(not scored: run anyway, its checks give: holds with both clusterings)")
    assert scorecard.claim_sentence(c.loc["B1"].to_dict()) == \
        "holds with the study's pair-clustered errors and with two-way clustered errors"


def test_reverse_causality_comment_follows_the_verdict():
    assert scorecard.reverse_causality_comment(card().reset_index()).startswith("As the study reports")
    est = estimates(**{"robust_reverse_causality:3": {"p_pair": 0.001, "p_twoway": 0.01}})
    text = scorecard.reverse_causality_comment(card(est).reset_index())
    assert text.startswith("Contrary to the study") and "pair-clustered and two-way" in text
    few = card(f=facts(varying={"robust_reverse_causality:1": 0}))
    assert "cannot speak for or against the study" in scorecard.reverse_causality_comment(few.reset_index())
    assert "Run anyway, on this build's numbers transfer predicts neither connectivity" in \
        scorecard.reverse_causality_comment(few.reset_index())
    synthetic = card(est, f=facts(source="synthetic")).reset_index()
    text = scorecard.reverse_causality_comment(synthetic)
    assert "cannot speak for or against" in text and "transfer does predict connectivity with pair-clustered" in text


def test_outcomes_sentence_names_proxy_outcomes():
    text = scorecard.outcomes_sentence(facts(source="public", kinds={"patents": "proxy", "liquid_assets": "proxy"}))
    assert "factor_ccapital, factor_clc on liquid_assets" in text and "factor_tech on patents" in text
    assert "every one of these outcomes rests on measured variables" in scorecard.outcomes_sentence(facts())
    assert "no claim about China" in scorecard.outcomes_sentence(facts(source="synthetic"))


def test_rule_sentence_and_tables_on_a_public_like_source():
    c = card(f=facts(source="public", kinds={"patents": "proxy"}, standin="stand-in")).reset_index()
    # C1, C2 and the 15 claims on IT (stand-in MRIO), M6 and M7 (patents proxy)
    assert "19 of the 24 claims are not testable on this source" in scorecard.rule_sentence(c, "public")
    counts = scorecard.verdict_counts(c).set_index("section")
    assert counts.loc["Mechanism", "testable"] == 5 and counts.loc["Characteristics", "not testable: source"] == 2
    assert counts.loc["Baseline", "testable"] == 0
    assert counts["claims"].sum() == len(scorecard.CLAIMS)
    claims = scorecard.claims_table(c)
    assert list(claims["id"]) == list(c["id"]) and "this build, two-way clustered" in claims
    assert list(scorecard.checks_table(c).columns) == ["id", "check", "published_numbers", "this_build_numbers"]
    reasons = scorecard.reasons_table(c).set_index("id")
    assert reasons.loc["M6", "testable"] == "no" and reasons.loc["M6", "pair-clustered"] == ""
    table = scorecard.section_table(c, "Mechanism")
    assert list(table["id"]) == ["M1", "M2", "M3", "M4", "M5", "M6", "M7"]
    with pytest.raises(KeyError, match="no claims in section"):
        scorecard.section_table(c, "Nowhere")
    v = scorecard.varying_table(facts(varying={"gradient_scale:2": 3}))
    assert v.set_index("estimate").loc["Economic gradient (2)", f"at least {scorecard.MIN_VARYING_PAIRS}"] == "no"
    assert "Economic gradient (2)" in set(v["estimate"]) and not v["estimate"].str.contains(":").any()
    assert "connectivity_HSR" not in set(v["HSR measure"])


def test_invalid_cluster_is_named():
    with pytest.raises(ValueError, match="cluster 'oneway' is invalid"):
        scorecard.scorecard(estimates(), facts(), None, "oneway")


def test_tier_claims_follow_shifted_tiers_on_a_real_build(ci_params, tmp_path):
    """End to end on the ci world with shifted tiers: the tier models are estimated on the
    parameter tiers, and the claims are judged on them or declared not testable with these tiers."""
    from intercity import params

    p = params.from_mapping({**ci_params.to_dict(), "distance_tiers_km": list(SHIFTED)})
    s = pipeline.study(p, cache_dir=tmp_path)
    c = scorecard.for_study(s).set_index("id")
    assert (c.loc[["F1", "F2", "F4"], "verdict_pair"] == scorecard.NOT_TIERS).all()
    for claim in ("F3", "F5"):
        assert "1500-4000" in c.loc[claim, "check"] and c.loc[claim, "verdict_pair"] == scorecard.NOT_SOURCE
        assert c.loc[claim, "checks_pair"] in ("holds", "fails", scorecard.NOT_IDENTIFIED)


def test_estimates_without_the_contract_columns_say_which_clustering_is_missing():
    """Estimates from before the contract carry one clustering in p/se/stars (named by `cluster`):
    that clustering is judged, the other is reported as missing, never guessed."""
    est = estimates()
    est = est.drop(columns=[c for c in est.columns if c.endswith(("_pair", "_twoway", "_origin", "_dyadic"))]
                   + ["identified"])
    c = card(est)
    assert c.loc["B1", "verdict_pair"] == "holds"
    assert c.loc["B1", "verdict_twoway"] == scorecard.NOT_IDENTIFIED
    assert "carry no two-way" in c.loc["B1", "reason_twoway"]
    assert "no tier known" in scorecard.distance_findings(est, facts())["dist_info"]


def test_numbers_text_reads_p_values_and_estimate_names_not_raw_ids():
    """The scorecard's numbers print p < 0.001 (never p = 0.000) and name estimates by their
    table's registered title, not by internal keys such as baseline_direction:3."""
    c = card(estimates(**{"baseline_direction:3": {"p_pair": 1e-6, "p_twoway": 1e-5}}))
    texts = " ".join(c["published_numbers"]) + " " + " ".join(c["this_build_numbers"]) + " " + " ".join(c["check"])
    assert "p = 0.000" not in texts and "p < 0.001" in texts
    assert "baseline_direction:" not in texts and "tier_2000-4000:" not in texts
    assert "Direction of transfer (3)" in texts
    assert scorecard.estimate_label("tier_2000-4000:1") == "distance tier 2000-4000 km (1)"
    assert scorecard.estimate_label("mechanism_fixed_capital:7") == "Fixed capital (7)"
