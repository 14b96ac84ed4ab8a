"""The one table of every variable: it describes every column of the panel and of the bundle,
every sample and every variable of the published tables, and gives readable labels."""

from __future__ import annotations

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
