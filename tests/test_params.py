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
