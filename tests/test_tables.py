"""The tables of the book: the study-layout tables and what the build writes to results/ (both
clusterings' standard errors with p and stars, the controls that entered and those left out with
the reason, the money unit in every table note); the table registry behind the tables index and
the CSV downloads; the one number format; report.table's HTML and CSV."""

from __future__ import annotations

import copy
import math
import re

import nbformat
import numpy as np
import pandas as pd
import pytest

from intercity import formatting, models, panel as panel_mod, paths, reference, report, runner, tables


@pytest.fixture(scope="module")
def compared_without_hcl(ci_study) -> pd.DataFrame:
    """The published rows estimated with hcl left out as the public source leaves it out."""
    data = copy.copy(ci_study.data)
    cy = data.city_year.copy()
    cy["college_per_pop"] = 0.0123
    data.city_year = cy
    leave_out = panel_mod.controls_left_out(data)
    est = models.fit_specs(ci_study.panel, models.published_specs(), leave_out=leave_out)
    est.insert(est.columns.get_loc("r2_within") + 1, "money_unit", "10k yuan")
    return models.compare_published(est)


def test_study_layout_has_one_row_per_published_model_column(compared_without_hcl):
    cmp = compared_without_hcl
    for table in ("baseline_direction", "gradient_scale", "mechanism_fixed_capital", "robust_reverse_causality"):
        layout = tables.study_layout(cmp, table)
        published = reference.published_tables().query("table == @table")
        assert list(layout.columns) == list(tables.MODEL_COLUMNS)
        assert sorted(layout["column"]) == sorted(published["column"]), table  # one row per model column
        assert layout.attrs[tables.LAYOUT_ATTR] == "models"
        words = [*layout["group"], *layout["label"], *layout.attrs["constant"].values()]
        assert not [w for w in words if "_" in w], words  # readable names, from intercity.variables
        # the published and this build's numbers of a model sit in the same row
        for r in layout.itertuples():
            pub = published.set_index("column").loc[r.column]
            ours = cmp[(cmp["table"] == table) & (cmp["column"] == r.column)].iloc[0]
            assert layout.at[r.Index, "published coef"] == pub["coef"]
            assert layout.at[r.Index, "published parenthesis"] == pub["paren"]
            assert layout.at[r.Index, "coef"] == ours["coef"]
            assert layout.at[r.Index, "SE (pair)"] == ours["se_pair"]
            assert layout.at[r.Index, "SE (two-way)"] == ours["se_twoway"]
            assert layout.at[r.Index, "p (two-way)"] == ours["p_twoway"]
            assert layout.at[r.Index, "N"] == ours["nobs"] and layout.at[r.Index, "published N"] == pub["nobs"]
            assert layout.at[r.Index, "parenthesis holds"] == tables.PAREN_WORDS[ours["paren_is"]]


def test_study_layout_groups_by_regressor_with_readable_names(compared_without_hcl):
    layout = tables.study_layout(compared_without_hcl, "gradient_scale")
    assert list(layout["group"]) == ["HSR connectivity"] * 2 + ["information connectivity"] * 2
    assert list(layout["model"]) == ["(1)", "(2)", "(3)", "(4)"]
    assert list(layout["label"]) == ["down-gradient pairs", "up-gradient pairs"] * 2
    assert layout.attrs["constant"] == {"dependent": "industrial transfer (IT)", "controls": "with controls"}
    # one regressor in every column (reverse causality): grouped by outcome
    rc = tables.study_layout(compared_without_hcl, "robust_reverse_causality")
    assert set(rc["group"]) == {"HSR connectivity", "information connectivity"} and set(rc["regressor"]) == {"IT"}
    mech = tables.study_layout(compared_without_hcl, "mechanism_fixed_capital")
    assert list(mech["model"]) == ["(1)", "(2)", "(5)", "(6)", "(3)", "(4)", "(7)", "(8)"]  # grouped by regressor
    assert mech.at[0, "label"] == "fixed capital (log), origin is the developed city"


def test_study_layout_names_the_controls_and_the_note_says_why(compared_without_hcl):
    cmp = compared_without_hcl
    layout = tables.study_layout(cmp, "gradient_scale").set_index("column")
    assert layout.at[2, "controls entered"] == "edl, ul, fil, ftl, gel"
    assert layout.at[2, "controls left out"] == "hcl"
    text = tables.note(cmp, "gradient_scale")
    assert "hcl: constant on this source (college_per_pop = 0.0123 for every city and year, synthetic)" in text
    assert "Transfers in 10k yuan before the signed log" in text
    assert "two-way SE clustered by origin and destination city" in text


