"""``data_source: ceads``: the parameter section, its errors, the tables read through it, the city
panel, and the bundle's cache key reading the user's files (fast; the book built on a fake CEADs
directory is tests/test_ceads_book.py)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from intercity import bundle, cachekey, cli, mrio, params, paths
from intercity.schema import CITY_YEAR_VARS, PROVENANCE
from intercity.sources import ceads
from intercity.sources.ceads import fake as ceads_fake
from intercity.sources.ceads import panel

N = 4
YEARS = ceads_fake.YEARS
DATA_YEARS = list(range(2011, 2018))


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    """Tables and the sha256 memo go to a temporary cache."""
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    out = tmp_path_factory.mktemp("fake")
    ceads_fake.write(out, n_cities=N, formats=("mat",), log=lambda m: None)
    return out


def section(d, **over):
    s = {"mrio": {y: str(d / f"city_mrio_{y}.mat") for y in YEARS}, "layout": str(d / "layout.json"),
         "cities": str(d / "city_list.csv"), "unit": "10k yuan"}
    s.update(over)
    return s


def ceads_params(d, **over):
    return params.from_mapping({"data_source": "ceads", "scale": 0.06, "seed": 1, "ceads": section(d, **over)},
                               "p.yaml")


# ---------------------------------------------------------------------------- parameter errors

@pytest.mark.parametrize("over, words", [
    (lambda d: {"mrio": {2012: str(d / "city_mrio_2012.mat"), 2015: str(d / "city_mrio_2015.mat")}},
     ["p.yaml", "'ceads.mrio'", "no file for MRIO year 2017"]),
    (lambda d: {"mrio": {**section(d)["mrio"], 2015: str(d / "gone_2015.mat")}},
     ["p.yaml", "'ceads.mrio.2015'", "gone_2015.mat", "file not found"]),
    (lambda d: {"unit": "lakh"}, ["p.yaml", "'ceads.unit'", "'lakh'", "10k yuan"]),
    (lambda d: {"layout": str(d / "nope.json")}, ["'ceads.layout'", "nope.json", "file not found"]),
    (lambda d: {"cities": str(d / "nope.csv")}, ["'ceads.cities'", "nope.csv", "file not found"]),
    (lambda d: {"cities": None}, ["'ceads.cities'", ".mat file of 2012 names no cities"]),
    (lambda d: {"city_panel": str(d / "nope.csv")}, ["'ceads.city_panel'", "nope.csv", "file not found"]),
    (lambda d: {"mrio": {**section(d)["mrio"], 2012: str(d / "README.md")}},
     ["'ceads.mrio.2012'", "README.md", "not a .mat or spreadsheet"]),
    (lambda d: {"colour": "red"}, ["unknown parameter 'ceads.colour'", "city_panel"]),
])
def test_parameter_errors_are_one_line_naming_parameter_and_file(fake, over, words):
    with pytest.raises(params.ParamsError) as err:
        ceads_params(fake, **over(fake))
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_the_section_goes_with_data_source_ceads_only(fake):
    with pytest.raises(params.ParamsError, match="data_source 'ceads' needs the parameter section 'ceads'"):
        params.from_mapping({"data_source": "ceads", "scale": 0.1, "seed": 1})
    with pytest.raises(params.ParamsError, match="'ceads' is given but data_source is 'synthetic'"):
        params.from_mapping({"data_source": "synthetic", "scale": 0.1, "seed": 1, "ceads": section(fake)})
    # papermill injects ceads = None into every notebook of a non-CEADs build
    assert params.from_mapping({"data_source": "synthetic", "scale": 0.1, "seed": 1, "ceads": None}).ceads is None


def test_relative_paths_are_relative_to_the_project_root(fake, tmp_path):
    d = paths.PROJECT_ROOT / "_build" / "test-ceads-relative"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(fake, d)
    try:
        rel = d.relative_to(paths.PROJECT_ROOT)
        p = ceads_params(rel)
        assert p.ceads.mrio_path(2012) == d / "city_mrio_2012.mat"
        assert set(p.ceads.files()) == {"ceads.mrio.2012", "ceads.mrio.2015", "ceads.mrio.2017", "ceads.layout",
                                        "ceads.cities"}
        # papermill hands the notebooks JSON (string year keys): the same parameters
        again = params.from_mapping(json.loads(json.dumps(p.to_dict())))
        assert again == p
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("layout, words", [
    ({"colour": "red"}, ["parameter 'ceads.layout'", "unknown layout key(s) ['colour']"]),
    ({"unit": "yuan"}, ["parameter 'ceads.layout'", "declares unit 'yuan'", "'ceads.unit' is '10k yuan'"]),
    ({"fd_order": "sideways"}, ["parameter 'ceads.layout'", "fd_order='sideways'"]),
])
def test_layout_errors_name_the_parameter_and_file(fake, tmp_path, layout, words):
    f = tmp_path / "my_layout.json"
    f.write_text(json.dumps({**json.loads((fake / "layout.json").read_text()), **layout}))
    p = ceads_params(fake, layout=str(f))
    with pytest.raises(ceads.CEADSError) as err:
        ceads.layout_for(p.ceads)
    msg = str(err.value)
    assert "\n" not in msg and "my_layout.json" in msg and all(w in msg for w in words), msg
    with pytest.raises(ceads.CEADSError, match="a mapping in the parameter file"):
        ceads.layout_for(ceads_params(fake, layout={"colour": "red"}).ceads)


def test_unmatched_city_names_stop_the_build_listing_them(fake, tmp_path):
    lst = pd.read_csv(fake / "city_list.csv")
    lst.loc[1, "城市"] = "不存在市"
    lst.loc[3, "城市"] = "Atlantis"
    f = tmp_path / "cities.csv"
    lst.to_csv(f, index=False)
    p = ceads_params(fake, cities=str(f))
    with pytest.raises(ceads.CEADSError) as err:
        ceads.read_mrio(p.ceads, list(YEARS))
    msg = str(err.value)
    assert msg.startswith("parameter 'ceads.cities'") and "cities.csv" in msg
    assert "#2 '不存在市'" in msg and "#4 'Atlantis'" in msg and "2 of 4" in msg


def test_one_city_list_per_year(fake, tmp_path):
    """A city list per year (CEADs vintages differ): each year's table reads with its own list."""
    lists = {y: str(fake / "city_list.csv") for y in YEARS}
    p = ceads_params(fake, cities=lists)
    assert p.ceads.city_list_name(2015) == "ceads.cities.2015" and "ceads.cities.2017" in p.ceads.files()
    m, _ = ceads.read_mrio(p.ceads, list(YEARS))
    assert all(len(m[y].cities) == N for y in YEARS)
    wrong = pd.read_csv(fake / "city_list.csv").iloc[::-1]  # 2015's file lists them in another order
    f = tmp_path / "list_2015.csv"
    wrong.to_csv(f, index=False)
    m2, _ = ceads.read_mrio(ceads_params(fake, cities={**lists, 2015: str(f)}).ceads, list(YEARS))
    assert m2[2015].cities == tuple(reversed(m[2015].cities))


