"""The one table of every variable: it describes every column of the panel and of the bundle,
every sample and every variable of the published tables, and gives readable labels."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from intercity import models, reference, schema, variables


def test_every_panel_column_is_described(ci_study):
    undescribed = []
    for col in ci_study.panel.columns:
        try:
            variables.get(col)
        except KeyError:
            undescribed.append(col)
    assert not undescribed, undescribed


def test_every_bundle_variable_sample_and_published_variable_is_described():
    names = set(schema.CITY_YEAR_VARS) | set(schema.PAIR_YEAR_VARS) | set(models.SAMPLES)
    pub = reference.published_tables()
    names |= set(pub["dependent"]) | set(pub["regressor"]) | set(reference.descriptive_stats()["variable"])
    missing = [n for n in sorted(names) if n not in {v.name for v in variables.VARIABLES}
               and variables.split_side(n)[1] == ""]
    assert not missing, missing


def test_labels_read_as_words():
    assert variables.label("connectivity_HSR") == "HSR connectivity"
    assert variables.label("edl_i") == "GDP per capita (origin)"
    assert variables.label("factor_tech_j") == "patent applications (log) (destination)"
    assert variables.label("down_gradient", sample=True) == "down-gradient pairs"
    assert variables.label("up_gradient") == "up-gradient pairs"
    assert variables.label("no_such_thing") == "no_such_thing"


def test_every_variable_is_complete_and_named_once():
    seen = set()
    for v in variables.VARIABLES:
        assert v.name not in seen
        seen.add(v.name)
        assert v.label and v.definition and v.built_in and v.kind in variables.KIND_TITLES, v.name
        if v.kind != "sample":
            assert v.source, v.name
    with pytest.raises(KeyError, match="'nope'"):
        variables.get("nope")


def test_the_glossary_names_the_money_unit():
    g = variables.glossary("million yuan")
    assert g.loc[g["name"] == "IT", "unit"].item() == "signed log of million yuan"
    assert list(g.columns) == ["name", "label", "study name", "definition", "unit", "source", "built in", "kind"]


def test_glossary_says_per_source_what_each_yearbook_variable_is():
    """The glossary said factor_fcapital and factor_tech come from "public panels or imputed"; on the
    public source they are a GDP-derived proxy and a non-patent proxy, and it says so, in step with
    the public source's own notes (city_stats.VARIABLE_SOURCES) and the scorecard's inputs."""
    from intercity import scorecard
    from intercity.sources import city_stats

    g = variables.glossary().set_index("name")["source"]
    assert "proxy of net fixed assets, GDP-derived" in g["factor_fcapital"]
    assert "NOT patent counts" in g["factor_tech"] and "research and technical services" in g["factor_tech"]
    assert "imputed" in g["hcl"] and "public panels or imputed" not in " ".join(g)
    for col, nature in variables.PUBLIC_NATURE.items():
        own = re.match(r"\w+", city_stats.VARIABLE_SOURCES[col]).group(0)
        assert re.match(r"\w+", nature).group(0) == {"observed": "real"}.get(own, own), col
    assert set(variables.PUBLIC_NATURE) == set(city_stats.VARIABLE_SOURCES)
    for k, v in scorecard.PANEL_VARIABLES.items():
        if k in variables.INPUTS:
            assert variables.INPUTS[k] == v, k


def test_labels_flag_proxy_and_imputed_variables_from_the_bundles_provenance():
    """Captions said "outcome: patent applications (log)" where the bundle's patents are a proxy, and
    the descriptive table showed imputed constants unflagged: the flag comes from ``prov_<var>``."""
    from types import SimpleNamespace

    cy = pd.DataFrame({"patents": [1.0, 2.0, 3.0, 4.0], "prov_patents": ["proxy"] * 3 + ["imputed"],
                       "college_per_pop": [0.02] * 4, "prov_college_per_pop": ["imputed"] * 4,
                       "gdp_per_capita": [1.0, 2.0, 3.0, 4.0], "prov_gdp_per_capita": ["observed"] * 4,
                       "fdi_gdp": [0.1, 0.2, 0.3, 0.4], "prov_fdi_gdp": ["imputed"] * 3 + ["observed"]})
    data = SimpleNamespace(city_year=cy)
    assert variables.provenance_flag("factor_tech", data) == "proxy: persons employed in research and technical services"
    assert variables.provenance_flag("hcl_i", data) == "imputed constant"
    assert variables.provenance_flag("fil", data) == "imputed"
    assert variables.provenance_flag("edl", data) == "" and variables.provenance_flag("IT", data) == ""
    assert variables.flagged("hcl", data) == "hcl (imputed constant)"
    assert variables.label(variables.flagged("factor_tech", data)) == (
        "patent applications (log) (proxy: persons employed in research and technical services)")
    assert variables.label(variables.flagged("hcl", data)) == "college students / population (imputed constant)"
    frame = pd.DataFrame({"variable": ["edl", "hcl"], "x": [1, 2]})
    frame.attrs["k"] = 1
    out = variables.flag_column(frame, "variable", data)
    assert list(out["variable"]) == ["edl", "hcl (imputed constant)"] and out.attrs == {"k": 1}
    assert list(frame["variable"]) == ["edl", "hcl"]
