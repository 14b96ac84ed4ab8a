"""The book's generated words (intercity.narrative): the introduction's key-results box and its
"what differs from the study" table, the chapters' Readings and the scorecard's claim rows they
link to, and the numbers the chapters glue; and the notebooks call them in one line each."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import nbformat
import numpy as np
import pandas as pd
import pytest

from intercity import formatting, narrative, params, paths, scorecard, sectors, tables
from test_scorecard import card as constructed_card
from test_scorecard import estimates, facts

CI = params.load(paths.PARAMS_DIR / "ci.yaml")


def _card(est=None, f=None) -> pd.DataFrame:
    return constructed_card(est, f).reset_index()


# ----------------------------------------------------------------------------- the key results

def test_key_results_lists_the_claims_that_hold_fail_and_are_not_testable_by_section():
    # B1 fails with two-way errors only, M7 rests on a proxy outcome, F3 is not identified
    est = estimates(**{"baseline_direction:1": {"p_twoway": 0.4},
                       "tier_2000-4000:1": {"identified": False, "note": "saturated"}})
    c = _card(est, facts(source="public", kinds={"patents": "proxy"}))
    kr = narrative.key_results(c).set_index("section")
    assert list(kr.index) == list(dict.fromkeys(c["section"]))
    assert "B1" in kr.at["Baseline", "holds_pair"] and "B1" not in kr.at["Baseline", "holds_twoway"]
    assert kr.at["Baseline", "fails_twoway"] == ["B1"] and kr.at["Baseline", "fails_pair"] == []
    assert set(kr.at["Mechanism", "not_testable"]) == {"M6", "M7"}
    assert "F3" in kr.at["Distance", "not_identified_pair"]
    n = scorecard.headline(c)
    for k, h in (("holds_pair", "hold_pair"), ("holds_twoway", "hold_twoway"), ("fails_pair", "fail_pair"),
                 ("fails_twoway", "fail_twoway")):
        assert sum(len(v) for v in kr[k]) == n[h], k
    assert kr["claims"].sum() == n["claims"] and kr["testable"].sum() == n["testable"]


def test_key_results_box_is_computed_from_the_scorecard_and_links_every_claim():
    est = estimates(**{"baseline_direction:1": {"p_twoway": 0.4}})
    c = _card(est, facts(source="public", kinds={"patents": "proxy"}))
    n = scorecard.headline(c)
    box = narrative.key_results_html(c, "public")
    assert box.startswith('<div class="admonition important intercity-key-results" id="key-results">')
    lead = narrative.key_results_lead(c, "public")
    assert f"The study asserts {n['claims']} claims" in lead and f"Of them, {n['testable']} are testable" in lead
    assert f"{n['hold_pair']} of them hold and {n['fail_pair']} fail" in lead
    assert f"{n['hold_twoway']} hold and {n['fail_twoway']} fail" in lead
    # every claim of a cell links to its scorecard row; the sections link to their chapters
    for cid in c["id"]:
        if cid not in ("M6", "M7") and cid in set(c.loc[c["testable"] == "yes", "id"]):
            assert f'href="08_scorecard.html#claim-{cid.lower()}"' in box, cid
    assert 'href="08_scorecard.html#claim-m7"' in box and 'href="03_baseline.html"' in box
    # a different scorecard gives different numbers: nothing is typed
    other = _card(estimates(**{"baseline_direction:2": {"coef": -1.0}}), facts(source="ceads"))
    assert narrative.key_results_lead(other, "ceads") != lead


def test_key_results_on_a_source_that_tests_nothing_says_so_and_shows_the_checks_run_anyway():
    c = _card(f=facts(source="synthetic"))
    assert (c["testable"] == "no").all()
    lead = narrative.key_results_lead(c, "synthetic")
    n = scorecard.headline(c)
    assert lead.startswith(f"The study asserts {len(c)} claims: {n['published_printed']} rest on printed "
                           f"coefficients, {n['published_asserted']} on figures and maps")
    assert "None of them can be judged by this build" in lead
    assert scorecard.SYNTHETIC_REASON in lead and "No claim holds or fails here" in lead
    assert f"those of {n['checks_hold_pair']} of the {len(c)} claims hold" in lead
    box = narrative.key_results_html(c, "synthetic")
    assert all(h in box for h in narrative.RUN_ANYWAY_HEADS) and "hold: pair-clustered" not in box
    assert "not a verdict on the study" in box


def test_key_results_never_says_the_study_numbers_support_claims_without_numbers():
    """The foot counts printed-coefficient claims and figure-only claims apart (no "support 24 of 24")."""
    c = _card(f=facts(source="synthetic"))
    n = scorecard.headline(c)
    assert n["published_printed"] + n["published_asserted"] == len(c) and n["published_asserted"] > 0
    box = narrative.key_results_html(c, "synthetic")
    assert "support" not in box.split("Key results of this build")[1].split("<table")[0]
    assert f"support {n['published_support']} of its" not in box
    assert f"pass the checks of {n['published_hold']} of the {n['published_printed']} claims" in box
    counts = scorecard.verdict_counts(c)
    assert "published: supported" not in counts.columns
    assert counts["published: figures only (asserted)"].sum() == n["published_asserted"]
    kr = narrative.key_results(c)
    assert sum(len(v) for v in kr["checks_hold_pair"]) == n["checks_hold_pair"]


# ----------------------------------------------------------------------------- what differs

def _data(source: str, meta: dict | None = None, n: int = 5) -> SimpleNamespace:
    return SimpleNamespace(source=source, cities=pd.DataFrame({"city_id": [str(i) for i in range(n)]}),
                           meta=meta or {})


REALISM = pd.DataFrame([
    {"variable": "fixed_assets", "table": "city_year", "status": "proxy", "note": "GDP x a national ratio"},
    {"variable": "patents", "table": "city_year", "status": "imputed", "note": ""},
    {"variable": "baidu_index", "table": "pair_year", "status": "real", "note": ""},
    {"variable": "city MRIO (Z, F, x)", "table": "mrio", "status": "proxy", "note": "national tables regionalised"},
])


def test_differences_come_from_the_parameters_the_bundle_and_the_data_realism_table():
    p = CI.model_copy(update={"periods": ((2012, 2017),), "distance_tiers_km": (0.0, 300.0, 4000.0),
                              "money_unit": "yuan", "cluster": "twoway"})
    meta = {"hsr": {"measure": "key_stations", "lines": 31, "missing": "intermediate stations"}}
    d = narrative.differences(p, _data("public", meta), REALISM).set_index("aspect")
    assert d.at["periods", "this build"] == "2012-2017" and d.at["periods", "differs"] == "yes"
    assert d.at["distance tiers", "this build"] == "0-300, 300-4000 km" and d.at["distance tiers", "differs"] == "yes"
    assert d.at["money unit of the transfer", "this build"] == "yuan"
    assert d.at["standard errors", "this build"].startswith("headline: two-way")
    assert d.at["cities", "this build"] == "5 (scale 0.15)"
    mrio = d.at["city MRIO", "this build"]
    assert "stand-in" in mrio and "national tables regionalised" in mrio and "not testable" in mrio
    assert d.at["proxies (another quantity stands in)", "this build"] == "fixed_assets (GDP x a national ratio)"
    assert d.at["imputed variables", "this build"] == "patents"
    assert "31 lines" in d.at["HSR connectivity", "this build"] and "key_stations" in d.at["HSR connectivity", "this build"]
    assert d.at["sectors", "this build"].startswith(f"{len(sectors.SECTOR_CODES)} sectors")
    # the study's own choices are not reported as differences
    same = narrative.differences(CI, _data("ceads"), REALISM.iloc[:0]).set_index("aspect")
    assert same.at["periods", "differs"] == same.at["distance tiers", "differs"] == "no"
    assert same.at["money unit of the transfer", "differs"] == "no"
    assert "stand-in" not in same.at["city MRIO", "this build"]
    html = narrative.differences_html(narrative.differences(p, _data("public", meta), REALISM))
    assert 'id="what-differs"' in html and html.count('class="intercity-differs"') >= 5


def test_sector_merges_are_read_from_the_concordance():
    c = sectors.concordance()
    merged = [(t, sorted(g["code"])) for t in ("nbs2015_42", "nbs2017_42")
              for _, g in c[c["table"] == t].groupby("sector") if len(g) > 1]
    assert len(merged) == 42 - len(sectors.SECTOR_CODES) + 1  # one merge in each list
    text = narrative.sector_merges()
    for _, codes in merged:
        assert " and ".join(codes) in text
    assert narrative.data_availability_values() == {"intro_sectors": str(len(sectors.SECTOR_CODES)),
                                                    "intro_sector_merges": text}


# ----------------------------------------------------------------------------- evidence and readings

def _lab_summary() -> pd.DataFrame:
    rows = []
    for key, reg, dep, sample in (("baseline_direction:2", "connectivity_HSR", "IT_direction", "all"),
                                  ("gradient_scale:2", "connectivity_HSR", "IT", "up_gradient")):
        for setting, null, truth in (("no_effect", True, 0.0), ("default", False, 0.5)):
            for method, rate in (("pair", 0.30 if null else 0.6), ("twoway", 0.05 if null else 0.2)):
                rows.append({"key": key, "setting": setting, "method": method, "null": null, "true_effect": truth,
                             "rejection_rate": rate, "rejection_rate_mcse": 0.1, "dependent": dep, "regressor": reg,
                             "sample": sample, "tier": "", "family": "baseline"})
    return pd.DataFrame(rows)


def test_lab_evidence_names_power_size_and_detectability_of_each_model_a_claim_reads():
    detect = pd.DataFrame({"key": ["baseline_direction:2"], "published": [0.142], "stars": ["***"],
                           "mde": [2.05], "detectable": [False]})
    ev = narrative.lab_claim_evidence(CI, _lab_summary(), detect)
    assert set(ev) == {"B1", "B3"}  # the claims whose checks read these models
    b1 = ev["B1"]
    assert "IT_direction on HSR, all pairs" in b1 and f"true effect {formatting.significant(0.5)} per unit" in b1
    assert "pair-clustered test rejects at 5% in 60% ± 10 (two-way: 20% ± 10) of worlds" in b1
    assert "(no_effect, the size) in 30% ± 10 (two-way: 5% ± 10)" in b1
    # the comparison says, in the same sentence, that the lab's worlds are synthetic and how many cities they
    # have (not the study's 273), and softens the inference to worlds like the lab's
    sentence = b1[b1.index("the published coefficient"):].split(";")[0]
    assert f"(0.142***, from the study's {params.STUDY_CITIES} real cities) is below in size" in sentence
    assert f"the lab's synthetic worlds of {CI.lab.n_cities} cities (2.05)" in sentence
    assert "in worlds like the lab's" in sentence and "false positive" in sentence
    assert f"{CI.lab.draws} synthetic worlds" in b1
    assert narrative.lab_claim_evidence(CI, None) == {}


def test_multiverse_evidence_gives_the_share_of_specifications_in_which_a_claim_holds():
    summ = pd.DataFrame([
        {"claim": "B1", "specifications": 100, "not_testable": 20, "not_identified": 0, "holds": 30, "fails": 50,
         "share_holds": 30 / 80, "share_holds_testable": 0.25, "moves_most": "inference",
         "moves_most_words": "the inference: x"},
        {"claim": "B2", "specifications": 10, "not_testable": 10, "not_identified": 10, "holds": 0, "fails": 0,
         "share_holds": np.nan, "share_holds_testable": np.nan, "moves_most": "", "moves_most_words": ""}])
    ev = narrative.multiverse_claim_evidence(summ)
    assert ev["B1"] == ("Of its 100 specifications, 20 are not testable on their source; it holds in 38% of the 80 "
                        "that could be evaluated (25% of the testable ones); the choice that moves it most: the "
                        "inference: x.")
    assert ev["B2"].endswith("none could be evaluated.")


def test_readings_link_each_claim_to_its_scorecard_row_which_carries_that_anchor():
    c = _card(estimates(**{"baseline_direction:1": {"p_twoway": 0.4}}), facts(source="public"))
    e = narrative.claim_evidence(c, {"B1": "lab <words>"}, {"B1": "mv words", "R1": "mv R1"})
    read = narrative.reading_html(e, "Baseline")
    ids = list(c.loc[c["section"] == "Baseline", "id"])
    assert re.findall(r'href="08_scorecard\.html#(claim-[a-z0-9]+)"', read) == [narrative.claim_anchor(i) for i in ids]
    assert "lab &lt;words&gt;" in read and 'href="10_design_lab.html"' in read and 'href="11_multiverse.html"' in read
    b1 = c.set_index("id").loc["B1"]
    assert html.escape(scorecard.claim_sentence(b1.to_dict() | {"id": "B1"})) in read
    assert narrative.reading_html(e, only="multiverse").count("<li><p>") == 2
    with pytest.raises(KeyError, match="no claims in section 'Nowhere'"):
        narrative.reading_html(e, "Nowhere")
    c1 = e.set_index("id").loc["C1", "verdict"]
    assert c1.endswith("this build's numbers: " + c.set_index("id").loc["C1", "this_build_numbers"])
    rows = narrative.scorecard_rows_html(c, e)
    assert re.findall(r'<div class="intercity-claim" id="(claim-[a-z0-9]+)">', rows) == \
        [narrative.claim_anchor(i) for i in c["id"]]


def test_verdict_words_shorten_the_synthetic_reason_only():
    c = _card(f=facts(source="synthetic"))
    for r in c.to_dict("records"):
        words = narrative.verdict_words(r)
        assert scorecard.SYNTHETIC_REASON not in words and "the synthetic world is not China" in words
    pub = _card(f=facts(source="public", kinds={"patents": "proxy"})).set_index("id").loc["M7"].to_dict()
    assert narrative.verdict_words(pub) == scorecard.claim_sentence(pub)


def test_measurement_reading_names_the_claims_resting_on_the_transfer():
    c = _card()
    text = narrative.measurement_reading(c)
    for cid in ("C1", "C2", "B1", "R3", "F5"):  # maps; IT_direction; IT as regressor; IT in a tier
        assert f"#claim-{cid.lower()}" in text, cid
    for cid in ("M1", "M7"):  # mechanism outcomes are city factors, regressors connectivity
        assert f"#claim-{cid.lower()}" not in text, cid


# ----------------------------------------------------------------------------- glued numbers

def test_tier_counts_sort_tiers_by_distance_and_count_pairs_per_period():
    tiers = ["1000-2000", "0-200", "2000-4000", "200-500", "500-1000"]
    panel = pd.DataFrame({"period": ["p1"] * 5 + ["p2"] * 5, "tier": tiers * 2})
    counts = narrative.tier_counts(panel)
    assert list(counts["distance tier (km)"]) == ["0-200", "200-500", "500-1000", "1000-2000", "2000-4000"]
    assert list(counts.columns) == ["distance tier (km)", "ordered pairs, p1", "ordered pairs, p2"]
    assert "Pair-periods" not in tables.spec("tier-counts").title


def test_measurement_values_ledger_and_tier_counts():
    panel = pd.DataFrame({"IT": [1.0, -2.0, 4.0, 1.0], "IT_direction": [1, 0, 1, 1],
                          "period": ["a", "a", "b", "b"], "tier": ["0-200", "200-500", "0-200", "0-200"]})
    desc = pd.DataFrame({"variable": ["IT", "IT_direction"], "published mean": [0.5, 0.25]})
    assert narrative.measurement_values(panel, desc) == {
        "meas_rows": "4", "meas_it_mean": "1.000", "meas_dir_share": "0.750", "meas_it_mean_pub": "0.500",
        "meas_dir_share_pub": "0.250"}
    counts = narrative.tier_counts(panel).set_index("distance tier (km)")
    assert counts.at["0-200", "ordered pairs, a"] == 1 and counts.at["0-200", "ordered pairs, b"] == 2
    assert counts.at["200-500", "ordered pairs, b"] == 0
    ledger = pd.DataFrame({"stage": ["bundle", "bundle", "panel"], "kind": ["city", "city", "pair"],
                           "reason": ["no data", "no data", "far"]})
    assert narrative.ledger_counts(ledger).to_dict("list") == {
        "stage": ["bundle", "panel"], "kind": ["city", "pair"], "reason": ["no data", "far"], "count": [2, 1]}


def test_parenthesis_values_count_the_readings_and_the_areg_factor():
    from intercity import models

    cmp = pd.DataFrame({"paren_is": ["se", "t", "t", "ambiguous"]})
    panel = pd.DataFrame({"pair_id": [1, 1, 2, 2, 3, 3] * 10})
    study = SimpleNamespace(params=CI, panel=panel)
    v = narrative.parenthesis_values(cmp, study)
    k = 1 + len(models.CONTROL_COLUMNS) + 1 + 1
    assert v == {"paren_n": "4", "paren_se": "1", "paren_t": "2", "paren_ambiguous": "1",
                 "se_factor_areg": f"{models.areg_se_factor(60, 3, k):.2f}"}


@pytest.mark.slow
def test_background_values_on_the_ci_study(ci_study):
    from intercity import networks

    v = narrative.background_values(ci_study)
    labels = ci_study.params.period_labels
    assert v["bg_period_1"] == labels[0] and v["bg_period_2"] == labels[-1]
    growth = networks.connectivity_by_year(ci_study.data.pair_year).set_index("year")
    first = min(ci_study.params.mrio_years)
    assert v["bg_hsr_first"] == f"{growth.at[first, 'hsr_pairs']:,}"
    ranks = networks.destination_ranks(ci_study.transfers, ci_study.data.cities)
    near = networks.nearest_first(ranks).set_index("period")
    assert v["bg_p_first_1"] == f"{near.at[labels[0], 'p_first']:.2f}"
    assert all(isinstance(x, str) and x for x in v.values())


# ----------------------------------------------------------------------------- the notebooks

CHAPTERS_WITH_CLAIMS = {"01_background": "Characteristics", "03_baseline": "Baseline", "04_robustness": "Robustness",
                        "05_mechanism": "Mechanism", "06_distance": "Distance"}


def _nb(name: str):
    return nbformat.read(paths.NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


def test_every_chapter_opens_with_what_it_asks_and_needs_and_ends_with_a_generated_reading():
    for name in ("01_background", "02_measurement", "03_baseline", "04_robustness", "05_mechanism", "06_distance",
                 "08_scorecard", "10_design_lab", "11_multiverse"):
        nb = _nb(name)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "## Question" in text and "**What it needs.**" in text, name
        assert text.index("## Question") < text.index("**What it needs.**") < text.index("## Method"), name
        if name != "08_scorecard":
            assert "## Reading\n" in text, name
    for name, section in CHAPTERS_WITH_CLAIMS.items():
        code = [c.source for c in _nb(name).cells if c.cell_type == "code"]
        assert any(f'narrative.reading(' in s and f'"{section}"' in s for s in code), name
        md = "\n".join(c.source for c in _nb(name).cells if c.cell_type == "markdown")
        assert not re.search(r"^- \*\*[A-Z]\d\*\*", md, re.M), f"{name}: claim ids typed in the prose"
    assert any("narrative.scorecard_rows(" in c.source for c in _nb("08_scorecard").cells)
    assert any("narrative.key_results_box(" in c.source for c in _nb("00_intro").cells)


def test_display_cells_hide_their_code_and_only_the_set_up_shows_a_toggle_by_default():
    for f in sorted(paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(f, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata["tags"], f.name
        shown = [c for c in code[1:] if "hide-input" in c.metadata.get("tags", [])]
        assert code[1] in shown, f.name  # the set-up
        assert len(shown) <= 3, f"{f.name}: {len(shown)} code toggles"
        for c in code[1:]:
            assert c.metadata.get("tags"), f"{f.name}: a code cell without a hide/remove tag: {c.source[:40]}"


def test_no_cell_that_displays_a_table_or_figure_is_removed_whole():
    for f in sorted(paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        for c in nbformat.read(f, as_version=4).cells:
            if c.cell_type == "code" and "remove-cell" in c.metadata.get("tags", []):
                assert not re.search(r"report\.(table|show|postbuild)\(|figures\.show\(", c.source), \
                    f"{f.name}: {c.source[:60]}"


def test_the_set_up_imports_what_the_chapter_uses_and_no_later_cell_imports():
    for f in sorted(paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")):
        code = [c.source for c in nbformat.read(f, as_version=4).cells if c.cell_type == "code"]
        first, call = [ln for ln in code[1].splitlines() if ln.strip()]
        assert first.startswith("from intercity import ") and call == "P, S = report.setup(globals())", f.name
        names = [m.strip().split(" as ")[-1] for m in first.split("#")[0].removeprefix("from intercity import ").split(",")]
        later = "\n".join(code[2:])
        assert not re.search(r"^\s*(from|import) ", later, re.M), f"{f.name}: an import after the set-up"
        unused = [m for m in names if m != "report" and not re.search(rf"\b{m}\.", later)]
        assert not unused, f"{f.name}: imports {unused} without using them"


def test_intro_tables_stack_on_a_narrow_screen_like_every_book_table():
    """The key-results and what-differs tables were plain HTML: at 420 px their columns were cut off.
    They carry the book's stacking classes and a data-label on every cell (intercity.book.CSS)."""
    import re

    c = _card(f=facts(source="public", kinds={"patents": "proxy"}))
    p = CI.model_copy(update={"data_source": "public"})
    for box in (narrative.key_results_html(c, "public"), narrative.key_results_html(_card(f=facts(source="synthetic")),
                                                                                    "synthetic"),
                narrative.differences_html(narrative.differences(p, _data("public", {}), REALISM))):
        assert re.search(r'<table class="[^"]*\bintercity-table\b[^"]*\bintercity-stack\b', box)
        assert '<div class="intercity-table-wrap' in box
        heads = re.findall(r"<th>([^<]*)</th>", box)
        cells = re.findall(r"<td( data-label=\"[^\"]*\")?>", box)
        assert cells and all(cells), "a cell without data-label"
        labels = re.findall(r'<td data-label="([^"]*)">', box)
        assert set(labels) <= {h.replace("&#x27;", "'") for h in heads}