def test_table_in_yuan_equals_the_same_table_in_10k_yuan(fake, tmp_path):
    ceads_fake.write(tmp_path, n_cities=N, formats=("mat",), unit="yuan", log=lambda m: None)
    a, _ = ceads.read_mrio(ceads_params(fake).ceads, list(YEARS))
    b, info = ceads.read_mrio(ceads_params(tmp_path, unit="yuan").ceads, list(YEARS))
    for y in YEARS:
        assert np.abs(np.asarray(b[y].Z)).max() > 0
        for k in ("Z", "F", "x"):
            ra, rb = np.asarray(getattr(a[y], k)), np.asarray(getattr(b[y], k))
            assert np.abs(ra - rb).max() <= 1e-12 * np.abs(ra).max()
        assert any("converted from yuan to 10k yuan" in n["message"] for n in info[y]["notes"])
    # the same files declared in the wrong unit are refused by the layout, not silently rescaled
    with pytest.raises(ceads.CEADSError, match="declares unit 'yuan'"):
        ceads.read_mrio(ceads_params(tmp_path, unit="10k yuan").ceads, list(YEARS))


def test_tables_are_mapped_to_the_book_sectors_and_read_once(fake, monkeypatch):
    p = ceads_params(fake)
    m, info = ceads.read_mrio(p.ceads, list(YEARS))
    w = ceads_fake.build(N)
    for y in YEARS:
        assert len(m[y].sectors) == 41 and info[y]["file_sectors"] == list(ceads.NBS_CODES)
        assert info[y]["merged_sectors"] == ({"22": ["22", "23"]} if y < 2017 else {"36": ["35", "36"]})
        assert np.abs(m[y].A - w.year(y).synthetic.A).max() < 1e-12
    calls = []
    monkeypatch.setattr(ceads, "read", lambda *a, **k: calls.append(a))
    again, _ = ceads.read_mrio(p.ceads, list(YEARS))
    assert not calls and np.array_equal(np.asarray(again[2015].Z), np.asarray(m[2015].Z))
    assert isinstance(np.asarray(again[2015].Z).base, np.memmap)


