"""The book's sector scheme and the concordance of NBS's sector lists (2012, 2015, 2017) to it.

The checks against the raw national tables read the files with the ``csv`` module and hold NBS's
own nesting of products in sectors (written here from NBS's published classification, not taken
from the package), so they re-derive the mapping independently of ``intercity.sectors``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intercity import sectors
from intercity.sectors import (SECTOR_CODES, SECTOR_GROUPS, ConcordanceError, aggregation_matrix, concordance,
                               concordance_table, nbs_sectors, normalise, sector_of, sector_table, tradability)
from intercity.sources import national_io
from intercity.sources.city_stats import SECTOR_TO_YB

from conftest import MIRROR, needs_mirror  # noqa: E402

REAL = MIRROR or Path("public-data-mirror-absent")
FILES = {"nbs2012_139": "china_2012_139.csv", "nbs2015_42": "china_2015_42.csv",
         "nbs2017_42": "china_2017_42.csv", "nbs2017_149": "china_2017_149.csv"}

# NBS's nesting: first code of each sector (2012/2015 list) in the 2012 139-product list, and of
# each sector (2017 list) in the 2017 149-product list.
FIRST_OF_2012_SECTOR = {1: 1, 2: 6, 3: 7, 4: 8, 5: 10, 6: 12, 7: 26, 8: 31, 9: 34, 10: 36, 11: 39, 12: 41,
                        13: 52, 14: 59, 15: 64, 16: 65, 17: 71, 18: 75, 19: 80, 20: 86, 21: 92, 22: 93,
                        23: 94, 24: 95, 25: 96, 26: 97, 27: 98, 28: 99, 29: 103, 30: 104, 31: 112, 32: 114,
                        33: 116, 34: 119, 35: 120, 36: 122, 37: 125, 38: 128, 39: 130, 40: 131, 41: 133, 42: 138}
FIRST_OF_2017_SECTOR = {1: 1, 2: 6, 3: 7, 4: 8, 5: 10, 6: 12, 7: 27, 8: 32, 9: 35, 10: 37, 11: 41, 12: 43,
                        13: 54, 14: 61, 15: 66, 16: 67, 17: 73, 18: 77, 19: 82, 20: 88, 21: 94, 22: 95,
                        23: 97, 24: 98, 25: 99, 26: 100, 27: 101, 28: 105, 29: 107, 30: 119, 31: 121,
                        32: 126, 33: 129, 34: 130, 35: 132, 36: 133, 37: 135, 38: 138, 39: 140, 40: 141,
                        41: 143, 42: 148}
# Where a 42-list sector's description is not the book sector's own (merged or split by NBS).
MERGED = {("nbs2015_42", "22"): "22", ("nbs2015_42", "23"): "22",
          ("nbs2017_42", "35"): "36", ("nbs2017_42", "36"): "36"}


def _raw_rows(name: str) -> list[dict[str, str]]:
    """Product rows of a raw national table (domestic rows of the 2017 42-sector table)."""
    with open(REAL / "national_io" / name, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["Code"].isdigit()]
    return [r for r in rows if r.get("Origin", "Domestic") == "Domestic"]


def _committed(table: str) -> list[dict[str, str]]:
    with open(sectors.CONCORDANCE_FILE, encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh) if r["table"] == table]


def _of(first: dict[int, int], code: int) -> int:
    return max(s for s, f in first.items() if f <= code)


# --------------------------------------------------------------------------- the book's scheme

def test_book_scheme_keeps_the_study_groups_and_yearbook_categories():
    assert len(SECTOR_CODES) == sectors.N_SECTORS == 41 and "23" not in SECTOR_CODES
    names = sector_table().set_index("code")["name_en"]
    assert names[SECTOR_GROUPS["labor"][0]].startswith("Agriculture")
    assert names[SECTOR_GROUPS["capital"][0]] == "Production and supply of electric power and heat power"
    assert names[SECTOR_GROUPS["tech"][0]].startswith("Information transmission, software")
    assert list(SECTOR_TO_YB) == list(SECTOR_CODES)
    assert SECTOR_TO_YB["25"] == "utilities" and SECTOR_TO_YB["32"] == "ict" and SECTOR_TO_YB["22"] == "manuf"
    assert tradability("25") == "local" and tradability("32") == "services" and tradability("22") == "goods"
    with pytest.raises(ConcordanceError, match="sector code '23' is not a book sector"):
        tradability("23")


# --------------------------------------------------------------------------- the committed file against the raw tables

@needs_mirror
@pytest.mark.parametrize("table", list(FILES))
def test_concordance_lists_every_raw_row_with_its_descriptions(table):
    raw, ours = _raw_rows(FILES[table]), _committed(table)
    assert len(ours) == len(raw) == {"nbs2012_139": 139, "nbs2017_149": 149}.get(table, 42)
    for r, c in zip(raw, ours):
        assert (c["code"], c["description_zh"]) == (r["Code"], r["DescriptionInChinese"])
        if c["description_en"] != r["Description"]:  # only where the file's English is known to be wrong
            assert f"reads '{r['Description']}'" in c["note"] and "Chinese" in c["note"]
    # the 2012 42-sector list is the 2015 extension table's list
    assert [(r["code"], r["description_zh"]) for r in _committed("nbs2012_42")] == \
           [(r["code"], r["description_zh"]) for r in _committed("nbs2015_42")]


@needs_mirror
@pytest.mark.parametrize("table", ["nbs2015_42", "nbs2017_42"])
def test_every_42_sector_row_maps_to_the_book_sector_of_its_description(table):
    book = {r.code: r.name_zh for r in sector_table().itertuples()}
    rows = _raw_rows(FILES[table])
    got = aggregation_matrix([r["DescriptionInChinese"] for r in rows], int(table[3:7])).idxmax(axis=1).tolist()
    for r, s in zip(rows, got):
        merged = MERGED.get((table, r["Code"]))
        if merged is None:
            assert book[s] == r["DescriptionInChinese"], (table, r["Code"], s)
        else:
            assert s == merged
    # electricity and heat is 25 in 2015 and 24 in 2017; information and software 32 and 31
    code_of = dict(zip(got, [r["Code"] for r in rows]))
    assert code_of["25"] == {"nbs2015_42": "25", "nbs2017_42": "24"}[table]
    assert code_of["32"] == {"nbs2015_42": "32", "nbs2017_42": "31"}[table]


@needs_mirror
@pytest.mark.parametrize("table,year,first,sector_list",
                         [("nbs2012_139", 2012, FIRST_OF_2012_SECTOR, "nbs2015_42"),
                          ("nbs2017_149", 2017, FIRST_OF_2017_SECTOR, "nbs2017_42")])
def test_products_map_as_nbs_nests_them_in_sectors(table, year, first, sector_list):
    """Each product's book sector, from its description, is the book sector of the NBS sector that
    contains it (NBS's nesting by code within the year's lists); counts per book sector agree."""
    sector_rows = {int(r["Code"]): r["DescriptionInChinese"] for r in _raw_rows(FILES[sector_list])}
    products = _raw_rows(FILES[table])
    got = aggregation_matrix([r["DescriptionInChinese"] for r in products], year).idxmax(axis=1).tolist()
    want = [sector_of(sector_rows[_of(first, int(r["Code"]))], year) for r in products]
    assert got == want
    assert pd.Series(got).value_counts().to_dict() == pd.Series(want).value_counts().to_dict()


@needs_mirror
def test_2017_products_and_sectors_aggregate_to_the_same_output():
    """The 149-product and the 42-sector tables of 2017, each mapped by its own descriptions,
    give the same gross output (TI) per book sector."""
    out = {}
    for table in ("nbs2017_42", "nbs2017_149"):
        t = pd.read_csv(REAL / "national_io" / FILES[table], dtype={"Code": str})
        rows = t[t["Code"].str.fullmatch(r"\d+")].drop_duplicates("Code")
        M = aggregation_matrix(rows["DescriptionInChinese"], 2017).to_numpy()
        ti = pd.to_numeric(t.loc[t["Code"] == "TI", rows["Code"].tolist()].iloc[0]).to_numpy()
        out[table] = ti @ M
    np.testing.assert_allclose(out["nbs2017_149"], out["nbs2017_42"], rtol=1e-9)


# --------------------------------------------------------------------------- national tables on the book's scheme

@pytest.fixture(scope="module")
def nat():
    return {y: national_io.national_table(REAL, y) for y in (2012, 2015, 2017)}


@needs_mirror
def test_national_output_is_continuous_across_years(nat):
    """Gross output of every book sector grows by a factor within [0.5, 2] from 2012 to 2015 and
    from 2015 to 2017. Total output grew 30% and 8.5%; with the concordance the extremes are 0.69
    (crude oil and gas, 2012-2015, the oil-price fall) and 1.86 (gas supply, 2012-2015); matching by
    code number instead gives 0.09 (2017 gas against 2015 electricity) to 91 (construction
    against water)."""
    for t0, t1 in ((2012, 2015), (2015, 2017)):
        ratio = nat[t1]["x"] / nat[t0]["x"]
        bad = {SECTOR_CODES[k]: round(float(ratio[k]), 2) for k in np.flatnonzero((ratio < 0.5) | (ratio > 2.0))}
        assert not bad, f"{t0}->{t1}: output ratios outside [0.5, 2]: {bad}"


@needs_mirror
def test_input_structure_of_each_sector_is_recognisable_across_years(nat):
    """The input-coefficient column of every book sector has cosine similarity >= 0.85 with the
    same sector's column in the next table (observed minimum with the concordance: 0.89)."""
    for t0, t1 in ((2012, 2015), (2015, 2017)):
        a0, a1 = (nat[y]["Z"] / nat[y]["x"][None, :] for y in (t0, t1))
        cos = (a0 * a1).sum(axis=0) / np.linalg.norm(a0, axis=0) / np.linalg.norm(a1, axis=0)
        bad = {SECTOR_CODES[k]: round(float(cos[k]), 2) for k in np.flatnonzero(cos < 0.85)}
        assert not bad, f"{t0}->{t1}: input structures differ: {bad}"