# ----------------------------------------------------------------------------- the stand-in MRIO, once per page

STANDIN = ("The city MRIO of this source is a stand-in: national tables regionalised to cities (value added and "
           "employment) and a distance-gravity trade model; it is not the CEADs table.")


def test_the_stand_in_description_is_given_once_per_page_and_the_rows_refer_to_it():
    c = _card(f=facts(source="public", standin=STANDIN))
    assert (c["mrio_standin"] != "").sum() > 3
    ev = narrative.claim_evidence(c)
    for section in ("Baseline", "Characteristics"):
        page = narrative.reading_html(ev, section)
        assert page.count(html.escape(STANDIN)) == 1, section
        assert "stand-in MRIO, see note 1" in page and 'id="note-standin"' in page
    rows = narrative.scorecard_rows_html(c, ev)
    assert rows.count(html.escape(STANDIN)) == 1
    table = scorecard.section_table(c, "Baseline")
    assert not table["why"].str.contains(STANDIN, regex=False).any()
    assert table["why"].str.contains("see note 1 under the Reading").any()
    reasons = scorecard.reasons_table(c)
    assert not reasons["not testable because"].str.contains(STANDIN, regex=False).any()
    # without a stand-in, no note
    plain = narrative.claim_evidence(_card(f=facts(source="ceads")))
    assert "note-standin" not in narrative.reading_html(plain, "Baseline")