def test_a_missing_year_file_is_named(fake, tmp_path):
    d = tmp_path / "partial"
    shutil.copytree(fake, d)
    p = ceads_params(d)
    (d / "city_mrio_2015.mat").unlink()  # removed after the parameters were read
    with pytest.raises(ceads.CEADSError, match=r"parameter 'ceads.mrio.2015'.*city_mrio_2015.mat.*file not found"):
        ceads.read_mrio(p.ceads, list(YEARS))


# ---------------------------------------------------------------------------- the bundle's cache key

def test_editing_a_user_file_changes_the_bundle_key(fake, tmp_path):
    d = tmp_path / "copy"
    shutil.copytree(fake, d)
    p = ceads_params(d, city_panel=str(d / "city_panel.csv"))
    syn = params.from_mapping({"data_source": "synthetic", "scale": 0.06, "seed": 1})
    k0, s0 = bundle.cache_key(p), bundle.cache_key(syn)
    assert bundle.cache_key(p) == k0  # stable (and the large files are hashed once: the memo)
    with (d / "city_panel.csv").open("a", encoding="utf-8") as fh:
        fh.write("110000,北京市,2013," + ",".join("" for _ in CITY_YEAR_VARS) + "\n")
    k1 = bundle.cache_key(p)
    assert k1 != k0 and bundle.cache_key(syn) == s0
    raw = bytearray((d / "city_mrio_2017.mat").read_bytes())
    raw[-1] ^= 1
    (d / "city_mrio_2017.mat").write_bytes(bytes(raw))
    assert bundle.cache_key(p) not in (k0, k1)
    # moving the files keeps the key: it reads their bytes, not their place
    moved = tmp_path / "moved"
    shutil.copytree(d, moved)
    assert bundle.cache_key(ceads_params(moved, city_panel=str(moved / "city_panel.csv"))) == bundle.cache_key(p)


def test_file_sha256_memo_follows_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(cachekey, "MEMO_MIN_BYTES", 10)
    f = tmp_path / "big.bin"
    f.write_bytes(b"a" * 100)
    import hashlib

    assert cachekey.file_sha256(f) == hashlib.sha256(b"a" * 100).hexdigest()
    assert (paths.CACHE_DIR / "sha256-memo.json").is_file()
    f.write_bytes(b"b" * 100)  # rewritten: new mtime, hashed again
    assert cachekey.file_sha256(f) == hashlib.sha256(b"b" * 100).hexdigest()


# ---------------------------------------------------------------------------- the city panel