@needs_mirror
@pytest.mark.parametrize("year", [2012, 2015, 2017])
def test_group_sectors_are_the_raw_tables_electricity_and_software(nat, year):
    """Output of the capital and technology groups equals the raw table's columns found by their
    Chinese descriptions (electricity and heat; telecommunications, software and IT)."""
    name = {2012: "china_2012_139.csv", 2015: "china_2015_42.csv", 2017: "china_2017_42.csv"}[year]
    t = pd.read_csv(REAL / "national_io" / name, dtype={"Code": str})
    rows = t[t["Code"].str.fullmatch(r"\d+")].drop_duplicates("Code").set_index("DescriptionInChinese")["Code"]
    ti = t[t["Code"] == "TI"].iloc[0]
    want = {"capital": ["电力、热力生产和供应"] if year == 2012 else ["电力、热力的生产和供应"],
            "tech": ["电信和其他信息传输服务", "软件和信息技术服务"] if year == 2012 else ["信息传输、软件和信息技术服务"]}
    for group, descs in want.items():
        x = nat[year]["x"][SECTOR_CODES.index(SECTOR_GROUPS[group][0])]
        assert x == pytest.approx(sum(float(ti[rows[d]]) for d in descs), rel=1e-12)


@needs_mirror
def test_negative_final_demand_of_the_national_tables_is_kept(nat):
    f = nat[2015]["f"][SECTOR_CODES.index("14")]  # metals: inventory drawdown
    assert f == pytest.approx(-2.7776e7, rel=1e-3)  # 10k yuan


