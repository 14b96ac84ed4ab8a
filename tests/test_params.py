import subprocess
import sys

import pytest

from intercity import params, paths


def test_default_and_ci_load():
    d = params.load(paths.PARAMS_DIR / "default.yaml")
    c = params.load(paths.PARAMS_DIR / "ci.yaml")
    assert d.n_cities == 273 and d.name == "default"
    assert 4 <= c.n_cities < d.n_cities and c.name == "ci"
    assert d.mrio_years == (2012, 2015, 2017)
    assert d.period_labels == ("2012-2015", "2015-2017")


@pytest.mark.parametrize("bad, words", [
    ({"data_source": "nonsense"}, ["'data_source'", "'nonsense'", "synthetic"]),
    ({"scale": -0.5}, ["'scale'", "-0.5", "0 < scale <= 1"]),
    ({"scale": 0}, ["'scale'", "0 < scale <= 1"]),
    ({"scale": "big"}, ["'scale'"]),
    ({"seed": -1}, ["'seed'", "non-negative integer"]),
    ({"cluster": "state"}, ["'cluster'", "pair", "twoway"]),
    ({"periods": [[2015, 2012]]}, ["'periods'"]),
    ({"distance_tiers_km": [100, 50]}, ["'distance_tiers_km'"]),
    ({"colour": "red"}, ["unknown parameter", "colour"]),
    # tried as a new user would (issue 11): each passed, or failed later with a traceback
    ({"distance_tiers_km": "0259"}, ["'distance_tiers_km'", "'0259'", "strictly increasing"]),
    ({"distance_tiers_km": [0, float("nan")]}, ["'distance_tiers_km'", "nan", "finite"]),
    ({"periods": [[2012, 2015.9], [2015.9, 2017]]}, ["'periods'", "2015.9"]),
    ({"name": None}, ["'name'", "empty"]),
    ({"name": "../../x"}, ["'name'", "'../../x'", "letters, digits"]),
    ({"name": ""}, ["'name'"]),
    ({"periods": [[2010, 2015], [2015, 2017]]}, ["'periods'", "2010 is not an MRIO year", "2012, 2015, 2017"]),
    ({"periods": [[2012, 2016], [2016, 2017]]}, ["'periods'", "2016 is not an MRIO year"]),
    ({"periods": [[2012, 2015], [2016, 2017]]}, ["'periods'", "not consecutive"]),
    ({"seed": True}, ["'seed'", "non-negative integer"]),
    ({"seed": 3.0}, ["'seed'"]),
    ({"scale": float("inf")}, ["'scale'"]),
    ({"money_unit": "usd"}, ["'money_unit'", "'usd'", "10k yuan"]),
    ({"hsr_measure": "lines"}, ["'hsr_measure'", "'lines'", "key_stations"]),
    # parameter sets that cannot be estimated stop here, naming the minimum (issue 9)
    ({"periods": [[2012, 2017]]}, ["'periods'", "1 period(s)", "at least 2"]),
    ({"scale": 0.03}, ["'scale'", "8 cities", "at least 0.0549 (15 cities)"]),
])
def test_bad_values_name_parameter_and_allowed_values(bad, words):
    values = {"data_source": "synthetic", "scale": 0.5, "seed": 1, **bad}
    with pytest.raises(params.ParamsError) as err:
        params.from_mapping(values)
    for w in words:
        assert w in str(err.value)


@pytest.mark.parametrize("missing", ["data_source", "scale", "seed"])
def test_missing_parameter_is_named(missing):
    values = {"data_source": "synthetic", "scale": 0.5, "seed": 1}
    del values[missing]
    with pytest.raises(params.ParamsError, match=f"'{missing}' is missing"):
        params.from_mapping(values)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(params.ParamsError, match="not found"):
        params.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("data_source: [unclosed\n")
    with pytest.raises(params.ParamsError, match="bad.yaml"):
        params.load(bad)


@pytest.mark.parametrize("content, words", [
    ("data_source: nonsense\nscale: 0.1\nseed: 1\n", ["data_source", "nonsense", "synthetic"]),
    ("data_source: synthetic\nscale: -2\nseed: 1\n", ["scale", "-2"]),
    ("data_source: synthetic\nscale: 0.1\nseed: 1\nperiods: [[2012, 2015], [2015, 2018]]\n",
     ["p.yaml", "periods", "2018 is not an MRIO year"]),
    ("data_source: synthetic\nscale: 0.1\nseed: 1\nname: ../../x\n", ["p.yaml", "name", "../../x"]),
    ("- just\n- a list\n", ["p.yaml", "expected a mapping"]),
    ("data_source: synthetic\nscale: 0.01\nseed: 1\n", ["p.yaml", "scale", "15 cities"]),
])
def test_build_command_stops_with_named_parameter(tmp_path, content, words):
    f = tmp_path / "p.yaml"
    f.write_text(content)
    run = subprocess.run([sys.executable, "-m", "intercity", "build", "--params", str(f)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    for w in words:
        assert w in run.stderr
    assert "Traceback" not in run.stderr


def test_only_unknown_notebook_is_rejected():
    from intercity import runner

    with pytest.raises(params.ParamsError, match="no such notebook"):
        runner.notebooks("99_nothing")
    assert [p.stem for p in runner.notebooks("03_baseline")] == ["03_baseline"]


def test_every_message_is_one_line_naming_the_file(tmp_path):
    f = tmp_path / "mine.yaml"
    for body in ("data_source: synthetic\nscale: 0.5\nseed: 1\ndistance_tiers_km: '0259'\n",
                 "data_source: synthetic\nscale: 0.5\nseed: 1\nperiods: [[2012, 2015], [2015]]\n",
                 "data_source: synthetic\nscale: [0.5]\nseed: 1\n",
                 "data_source: synthetic\nscale: 0.5\nseed: 1\nname:\n"):
        f.write_text(body)
        with pytest.raises(params.ParamsError) as err:
            params.load(f)
        assert "\n" not in str(err.value) and str(f) in str(err.value)


def test_money_unit_and_namespace():
    p = params.from_namespace({"data_source": "synthetic", "scale": 0.5, "seed": 1, "money_unit": "yuan",
                               "unrelated_variable": object()})
    assert p.money_unit == "yuan" and p.money_factor == 1e-4
    assert params.from_mapping(p.to_dict()) == p  # round trip through what papermill injects