def _panel_file(tmp_path, rows, header="city_id,name_zh,year,patents,fixed_assets"):
    f = tmp_path / "panel.csv"
    f.write_text("# a comment\n" + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


@pytest.mark.parametrize("rows, header, words", [
    (["110000,北京市,2013,5,1", "999999,,2013,5,1"], None, ["line 4", "'city_id'", "'999999'"]),
    (["110000,北京市,2013,5,1", ",不存在市,2013,5,1"], None, ["line 4", "'name_zh'", "不存在市"]),
    (["110000,北京市,2013,many,1"], None, ["line 3", "'patents'", "'many'", "not a number"]),
    (["110000,北京市,2019,5,1"], None, ["line 3", "'year'", "'2019'", "2011-2017"]),
    (["110000,北京市,2013,5,1", "110000,,2013,6,1"], None, ["lines 3, 4", "110000", "2013", "more than once"]),
    (["110000,北京市,2013,-5,1"], None, ["line 3", "'patents'", "negative"]),
    (["110000,上海市,2013,5,1"], None, ["line 3", "'name_zh'", "上海市", "310000", "110000"]),
    (["110000,2013,5"], "city_id,year,colour", ["line 2", "unknown column 'colour'"]),
    (["110000,2013,0.86", "120000,2013,58.3"], "city_id,year,urbanization",
     ["line 4", "'urbanization'", "'58.3'", "range 0-2", "fraction", "percentage"]),
    (["110000,2013,1.217"], "city_id,year,urbanization", None),  # the study's own maximum: accepted
    (["110000,2013,1.2"], "city_id,year,college_per_pop", ["line 3", "'college_per_pop'", "'1.2'", "range 0-1"]),
])
def test_bad_city_panel_rows_are_one_line_naming_file_line_column(tmp_path, rows, header, words):
    f = _panel_file(tmp_path, rows, header or "city_id,name_zh,year,patents,fixed_assets")
    if words is None:
        assert len(panel.read_city_panel(f, DATA_YEARS).values) == 1
        return
    with pytest.raises(panel.CityPanelError) as err:
        panel.read_city_panel(f, DATA_YEARS)
    msg = str(err.value)
    assert "\n" not in msg and str(f) in msg and all(w in msg for w in words), msg


def test_city_panel_overrides_imputed_and_proxy_values_only(tmp_path):
    f = _panel_file(tmp_path, ["110000,北京市,2013,7,", ",天津,2014,8,9.5", "130100,,2015,,3", "150100,,2013,4,"])
    cp = panel.read_city_panel(f, DATA_YEARS)
    cy = pd.DataFrame({"city_id": ["110000", "110000", "120000", "130100"], "year": [2013, 2014, 2014, 2015],
                       "patents": [1.0, 2.0, 3.0, 4.0], "fixed_assets": [10.0, 20.0, 30.0, 40.0]})
    cy["prov_patents"] = pd.Categorical(["proxy", "proxy", "observed", "imputed"], categories=PROVENANCE)
    cy["prov_fixed_assets"] = pd.Categorical(["proxy", "proxy", "interpolated", "observed"], categories=PROVENANCE)
    out, counts = panel.apply_city_panel(cy, cp)
    assert out["patents"].tolist() == [7.0, 2.0, 3.0, 4.0]  # 天津 2014 is observed: kept; 130100 has no patents
    assert out["prov_patents"].astype(str).tolist() == ["user", "proxy", "observed", "imputed"]
    assert out["fixed_assets"].tolist() == [10.0, 20.0, 30.0, 40.0]  # interpolated and observed are kept
    assert counts.set_index("variable").loc["patents", "replaced"] == 1
    assert counts.set_index("variable").loc["fixed_assets", "kept (public value observed or interpolated)"] == 2
    assert cp.unused_cities == {"150100": 1}  # a real city outside the panel: counted, not an error


def test_template_command_writes_a_panel_the_reader_takes(tmp_path, capsys):
    f = tmp_path / "tpl.csv"
    assert cli.main(["data", "template", "--out", str(f)]) == 0
    text = f.read_text(encoding="utf-8")
    assert all(f"#   {v}: " in text for v in CITY_YEAR_VARS) and "10k yuan" in text
    cp = panel.read_city_panel(f, DATA_YEARS)  # the empty template is valid: no values
    assert cp.variables == CITY_YEAR_VARS and cp.values.empty
    body = pd.read_csv(f, comment=None, skiprows=len(panel.header_comment(DATA_YEARS)), dtype=str)
    assert len(body) == 297 * 7 and list(body.columns[:3]) == ["city_id", "name_zh", "year"]
    assert cli.main(["data", "template", "--out", str(f), "--years", "2017-2011"]) == 2


# ---------------------------------------------------------------------------- the dense solve

def test_mixed_precision_dense_solve_equals_double(fake):
    w = ceads_fake.build(N)
    m = w.year(2015).book
    X64, i64 = mrio.solve_dense(m, precision="double")
    X32, i32 = mrio.solve_dense(m, precision="mixed")
    assert i32["precision"] == "mixed" and i32["refinements"] >= 1 and i32["residual"] <= 1e-13
    assert np.abs(X32 - X64).max() <= 1e-13 * np.abs(X64).max()
    Xs = mrio.induced_output(w.mrio[2015]).reshape(X64.shape)
    assert np.abs(X32 - Xs).max() <= 1e-11 * np.abs(Xs).max()


# ---------------------------------------------------------------------------- silent acceptances refused

def test_the_same_file_for_two_years_is_refused_naming_both_parameters(fake, tmp_path):
    d = tmp_path / "same"
    shutil.copytree(fake, d)
    shutil.copy(d / "city_mrio_2012.mat", d / "city_mrio_2015.mat")  # 2015 is a copy of 2012
    p = ceads_params(d)
    with pytest.raises(ceads.CEADSError) as err:
        ceads.read_mrio(p.ceads, list(YEARS))
    msg = str(err.value)
    assert "\n" not in msg and "'ceads.mrio.2012'" in msg and "'ceads.mrio.2015'" in msg and "same table" in msg


@pytest.mark.parametrize("fmt", ["mat", "xlsx"])
@pytest.mark.parametrize("change", ["short", "long"])
def test_a_city_list_of_the_wrong_length_is_blamed_not_the_table(tmp_path, fmt, change):
    """A list with one city too few (or too many) for the table: the error names the city-list
    parameter and file, and both counts, instead of the table's shape."""
    d = tmp_path / "f"
    ceads_fake.write(d, n_cities=N, formats=(fmt,), log=lambda m: None)
    lst = pd.read_csv(d / "city_list.csv")
    lst = lst.iloc[:-1] if change == "short" else pd.concat([lst, pd.DataFrame({lst.columns[0]: [N + 1],
                                                                                lst.columns[1]: ["拉萨市"]})])
    f = tmp_path / "my_cities.csv"
    lst.to_csv(f, index=False)
    sec = section(d, cities=str(f))
    if fmt == "xlsx":
        sec["mrio"] = {y: str(d / f"city_mrio_{y}.xlsx") for y in YEARS}
    p = params.from_mapping({"data_source": "ceads", "scale": 0.06, "seed": 1, "ceads": sec}, "p.yaml")
    with pytest.raises(ceads.CEADSError) as err:
        ceads.read_mrio(p.ceads, list(YEARS))
    msg = str(err.value)
    n_list = N - 1 if change == "short" else N + 1
    assert "\n" not in msg and msg.startswith("parameter 'ceads.cities'") and "my_cities.csv" in msg, msg
    assert f"the city list has {n_list} cities" in msg and f"has rows for {N}" in msg, msg


# ---------------------------------------------------------------------------- the fake, the unit, the report

@pytest.fixture(scope="module")
def fake_study(fake, tmp_path_factory):
    """The Study built on the 4-city fake (bundle, transfers, panel) in its own cache."""
    from intercity import pipeline

    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "CACHE_DIR", cache)
        s = pipeline.study(ceads_params(fake), cache_dir=cache)
    return s, cache