# --------------------------------------------------------------------------- labels, errors

def test_labels_match_in_english_chinese_or_the_book_scheme():
    assert sector_of("Production and supply of gas", 2017) == "26"
    assert sector_of("燃气生产和供应", 2012) == "26"
    assert sector_of("  production AND supply of electric power & heat power ", 2015) == "25"
    assert sector_of("Scientific research and technical services", 2015) == "36"  # no comma: same key
    assert sector_of("Technical services", 2017) == "36" and sector_of("综合技术服务", 2017) == "36"
    assert sector_of("Other manufacturing and waste resources", 2012) == "22"  # the book's own name
    assert normalise("Ｆｉｎａｎｃｅ") == normalise("finance")
    M = aggregation_matrix(nbs_sectors(2017)["description_en"], 2017)
    assert M.shape == (42, 41) and (M.sum(axis=1) == 1).all()
    assert M.loc["Research and experimental development", "36"] == 1 and M["36"].sum() == 2
    assert M["22"].sum() == 1 and aggregation_matrix(nbs_sectors(2015)["description_zh"], 2015)["22"].sum() == 2


def test_unknown_label_is_refused_naming_it():
    with pytest.raises(ConcordanceError, match=r"sector label 1 'Gas and water' is not a sector description"
                                               r" of NBS's 2017 lists \(nbs2017_42, nbs2017_149\)"):
        aggregation_matrix(["Agriculture", "Gas and water"], 2017)
    with pytest.raises(ConcordanceError, match=r"reach no row of book sector\(s\) \['02'"):
        aggregation_matrix(["Agriculture"], 2017)
    assert aggregation_matrix(["Agriculture"], 2017, complete=False).loc["Agriculture", "01"] == 1
    with pytest.raises(ConcordanceError, match="no NBS sector list for year 2016"):
        sector_of("Finance", 2016)
    # a 2017 description that is not a 2012 one: "research and experimental development" is a 2012
    # product (122), but the 2017 sector "technical services" is not
    with pytest.raises(ConcordanceError, match="'Technical services' is not a sector description of NBS's 2012"):
        sector_of("Technical services", 2012)