def _rows(html_text: str) -> list[str]:
    """The model rows of a models table: every body row but the group headings."""
    body = html_text.split("</thead>", 1)[1]
    return [r for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_models_html_shows_published_and_reproduced_in_one_row(compared_without_hcl):
    cmp = compared_without_hcl.copy()
    sel = (cmp["table"] == "gradient_scale") & (cmp["column"] == 3)
    cmp.loc[sel, ["p_twoway", "stars_twoway"]] = [0.00002, "***"]
    layout = tables.study_layout(cmp, "gradient_scale")
    out = report.table_html(layout, caption="the note", table_id="gradient_scale", kind="results", title="Gradient")
    rows = _rows(out)
    assert len(rows) == 4  # one row per model column
    assert out.count('class="intercity-group"') == 2  # HSR, information
    r3 = next(r for r in rows if ">(3)<" in r)
    ours = cmp[sel].iloc[0]
    assert f">{formatting.number(2.266)}***<" in r3 and "(12.427) t<" in r3  # published, as printed, and its reading
    assert f">{formatting.number(ours['coef'])}{ours['stars_pair']}<" in r3  # this build, beside it
    assert f">{formatting.number(ours['se_pair'])}<" in r3 and f"t {formatting.number(ours['t_pair'], 2)}" in r3
    assert f">{formatting.number(ours['se_twoway'])}<" in r3 and "p &lt; 0.001 ***" in r3
    assert ">74,256<" in r3 and f">{formatting.count(ours['nobs'])}<" in r3 and ">0.463<" in r3
    assert "0.000" not in out.replace("0.0000", "")  # no p value printed as 0.000
    assert 'data-label="SE, two-way (p)"' in r3  # the stacked layout of a narrow screen names each cell
    assert "<caption>" in out and "Gradient" in out and "the note" in out
    assert "Every model: outcome: industrial transfer (IT); controls of both cities" in out


def test_a_model_not_identified_has_no_se_p_or_stars(compared_without_hcl):
    cmp = compared_without_hcl.copy()
    sel = (cmp["table"] == "baseline_direction") & (cmp["column"] == 2)
    cmp.loc[sel, "identified"] = False
    cmp.loc[sel, "note"] = "not identified: connectivity_HSR has no variation within pairs in this sample"
    layout = tables.study_layout(cmp, "baseline_direction").set_index("column")
    assert not layout.at[2, "identified"]
    assert layout.loc[2, ["coef", "SE (pair)", "p (pair)", "SE (two-way)", "p (two-way)"]].isna().all()
    assert layout.at[2, "stars (pair)"] == layout.at[2, "stars (two-way)"] == ""
    assert layout.at[2, "published coef"] == 0.142  # the published side stays
    out = report.table_html(tables.study_layout(cmp, "baseline_direction"), table_id="t", kind="results")
    r2 = next(r for r in _rows(out) if ">(2)<" in r)
    assert "not identified" in r2 and "p =" not in r2 and "p &lt;" not in r2 and "t -" not in r2
    assert "note-1" in r2 and "has no variation within pairs" in out.split("</table>", 1)[1]


def test_synergy_layout_names_models_by_tier_without_published_columns(ci_study):
    from intercity import pipeline

    est = pipeline.estimates(ci_study)
    layout = tables.synergy_layout(est)
    syn = est[est["table"].str.startswith("synergy_")]
    assert len(layout) == len(syn)
    assert list(dict.fromkeys(layout["group"])) == ["HSR x information", "HSR connectivity", "information connectivity"]
    assert layout["model"].is_unique and layout["model"].str.contains(" km ").all()
    assert layout["published coef"].isna().all()
    out = report.table_html(layout, table_id="synergy-tiers", kind="results")
    assert "Published" not in out.split("</thead>")[0] and len(_rows(out)) == len(syn)
    with pytest.raises(KeyError, match="synergy"):
        tables.synergy_layout(est[~est["table"].str.startswith("synergy_")])


def test_tier_layout_shows_the_tier_estimates_nearest_first(ci_study):
    from intercity import pipeline

    est = pipeline.estimates(ci_study)
    layout = tables.tier_layout(est)
    rows = est[est["table"].str.startswith("tier_")]
    assert len(layout) == len(rows) and layout["model"].is_unique
    for group, sub in layout.groupby("group", sort=False):
        km = [tables.tier_start_km(t) for t in sub["tier"]]
        assert km == sorted(km), group
    assert {"coef", "SE (pair)", "SE (two-way)", "p (two-way)", "N"} <= set(layout.columns)
    assert tables.spec("tier-estimates").page == "06_distance"
    with pytest.raises(KeyError, match="tier"):
        tables.tier_layout(est[~est["table"].str.startswith("tier_")])
    with pytest.raises(ValueError, match="far"):
        tables.tier_start_km("far")


def test_descriptive_stats_show_published_and_this_build_max_in_one_cell(ci_study):
    desc = report.descriptive_comparison(ci_study.panel)
    out = report.table_html(desc, table_id="descriptive-stats")
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", out, re.S) if "edl<" in r)
    edl = desc.set_index("variable").loc["edl"]
    cell = re.search(r'<td class="num" data-label="max">(.*?)</td>', row).group(1)
    assert formatting.number(edl["published max"]) in cell and formatting.number(edl["max"]) in cell
    assert "GDP per capita" in row  # the variables table's words


def test_transpose_turns_a_wide_count_table_on_its_side():
    wide = pd.DataFrame({"section": ["A", "B"], "claims": [2, 3], "hold": [1, 0]})
    out = tables.transpose(wide, "section", "count")
    assert list(out.columns) == ["count", "A", "B"] and list(out["count"]) == ["claims", "hold"]
    assert out["B"].tolist() == [3, 0] and pd.api.types.is_integer_dtype(out["A"])
    with pytest.raises(KeyError, match="nope"):
        tables.transpose(wide, "nope")
    with pytest.raises(ValueError, match="repeats"):
        tables.transpose(pd.concat([wide, wide]), "section")


def test_a_study_table_csv_keeps_the_raw_numbers(compared_without_hcl, tmp_path):
    layout = tables.study_layout(compared_without_hcl, "gradient_scale")
    report.table(layout, id="gradient_scale", csv_dir=tmp_path)
    back = pd.read_csv(tmp_path / "gradient_scale.csv")
    assert list(back.columns) == list(tables.MODEL_COLUMNS) and len(back) == 4
    assert back["coef"].tolist() == pytest.approx(layout["coef"].tolist(), rel=1e-12)


def test_clustering_summary_counts():
    rows = pd.DataFrame({"table": ["a", "a", "a", "b"], "identified": [True, True, False, True],
                         "se_pair": [1.0, 2.0, float("nan"), 1.0], "se_twoway": [2.0, 8.0, float("nan"), 1.0],
                         "stars_pair": ["**", "*", "", "***"], "stars_twoway": ["", "*", "", "***"]})
    out = tables.clustering_summary(rows, ("a",), "x")
    assert out == {"x_models": "3", "x_not_identified": "1", "x_n": "2", "x_ratio_median": "3.00",
                   "x_ratio_min": "2.00", "x_ratio_max": "4.00", "x_starred_pair": "2", "x_lose_stars": "1"}


def test_results_models_csv_has_both_clusterings_and_the_controls(ci_study, tmp_path):
    runner.write_results(ci_study, tmp_path)
    cmp = pd.read_csv(tmp_path / "models.csv", keep_default_na=False, na_values=[""])
    assert len(cmp) == len(models.published_specs())
    for col in ("se_pair", "p_pair", "stars_pair", "se_twoway", "p_twoway", "stars_twoway", "controls_in",
                "controls_out", "money_unit", "identified", "df_resid", "nobs_lost"):
        assert col in cmp.columns, col
    ok = cmp["identified"].astype(bool)
    assert cmp.loc[ok, ["se_pair", "p_pair", "se_twoway", "p_twoway"]].notna().all().all()
    assert (cmp.loc[ok & (cmp["controls"] == "yes"), "controls_in"].str.count(";") == 11).all()
    assert (cmp["money_unit"] == "10k yuan").all()


def _code_cells(stem: str) -> list[str]:
    nb = nbformat.read(paths.NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code"]


# ----------------------------------------------------------------------------- the registry

def test_every_registered_table_is_shown_under_its_id_in_its_notebook():
    for t in tables.TABLES:
        if t.generated:
            continue
        cell = tables.display_cell(t.id)
        assert cell is not None, f"{t.id}: not displayed (quoted, in a report.table call) in {t.page}"
        src = _code_cells(t.page)[cell - 1]
        assert ("report.postbuild(" in src) == t.postbuild, t.id


def test_every_table_call_of_the_notebooks_names_a_registered_id():
    ids = set(tables.TABLE_BY_ID)
    for f in sorted(paths.NOTEBOOK_DIR.glob("*.ipynb")):
        for src in _code_cells(f.stem):
            for call in re.finditer(r"report\.table\(", src):
                depth, k = 1, call.end()
                while depth:
                    depth += {"(": 1, ")": -1}.get(src[k], 0)
                    k += 1
                args = src[call.end():k - 1]
                m = re.search(r"\bid=(\"[^\"]+\"|'[^']+'|\w+)", args)
                assert m, f"{f.name}: report.table without id= ({args[:60]}...)"
                literal = m.group(1).strip("\"'")
                if m.group(1)[0] in "\"'":
                    assert literal in ids, f"{f.name}: table id {literal!r} is not registered"
                    assert tables.spec(literal).page == f.stem, f"{literal} is registered to another page"
                else:  # a loop variable: every quoted registered id in the cell belongs to this page
                    quoted = set(re.findall(r"\"([\w-]+)\"", src)) & ids
                    assert quoted and all(tables.spec(q).page == f.stem for q in quoted), f.name


def test_the_index_lists_every_table_with_its_cell_function_and_csv():
    idx = tables.index()
    assert list(idx["table"]) == [t.id for t in tables.TABLES]
    assert idx.loc[~idx["page"].isin(["table_index", "parameters", "glossary"]), "code cell"].notna().all()
    assert (idx["CSV"] == "tables/" + idx["table"] + ".csv").all()
    assert set(idx.loc[idx["kind"] == "results", "table"]) >= {"baseline_direction", "mechanism_tech", "synergy-tiers"}


def test_report_table_writes_the_csv_and_links_it(tmp_path):
    frame = pd.DataFrame({"variable": ["a<b", "c"], "coef": [0.1234567, -2e-6], "p": [0.0004, 0.2],
                          "N": [148512, 3280], "year": [2012, 2015]})
    out = report.table(frame, id="descriptive-stats", csv_dir=tmp_path / "tables").data
    back = pd.read_csv(tmp_path / "tables" / "descriptive-stats.csv")
    assert back["coef"].tolist() == pytest.approx(frame["coef"].tolist(), rel=1e-12)  # raw values
    assert f'href="{(tmp_path / "tables" / "descriptive-stats.csv").as_posix()}" download' in out
    assert 'id="descriptive-stats"' in out and "intercity-data" in out
    assert "a&lt;b" in out and "&lt; 0.001" in out and "148,512" in out and ">2012<" in out
    assert "0.123" in out and "-2.00e-06" in out and "0.000" not in out
    with pytest.raises(KeyError, match="not-a-table"):
        report.table(frame, id="not-a-table", csv_dir=tmp_path)


def test_links_become_anchors_built_from_the_row():
    frame = pd.DataFrame({"figure": ["map-a"], "notebook": ["01_x"]})
    out = report.table_html(frame, links={"figure": "{notebook}.html#{figure}"})
    assert '<a href="01_x.html#map-a">map-a</a>' in out


def test_postbuild_placeholder_only_for_postbuild_tables():
    assert "<!--postbuild:page-sizes-->" in report.postbuild("page-sizes").data
    with pytest.raises(KeyError):
        report.postbuild("descriptive-stats")


# ----------------------------------------------------------------------------- number formats

@pytest.mark.parametrize("p, text", [(0.0, "< 0.001"), (0.0004999, "< 0.001"), (0.001, "0.001"), (0.04213, "0.042"),
                                     (1.0, "1.000"), (float("nan"), ""), (None, "")])
def test_pvalue(p, text):
    assert formatting.pvalue(p) == text


@pytest.mark.parametrize("v, digits, text", [
    (1234567.891, 3, "1,234,567.891"), (0.1234, 3, "0.123"), (-0.0, 3, "0.000"), (4.78e-4, 3, "4.78e-04"),
    (-8.87e-06, 3, "-8.87e-06"), (0.0, 2, "0.00"), (float("nan"), 3, ""), (math.inf, 3, "inf"), (2.5, 0, "2")])
def test_number(v, digits, text):
    assert formatting.number(v, digits) == text


@pytest.mark.parametrize("v, text", [(0.012345, "0.0123"), (123.456, "123"), (1.5e6, "1.50e+06"), (-3.2e-5, "-3.20e-05"),
                                     (0.0, "0"), (12345.6, "12,346")])
def test_significant(v, text):
    assert formatting.significant(v, 3) == text


def test_column_kinds_from_names_and_dtypes():
    f = pd.DataFrame({"p": [0.5], "p_twoway": [0.01], "n": [3], "year": [2012], "x": [1.5], "s": ["a"],
                      "ok": [True]})
    kinds = {c: formatting.column_kind(c, f[c].dtype) for c in f.columns}
    assert kinds == {"p": "p", "p_twoway": "p", "n": "count", "year": "plain", "x": "number", "s": "text",
                     "ok": "text"}
    shown = formatting.format_frame(pd.DataFrame({"seconds": [0.004], "N": [np.int64(148512)]}), 2)
    assert shown.iloc[0].tolist() == ["4.0e-03", "148,512"]


def test_note_never_opens_with_a_raw_table_id(compared_without_hcl):
    """A notebook passing the table id (or its words) as the title gets the registered title."""
    cmp = compared_without_hcl
    for title in ("gradient scale", "gradient_scale", "Economic gradient"):
        text = tables.note(cmp, "gradient_scale", title)
        assert text.startswith("This build: stars") and "gradient scale" not in text and "gradient_scale" not in text