def test_the_fake_is_recognised_and_named_with_its_folder_everywhere(fake, fake_study):
    """fake.json beside the tables: the bundle records the fake; the banner, the data realism
    table, the key results and 'what differs' say the tables are the fake and name its folder; the
    scorecard tests no claim about China on it (every verdict "not testable on this source")."""
    from intercity import narrative, report, scorecard

    s, _ = fake_study
    fk = s.data.meta["mrio"]["fake"]
    assert fk and fk["folders"] == [str(fake)] and fk["years"] == list(YEARS)
    assert report.source_key(s.data) == "ceads-fake" and "FAKE" in report.SOURCE_TEXT["ceads-fake"][0]
    files = report.ceads_files_text(s.data.meta)
    assert f"`{fake}`" in files and "FAKE" in files
    mrio_row = report.data_realism(s.data).iloc[-1]
    assert mrio_row["status"] == "synthetic" and "FAKE" in mrio_row["note"] and str(fake) in mrio_row["note"]
    diff = narrative.differences(s.params, s.data).set_index("aspect")
    assert diff.loc["city MRIO", "differs"] == "yes" and "FAKE" in diff.loc["city MRIO", "this build"]
    assert str(fake) in diff.loc["data", "this build"] and "FAKE" in diff.loc["data", "this build"]
    card = scorecard.for_study(s)
    assert (card["verdict"] == scorecard.NOT_SOURCE).all() and (card["testable"] == "no").all()
    assert card["reason_pair"].str.contains("FAKE", regex=False).all()
    assert card["reason_pair"].str.contains(str(fake), regex=False).all()
    lead = narrative.key_results_lead(card, s)
    assert "fake CEADs" in lead and str(fake) in lead and "None of them can be judged" in lead
    assert "fake CEADs" in scorecard.rule_sentence(card, s)


def test_the_fake_xlsx_title_marks_the_fake_without_fake_json(tmp_path):
    d = tmp_path / "x"
    ceads_fake.write(d, n_cities=N, formats=("xlsx",), log=lambda m: None)
    (d / "fake.json").unlink()
    p = params.from_mapping({"data_source": "ceads", "scale": 0.06, "seed": 1, "ceads": section(
        d, mrio={y: str(d / f"city_mrio_{y}.xlsx") for y in YEARS})}, "p.yaml")
    _, infos = ceads.read_mrio(p.ceads, list(YEARS))
    fk = ceads.fake_evidence(p.ceads, list(YEARS), infos)
    assert fk is not None and fk["folders"] == [str(d)] and "A1" in fk["evidence"][0]
    assert ceads.fake_evidence(p.ceads, [], infos) is None