def test_concordance_rows_and_book_table():
    c = concordance()
    assert c.groupby("table").size().to_dict() == {"nbs2012_139": 139, "nbs2012_42": 42, "nbs2015_42": 42,
                                                   "nbs2017_149": 149, "nbs2017_42": 42}
    assert set(concordance(2017)["table"]) == {"nbs2017_42", "nbs2017_149"}
    t = concordance_table().set_index("book code")
    assert len(t) == 41
    assert t.loc["25", "2017 sectors (42)"] == "24" and t.loc["25", "2012/2015 sectors (42)"] == "25"
    assert t.loc["22", "2012/2015 sectors (42)"] == "22-23" and t.loc["36", "2017 sectors (42)"] == "35-36"
    assert t.loc["01", "2012 products (139)"] == "001-005"


def test_a_broken_concordance_file_is_refused_naming_the_line(tmp_path, monkeypatch):
    bad = tmp_path / "sector_concordance.csv"
    rows = sectors.CONCORDANCE_FILE.read_text(encoding="utf-8").splitlines()
    rows[5] = rows[5].replace(',01,"Agriculture, forestry', ',99,"Agriculture, forestry')
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    monkeypatch.setattr(sectors, "CONCORDANCE_FILE", bad)
    sectors._load.cache_clear()
    sectors._year_keys.cache_clear()
    try:
        with pytest.raises(ConcordanceError, match=r"line 6 \(nbs2012_139 code 005\): book sector '99'"):
            concordance()
    finally:
        sectors._load.cache_clear()
        sectors._year_keys.cache_clear()


@needs_mirror
def test_national_table_refuses_an_unknown_description_naming_file_and_label(tmp_path):
    d = tmp_path / "national_io"
    d.mkdir()
    t = pd.read_csv(REAL / "national_io/china_2015_42.csv", dtype={"Code": str})
    t.loc[t["Code"] == "26", "DescriptionInChinese"] = "燃气和水"
    t.to_csv(d / "china_2015_42.csv", index=False)
    with pytest.raises(ConcordanceError, match=r"china_2015_42.csv: china_2015_42.csv row description 25 '燃气和水'"
                                               r" is not a sector description of NBS's 2015 lists"):
        national_io.national_table(tmp_path, 2015)
