"""The public source: names, Baidu index, yearbooks, HSR lines, national IO, on tiny fixtures in
the real layouts; and on the real data mirror when present."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intercity.schema import validate
from intercity.mrio import validate as validate_mrio
from intercity.sources import names as N
from intercity.cities import ADMIN_CHANGES_2012_2017
from intercity.sources import baidu, city_stats, national_io, public, rail
from intercity.sources.fetch import FetchError

from conftest import MIRROR, needs_mirror  # noqa: E402

REAL = MIRROR or Path("public-data-mirror-absent")


# --------------------------------------------------------------------------- names

@pytest.mark.parametrize("name, code", [
    ("北京", "110000"), ("北京市", "110000"), ("黔南", "522700"), ("恩施", "422800"),
    ("石家庄市", "130100"), ("  石家庄市", "130100"), ("襄樊市", "420600"), ("巴音郭楞", "652800"),
    ("黔南布依族苗族自治州", "522700"), ("哈密\u200b\u200b", "650500"), ("大兴安岭", "232700")])
def test_name_variants(name, code):
    assert N.to_adcode(name) == code


def test_unmatched_names_go_to_ledger_with_file():
    codes, ledger = N.match_names(["北京", "莱芜", "新城"], "cities-c322.csv", stage="baidu_index")
    assert codes.tolist() == ["110000", None, None]
    assert ledger["name"].tolist() == ["新城", "莱芜"]
    assert ledger["reason"].str.startswith("cities-c322.csv: ").all()
    assert "merged into Jinan" in ledger.set_index("name").loc["莱芜", "reason"]


def test_short_name_rules():
    assert N.short_name("黔西南布依族苗族自治州") == "黔西南"
    assert N.short_name("海西蒙古族藏族自治州") == "海西"
    assert N.short_name("阿克苏地区") == "阿克苏"
    assert N.parent_prefecture("曲阜") == "370800"


# --------------------------------------------------------------------------- Baidu

def _baidu_fixture(root: Path, names: list[str], years: dict[int, np.ndarray]) -> None:
    d = root / "baidu_index"
    d.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"index": range(len(names)), "name": names}).to_csv(d / "cities-c322.csv", index=False)
    for y, m in years.items():
        lines = [f"{i} {j} {float(m[i, j])!r}" for i in range(len(names)) for j in range(len(names)) if i != j]
        with gzip.open(d / f"data-c322-{y}-Flat.txt.gz", "wt") as fh:
            fh.write("\n".join(lines) + "\n")


def test_baidu_index_maps_names_and_direction(tmp_path):
    m = np.array([[0, 5.0, 1.0], [2.0, 0, 0.5], [3.0, 4.0, 0]])
    _baidu_fixture(tmp_path, ["北京", "天津", "新城"], {2012: m})
    ids = ["120000", "110000", "130100"]
    mats, ledger, covered = baidu.baidu_index(tmp_path, [2012], ids)
    out = mats[2012]
    assert out[1, 0] == 5.0 and out[0, 1] == 2.0  # 北京 (i=0) searches 天津 (j=1): origin 110000
    assert np.isnan(out[2, 0]) and np.isnan(out[0, 2])  # 石家庄 absent from the file
    assert ledger["name"].tolist() == ["新城"] and "cities-c322.csv" in ledger["reason"].iloc[0]
    assert covered["c322"].tolist() == ["110000", "120000"]


def test_baidu_year_missing_names_file(tmp_path):
    _baidu_fixture(tmp_path, ["北京", "天津"], {2012: np.ones((2, 2))})
    with pytest.raises(FetchError, match="data-c322-2013-Flat.txt.gz not found"):
        baidu.baidu_index(tmp_path, [2012, 2013], ["110000", "120000"])
    with pytest.raises(ValueError, match="no file for year 2010"):
        baidu.baidu_family(2010)


def test_baidu_malformed_line(tmp_path):
    p = tmp_path / "x.txt.gz"
    with gzip.open(p, "wt") as fh:
        fh.write("0 1 2.0\n1 0\n")
    with pytest.raises(ValueError, match="x.txt.gz: malformed line 2"):
        baidu.read_baidu_flat(p, 2)


def test_search_direction_verdict():
    rng = np.random.default_rng(0)
    size = np.exp(rng.normal(5, 1, 40))
    fame = np.exp(rng.normal(0, 1, 40))
    m = size[:, None] * fame[None, :] * 1e-3  # searches scale with the searcher's size
    np.fill_diagonal(m, 0)
    assert baidu.search_direction(m, size)["verdict"] == "i searches j"
    assert baidu.search_direction(m.T, size)["verdict"] == "j searches i"


# --------------------------------------------------------------------------- yearbook

def _yearbook(path: Path, order: list[str], rows: dict[str, list[float]]) -> None:
    """A tiny yearbook in the real layout: bilingual merged headers, 全市/市辖区 sub-headers."""
    tops = {"pop": "年末总人口(万人)Total Population", "emp": "从业人员期末人数(万人)Persons Employed",
            "priv": "城镇私营和个体从业人员(人)"}
    tops.update({cat: f"({k}){keys[0]}业" for k, (cat, keys) in enumerate(city_stats.YB_SECTORS.items())})
    top, sub = ["城市", None], [None, None]
    for key in order:
        top += [tops[key], None]
        sub += ["全市Total City", "市辖区Districts under City"]
    body = [["城市合计", "Total"] + [1.0] * (2 * len(order))]
    for name, vals in rows.items():
        body.append([f"  {name}", "x"] + vals)
    pd.DataFrame([top, sub] + body).to_excel(path, header=False, index=False)


def test_parse_yearbook_by_meaning(tmp_path):
    cats = list(city_stats.YB_SECTORS)
    order = ["emp", "priv"] + cats[::-1] + ["pop"]  # shuffled against the real order
    width = 2 * len(order)
    vals = lambda base: [float(base + k) for k in range(width)]  # noqa: E731
    path = tmp_path / "yearbook_2014.xlsx"
    _yearbook(path, order, {"石家庄市": vals(100), "鸡两市": vals(200), "新城市": vals(300)})
    out, ledger = city_stats.parse_yearbook(path, 2014)
    assert set(out["year"]) == {2013}  # the yearbook of 2014 reports 2013
    row = out.set_index("city_id").loc["130100"]
    assert row["pop_total"] == 100 + width - 2 and row["pop_district"] == 100 + width - 1
    assert row["employment"] == 100
    assert row["emp_agri"] == 100 + 4 + 2 * (len(cats) - 1)
    assert "230300" in out["city_id"].tolist()  # the typo table applies (鸡两市 -> 鸡西)
    assert ledger["name"].tolist() == ["新城市"] and "yearbook_2014.xlsx" in ledger["reason"].iloc[0]


def test_parse_yearbook_missing_variable(tmp_path):
    path = tmp_path / "yearbook_2013.xlsx"
    _yearbook(path, ["pop", "emp"], {"石家庄市": [1.0] * 4})
    with pytest.raises(ValueError, match=r"yearbook_2013.xlsx: no column for 农、林 \(全市\)"):
        city_stats.parse_yearbook(path, 2013)


def test_fill_series_provenance():
    v = pd.DataFrame({2011: [np.nan, 1.0], 2012: [2.0, np.nan], 2013: [np.nan, 3.0], 2014: [4.0, np.nan]},
                     index=["a", "b"])
    filled, prov = city_stats.fill_series(v, [2011, 2012, 2013, 2014])
    assert filled.loc["a"].tolist() == [2.0, 2.0, 3.0, 4.0]
    assert prov.loc["a"].tolist() == ["imputed", "observed", "interpolated", "observed"]
    assert prov.loc["b"].tolist() == ["observed", "interpolated", "observed", "imputed"]


# --------------------------------------------------------------------------- HSR

def _rail_fixture(root: Path) -> None:
    d = root / "rail"
    d.mkdir(parents=True)
    lines = pd.DataFrame({
        "线路": ["京沪高铁", "某普速", "京津城际", "坏线"],
        "线路类型": ["高速铁路", "普速铁路", "高速铁路", "高速铁路"],
        "现设计时速": ["350"] * 4, "电气化": ["是"] * 4,
        "建成年份": ["2011.6.30", "1990", "2008.8.1", "未知"],
        "起点": ["北京南", "北京", "北京南", "x"], "终点": ["上海虹桥", "天津", "天津", "y"],
        "途径站点": ["北京南-天津南-曲阜东-无名站-上海虹桥", "北京-天津", "北京南-天津", "x-y"]})
    lines.to_csv(d / "railvis_lines.csv", index=False)
    (d / "railvis_station2city.json").write_text(json.dumps(json.dumps({"天津南": "天津"})), encoding="utf-8")


def test_hsr_lines_and_counts(tmp_path):
    _rail_fixture(tmp_path)
    lines, ledger = rail.hsr_lines(tmp_path)
    assert lines["line"].tolist() == ["京沪高铁", "京津城际"]
    assert lines.iloc[0]["stops"] == "110000-120000-370800-310000"
    assert set(ledger["name"]) == {"无名站", "坏线"}
    ids = ["110000", "120000", "310000", "370800"]
    c = rail.hsr_counts(lines, ids, [2010, 2011])
    assert c[0, 1].tolist() == [1, 2] and c[0, 2].tolist() == [0, 1] and c[2, 3].tolist() == [0, 1]
    assert (c[np.arange(4), np.arange(4)] == 0).all()


# --------------------------------------------------------------------------- national IO

def test_city_mrio_keeps_negative_final_demand():
    """Negative national final demand (inventory drawdowns) reaches every city, by GDP share."""
    from intercity.sectors import N_SECTORS

    rng = np.random.default_rng(2)
    S, n = N_SECTORS, 3
    x = rng.uniform(50, 100, S)
    Z = rng.uniform(0, 1, (S, S)) * x[None, :] * 0.02
    f = rng.uniform(1, 10, S)
    f[13] = -4.0  # metals: stocks drawn down
    gdp = np.array([1.0, 2.0, 5.0])
    dist = np.array([[0.0, 100.0, 300.0], [100.0, 0.0, 250.0], [300.0, 250.0, 0.0]])
    m = national_io.city_mrio({"Z": Z, "f": f, "x": x}, ["110000", "120000", "310000"], dist,
                              np.full(n, 1000.0), rng.uniform(0.5, 1, (n, S)), gdp)
    np.testing.assert_allclose(m.final_demand.sum(axis=0), f)
    np.testing.assert_allclose(m.final_demand[:, 13], -4.0 * gdp / gdp.sum())


def test_national_table_year_missing(tmp_path):
    with pytest.raises(ValueError, match="no table for year 2013"):
        national_io.national_table(tmp_path, 2013)


# --------------------------------------------------------------------------- real mirror

@pytest.fixture(scope="module")
def real():
    return public.assemble(raw_dir=REAL)


@needs_mirror
def test_real_bundle_validates(real):
    b = validate(real)
    assert 270 <= len(b.cities) <= 290
    for year, m in b.mrio.items():
        validate_mrio(m, label=year)
    assert real.meta["search_direction"]["verdict"] == "i searches j"
    led = real.ledger
    assert set(ADMIN_CHANGES_2012_2017) <= set(led["key"])  # each admin change is in the ledger
    assert (real.pair_year.groupby("year")["hsr_lines"].sum().diff().dropna() >= 0).all()
    assert real.meta["mrio"]["note"].startswith("The city MRIO of the public source is a stand-in for the CEADs")
    # negative domestic final demand of the national tables is kept (inventory drawdowns), summed over cities
    nat = national_io.national_table(REAL, 2015)
    assert (nat["f"] < 0).any()
    np.testing.assert_allclose(b.mrio[2015].final_demand.sum(axis=0), nat["f"], rtol=1e-12)


@needs_mirror
def test_real_city_output_follows_provincial_output(real):
    """The stand-in's solved gross output of 2012 (Leontief, all domestic final demand) puts each
    province's cities near the province's share of national output by sector (real provincial
    output, ``national_io/provincial_output_42.mat``). Before the constraint every city had the
    national mix within a yearbook category: Shanxi's cities made 11.5% of national coal output
    (data 25%), Heilongjiang's 3.7% of crude oil and gas (data 22%; now 12%, the gravity trade
    model pulls supply toward demand), Guangdong's 15% of electronics (data 34%; now 28%)."""
    from intercity.mrio import gross_output
    from intercity.sectors import SECTOR_CODES

    m = real.mrio[2012]
    x = gross_output(m, label=2012)
    prov = np.array([c[:2] for c in m.cities])

    def share(province, code):
        s = SECTOR_CODES.index(code)
        return x[prov == province, s].sum() / x[:, s].sum()

    assert share("14", "02") > 0.2  # Shanxi, coal mining
    assert share("23", "03") > 0.08  # Heilongjiang, crude oil and natural gas
    assert share("44", "20") > 0.25  # Guangdong, electronics
    note = real.meta["mrio"]["note"]
    assert "constrained to real provincial gross output" in note and "2015 interpolated" in note
    meta = real.meta["mrio"]["provincial"]
    assert meta["interpolated"] == ["2015"] and meta["years"]["2012"] == "observed 2012"
    assert meta["years"]["2015"].startswith("interpolated: 0.4 x 2012 + 0.6 x 2017")
    assert 0.15 < meta["by_year"]["2012"]["misallocated_without_constraint"] < 0.3
    assert 0.2 < meta["by_year"]["2012"]["partial_coverage"]["65 新疆"] < 0.5  # 2 of Xinjiang's units
    assert "37 山东" not in meta["by_year"]["2012"]["partial_coverage"]
    assert not (real.ledger["stage"] == "mrio").any()  # every city's province has provincial data