def test_in_numbers_says_in_the_same_sentence_that_untestable_numbers_are_not_evidence_and_why():
    c = _card(f=facts(source="public", standin=STANDIN))
    lead = narrative.numbers_lead(c, "Baseline")
    assert lead.startswith("In numbers, with pair-clustered standard errors, and not evidence for or against")
    assert "trade shares do not respond to connectivity" in lead and scorecard.STANDIN_BUILDS_IN in lead
    assert "." not in lead.rstrip(".").split("(")[0]  # one sentence, completed by the chapter's numbers
    # a source that tests the claims: no caveat
    assert narrative.numbers_lead(_card(f=facts(source="ceads")), "Baseline") == \
        "In numbers, with pair-clustered standard errors"
    # a claim untestable for another reason is named with the Reading's reasons
    other = narrative.numbers_lead(_card(f=facts(source="public", kinds={"patents": "proxy"})), "Mechanism")
    assert "M7" in other and "for the reasons in the Reading" in other and "stand-in" not in other
    with pytest.raises(KeyError):
        narrative.numbers_lead(c, "Nowhere")


def test_chapters_glue_the_numbers_lead_into_their_in_numbers_sentence():
    for stem, section in (("03_baseline", "baseline"), ("04_robustness", "robustness"),
                          ("05_mechanism", "mechanism"), ("06_distance", "distance")):
        nb = nbformat.read(paths.NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells)
        assert f"{{glue:text}}`numbers_{section}_lead`" in text, stem
        assert f"numbers_lead(card, \"{section.title()}\")" in text, stem