def test_a_wrong_money_unit_is_refused_against_the_public_gdp(fake, fake_study, tmp_path):
    """Tables in 10k yuan declared 'yuan' (no unit in layout.json): the value added is 1e-4 times
    the public GDP; one line names 'ceads.unit', its value, the ratio and the unit that fits."""
    s, _ = fake_study
    checks = s.data.meta["mrio"]["unit_check"]
    lo, hi = ceads.UNIT_RATIO_BAND
    assert set(checks) == {str(y) for y in YEARS} and all(lo <= c["ratio"] <= hi for c in checks.values()), checks
    d = tmp_path / "nounit"
    shutil.copytree(fake, d)
    lay = json.loads((d / "layout.json").read_text())
    lay.pop("unit", None)
    (d / "layout.json").write_text(json.dumps(lay))
    with pytest.raises(ceads.CEADSError) as err:
        ceads.build(ceads_params(d, unit="yuan"), DATA_YEARS)
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith("parameter 'ceads.unit' is 'yuan'") and "'10k yuan'" in msg, msg
    ratio = checks["2012"]["ratio"] * 1e-4
    assert f"{ratio:.3g}" in msg, msg
    # without value added, gross output over the typical output/GDP ratio is used
    infos = {2012: {"cities": ["110000"], "value_added_by_city": None, "output_by_city": [2.9e4]}}
    cy = pd.DataFrame({"city_id": ["110000"], "year": [2012], "gdp_per_capita": [1.0], "population": [1.0]})
    assert ceads.unit_check(infos, cy, "10k yuan", [2012])[2012]["ratio"] == pytest.approx(1.0)
    with pytest.raises(ceads.CEADSError, match="ceads.unit 'million yuan'"):
        ceads.unit_check({2012: {**infos[2012], "output_by_city": [2.9e4 / 100]}}, cy, "10k yuan", [2012])


def test_the_reading_report_reaches_the_user(fake, fake_study, tmp_path, monkeypatch, capsys):
    """The data step (``python -m intercity data prepare``) prints one line a year naming the
    report's CSV; report_lines says what was irregular (blank cells, dropped columns, balance) in
    one line a year; the runner writes the report to results/<set>/ceads_report.csv."""
    import yaml

    from intercity import runner

    s, cache = fake_study
    monkeypatch.setattr(paths, "CACHE_DIR", cache)  # the bundle of the fixture: read, not rebuilt
    f = tmp_path / "mine.yaml"
    f.write_text(yaml.safe_dump({"data_source": "ceads", "scale": 0.06, "seed": 1, "ceads": section(fake)}))
    assert cli.main(["data", "prepare", "--params", str(f)]) == 0
    mine = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("ceads ")]
    assert len(mine) == len(YEARS) and all(ln.endswith("see results/mine/ceads_report.csv") for ln in mine), mine
    assert all("FAKE" in ln and "times the public GDP" in ln for ln in mine), mine
    rep = pd.DataFrame([
        (2012, "/d/t.xlsx", "blank_cell", "sheet 'MRIO'!J10", "blank cell read as 0"),
        (2012, "/d/t.xlsx", "dropped_column", "column Q 'Import'", "imports in a non-competitive table: not final demand"),
        (2012, "/d/t.xlsx", "balance_row_summary", "off by up to 11.5% in 3 rows", "..."),
        (2015, "/d/u.xlsx", "balance_row", "all rows", "balanced")], columns=list(ceads.REPORT_COLUMNS))
    out = ceads.report_lines(rep, "results/x/ceads_report.csv")
    assert len(out) == 2 and out[0].startswith("ceads 2012 (t.xlsx): 1 blank cell (sheet 'MRIO'!J10) read as 0")
    assert "; column Q 'Import' dropped (imports in a non-competitive table" in out[0] and "row balance off by up to 11.5% in 3 rows" in out[0]
    assert out[1] == "ceads 2015 (u.xlsx): read as declared, nothing irregular; see results/x/ceads_report.csv"
    written = runner.write_results(s, tmp_path / "results", design_lab=False, with_multiverse=False)
    csv = pd.read_csv(tmp_path / "results" / "ceads_report.csv")
    assert tmp_path / "results" / "ceads_report.csv" in written and list(csv.columns) == list(ceads.REPORT_COLUMNS)
    assert set(csv["kind"]) >= {"fake_marker", "unit_check", "imports"}