@needs_mirror
def test_real_hsr_network_is_near_the_study(real):
    """connectivity_HSR from the full station lists: mean within a factor of 2 of the study's 0.023
    (the key-station measure gave 0.004 with 116 varying ordered pairs and hubs Changsha, Shanghai,
    Bengbu); the deck's 2012 hubs Beijing, Zhengzhou, Wuhan among the largest degrees."""
    h = real.meta["hsr"]
    assert h["measure"] == "stations"
    s = h["summary"]
    assert 0.023 / 2 <= s["mean"] <= 0.023 * 2
    assert s["varying_pairs"] > 1000 and 3 <= s["max"] <= 5
    hubs = [n for n, _d in s["hubs"]["2012"]]
    assert {"Beijing", "Zhengzhou", "Wuhan"} <= set(hubs)
    old = h["other_measure"]
    assert old["measure"] == "key_stations" and old["summary"]["varying_pairs"] == 116
    assert h["info"]["check_2018"]["served"] >= 120
    assert (real.ledger["reason"].str.contains("its name points to")).any()  # placement disagreements


@needs_mirror
def test_real_renamed_city_goes_to_ledger(tmp_path):
    d = tmp_path / "baidu_index"
    d.mkdir()
    cl = pd.read_csv(REAL / "baidu_index/cities-c322.csv")
    cl.loc[cl["name"] == "济南", "name"] = "济南府"
    cl.to_csv(d / "cities-c322.csv", index=False)
    os.symlink(REAL / "baidu_index/data-c322-2012-Flat.txt.gz", d / "data-c322-2012-Flat.txt.gz")
    mats, ledger, covered = baidu.baidu_index(tmp_path, [2012], ["370100", "110000"])
    assert "济南府" in ledger["name"].tolist()
    assert "cities-c322.csv" in ledger.set_index("name").loc["济南府", "reason"]
    assert np.isnan(mats[2012][0, 1]) and "370100" not in covered["c322"]


@needs_mirror
def test_real_year_missing_from_table(tmp_path):
    d = tmp_path / "national_io"
    d.mkdir()
    t = pd.read_csv(REAL / "national_io/china_2015_42.csv", dtype={"Code": str})
    t.drop(columns=["FU201"]).to_csv(d / "china_2015_42.csv", index=False)
    os.symlink(REAL / "national_io/china_2012_139.csv", d / "china_2012_139.csv")
    with pytest.raises(ValueError, match="china_2015_42.csv: lacks the TVA row or the FU201 column"):
        national_io.national_gfcf_ratio(tmp_path)
    with pytest.raises(FetchError, match="national_io/china_2017_42.csv not found"):
        national_io.national_table(tmp_path, 2017)