def test_parameter_tables_report_the_cities_a_set_keeps_not_273_on_the_public_source(tmp_path):
    """The public source at scale 1 keeps every city its inputs cover (283 > 273): the parameter
    page and the reproducibility chapter's table of sets must not say 273 for it."""
    from intercity import book, report

    base = params.load(paths.PARAMS_DIR / "ci.yaml").to_dict()
    public = {**base, "data_source": "public", "scale": 1.0}
    synthetic = {**base, "data_source": "synthetic", "scale": 1.0}
    kept = book.parameter_table(public).set_index("parameter").loc["cities kept (derived)"]
    assert kept["value"] == "every city the inputs cover" and "273" not in kept["value"]
    assert book.parameter_table(synthetic).set_index("parameter").at["cities kept (derived)", "value"] == "273"
    import yaml

    (tmp_path / "pub.yaml").write_text(yaml.safe_dump(public))
    (tmp_path / "syn.yaml").write_text(yaml.safe_dump(synthetic))
    sets = report.parameter_sets(tmp_path).set_index("file")
    assert sets.at["params/pub.yaml", "cities"] == "every city the inputs cover"
    assert sets.at["params/syn.yaml", "cities"] == "273"


def test_intro_and_background_count_the_same_hsr_lines_and_the_summary_counts_every_ledger_entry():
    info = {"lines_station_lists": 47, "lines_railvis_key_stations": 20, "lines_malin84_segment_ends": 3}
    hsr = {"measure": "stations", "lines": 70, "missing": "x", "info": info}
    words = narrative.hsr_lines_words(hsr)
    assert words == ("70 lines (47 with full station lists, 20 from the line list's key stations, "
                     "3 from segment ends only)")
    diff = narrative.differences(CI, _data("public", {"hsr": hsr}), REALISM).set_index("aspect")
    assert words in diff.at["HSR connectivity", "this build"]
    assert narrative.hsr_lines_words({"lines": 12, "info": {"lines": 12}}) == "12 lines"
    nb = nbformat.read(paths.NOTEBOOK_DIR / "01_background.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    assert "{glue:text}`bg_hsr_lines`" in text and "47 lines" not in text
    # the bundle summary counts the HSR line and station entries the measurement ledger shows
    from intercity import schema

    ledger = pd.DataFrame({"stage": ["hsr", "hsr", "universe", "panel"], "kind": ["line", "station", "city", "pair"],
                           "id": "", "name": "", "reason": "r"})
    fake = SimpleNamespace(cities=pd.DataFrame({"city_id": ["1", "2"]}),
                           city_year=pd.DataFrame({"year": [2012, 2017]}),
                           mrio={2012: SimpleNamespace(sectors=["a"])}, source="public", ledger=ledger)
    rows = dict(schema.StudyData.summary(fake).itertuples(index=False))
    assert rows["ledger entries on cities (dropped or unmatched names)"] == "1"
    assert rows["ledger entries on pairs, HSR lines and stations (every entry not on a city)"] == "3"
