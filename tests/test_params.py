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
    # the multiverse section: each field named as section.field, with what it allows
    ({"multiverse": {"transforms": ["slog_10k", "log"]}}, ["'multiverse.transforms'", "'log'", "ihs", "ppml"]),
    ({"multiverse": {"transforms": ["ihs"]}}, ["'multiverse.transforms'", "the study's value 'slog_10k' is missing"]),
    ({"multiverse": {"inference": ["pair", "pair"]}}, ["'multiverse.inference'", "repeated"]),
    ({"multiverse": {"sources": ["census"]}}, ["'multiverse.sources'", "'census'", "available"]),
    ({"multiverse": {"permutations": 100}}, ["'multiverse.permutations'", "100", "R + 1 a multiple of 20"]),
    ({"multiverse": {"shifted_tiers_km": [0, 300, 900]}}, ["'multiverse.shifted_tiers_km'", "2 tiers",
                                                           "six finite numbers"]),
    ({"multiverse": {"ppml": "some"}}, ["'multiverse.ppml'", "'some'", "study"]),
    ({"multiverse": {"workers": -1}}, ["'multiverse.workers'", "-1", "0 = no Dask"]),
    ({"multiverse": {"colour": 1}}, ["unknown parameter 'multiverse.colour'", "multiverse.transforms"]),
    ({"multiverse": "all"}, ["'multiverse'", "a mapping"]),
    ({"scheduler": "localhost:8786"}, ["'scheduler'", "'localhost:8786'", "protocol://host:port"]),
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


@pytest.mark.parametrize("bad, words", [
    ({"knobs": {"info_trade_effect": "strong"}}, ["'knobs.info_trade_effect'", "'strong'", "finite number"]),
    ({"knobs": {"info_trade_effect": float("nan")}}, ["'knobs.info_trade_effect'", "finite"]),
    ({"knobs": {"hsr_effect": 0.1}}, ["unknown parameter 'knobs.hsr_effect'", "knobs.hsr_trade_effect"]),
    ({"knobs": 0.1}, ["'knobs'", "hsr_trade_effect"]),
    ({"world": {"home_bias": -1}}, ["'world.home_bias'", "-1", "positive"]),
    ({"world": {"capacity_shock_sd": -0.1}}, ["'world.capacity_shock_sd'", "non-negative"]),
    ({"lab": {"draws": 1}}, ["'lab.draws'", "integer >= 2"]),
    ({"lab": {"scale": 0.02}}, ["'lab.scale'", "15 cities"]),
    ({"lab": {"permutations": 100}}, ["'lab.permutations'", "R + 1 a multiple of 20"]),
    ({"lab": {"methods": ["pair", "bootstrap"]}}, ["'lab.methods'", "ri", "wild"]),
    ({"lab": {"methods": []}}, ["'lab.methods'", "non-empty"]),
    ({"lab": {"settings": {"x": {"home_bias": 2}}}}, ["'lab.settings'", "'home_bias' is not a truth knob"]),
    ({"lab": {"settings": {}}}, ["'lab.settings'", "no knob setting"]),
    ({"lab": {"treated_share": 0.9}}, ["'lab.treated_share'", "0 < share <= 0.5"]),
    ({"lab": {"workers": -1}}, ["'lab.workers'", ">= 0"]),
    ({"lab": {"seeds": 3}}, ["unknown parameter 'lab.seeds'", "lab.seed"]),
    ({"scheduler": "my-cluster:8786"}, ["'scheduler'", "protocol://host:port"]),
])
def test_knobs_world_lab_and_scheduler_are_validated(bad, words):
    values = {"data_source": "synthetic", "scale": 0.5, "seed": 1, **bad}
    with pytest.raises(params.ParamsError) as err:
        params.from_mapping(values)
    assert "\n" not in str(err.value)
    for w in words:
        assert w in str(err.value)


def test_knob_defaults_lab_defaults_and_scheduler():
    p = params.from_mapping({"data_source": "synthetic", "scale": 0.5, "seed": 1, "scheduler": None})
    assert p.knobs.info_trade_effect == 0.02 and p.knobs.hsr_trade_effect == 0.05 and p.world.home_bias == 150
    assert p.scheduler is None and p.lab.n_cities == 55 and list(p.lab.settings) == [
        "no_effect", "default", "info_x2", "hsr_x4"]
    q = params.from_mapping({**p.to_dict(), "scheduler": "tcp://10.0.0.5:8786", "knobs": {"info_trade_effect": 0.04}})
    assert q.scheduler == "tcp://10.0.0.5:8786" and q.knobs.info_trade_effect == 0.04
    assert params.from_mapping(q.to_dict()) == q
    d = params.load(paths.PARAMS_DIR / "default.yaml")
    assert d.knobs == params.Truth() and d.world == params.World() and d.lab == params.Lab()


def test_knobs_enter_the_synthetic_bundle_key_only():
    from intercity import bundle

    base = {"data_source": "synthetic", "scale": 0.5, "seed": 1}
    a = params.from_mapping(base)
    b = params.from_mapping({**base, "knobs": {"info_trade_effect": 0.04}})
    c = params.from_mapping({**base, "world": {"home_bias": 100}})
    d = params.from_mapping({**base, "lab": {"draws": 3}, "scheduler": "tcp://127.0.0.1:8786"})
    keys = [bundle.cache_key(x, "synthetic") for x in (a, b, c)]
    assert len(set(keys)) == 3
    assert bundle.cache_key(d, "synthetic") == keys[0]  # the lab does not change the book's bundle
    assert a.data_key("public") == b.data_key("public") == c.data_key("public")


def test_multiverse_section_defaults_ci_and_scheduler():
    d = params.load(paths.PARAMS_DIR / "default.yaml")
    c = params.load(paths.PARAMS_DIR / "ci.yaml")
    assert d.multiverse.sources == ("available",) and len(d.multiverse.transforms) == 6
    assert d.multiverse.permutations == 39 and d.scheduler is None
    assert c.multiverse.sources == ("configured",) and c.multiverse.permutations == 19
    for field in ("transforms", "inference", "controls", "gradients", "period_values", "samples", "tier_sets"):
        assert getattr(c.multiverse, field)[0] == params.MULTIVERSE_CHOICES[field][0]  # the study's first
    p = params.from_mapping({"data_source": "synthetic", "scale": 0.5, "seed": 1, "scheduler": "tcp://10.0.0.5:8786",
                             "multiverse": {"tier_sets": ["study"], "shifted_tiers_km": [0, 100, 400, 900, 1800, 4000]}})
    assert p.scheduler == "tcp://10.0.0.5:8786" and p.multiverse.shifted_tiers_km[1] == 100.0
    assert params.from_mapping({**p.to_dict()}) == p                     # round trip through papermill values
    assert params.from_mapping({"data_source": "synthetic", "scale": 0.5, "seed": 1, "scheduler": None}).scheduler is None


@pytest.mark.parametrize("text, key, lines", [
    ("scale: 0.15\nseed: 1\nscale: 0.5\n", "scale", (1, 3)),
    ("name: x\nlab:\n  draws: 4\n  scale: 0.06\n  draws: 5\n", "draws", (3, 5)),
])
def test_duplicate_yaml_key_is_refused_naming_file_key_and_lines(tmp_path, text, key, lines):
    """YAML keys are unique; PyYAML silently keeps the last value of a repeated key: refused instead."""
    f = tmp_path / "dup.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(params.ParamsError) as err:
        params.load(f)
    msg = str(err.value)
    assert "\n" not in msg and str(f) in msg and repr(key) in msg
    assert f"line {lines[0]}" in msg and f"line {lines[1]}" in msg
