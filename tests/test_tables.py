"""The study-layout tables and what the build writes to results/: both clusterings' standard
errors with p and stars, the controls that entered and those left out with the reason, the money
unit in every table note."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from intercity import models, panel as panel_mod, runner, tables


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


def test_study_layout_shows_both_clusterings_and_the_controls(compared_without_hcl):
    cmp = compared_without_hcl
    layout = tables.study_layout(cmp, "gradient_scale").set_index("")
    assert list(layout.index) == list(tables.ROWS)
    r = cmp[cmp["table"] == "gradient_scale"].set_index("column").loc[2]
    ours = layout["(2) this build"]
    assert ours["coefficient"] == f"{r['coef']:.3f}{r['stars_pair']}"
    assert ours["(parenthesis)"] == f"({r['se_pair']:.3f}) se [t {r['t_pair']:.2f}]"
    assert ours["two-way SE (p)"] == f"({r['se_twoway']:.3f}) p {r['p_twoway']:.3f}{r['stars_twoway']}"
    assert ours["controls entered"] == "edl, ul, fil, ftl, gel"
    assert ours["controls left out"] == "hcl"
    assert layout.loc["controls left out", "(2) published"] == ""
    text = tables.note(cmp, "gradient_scale")
    assert "hcl: constant on this source (college_per_pop = 0.0123 for every city and year, synthetic)" in text
    assert "Transfers in 10k yuan before the signed log" in text
    assert "two-way SE clustered by origin and destination city" in text




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
