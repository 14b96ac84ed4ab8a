"""The fake CEADs directory (``python -m intercity data fake-ceads``) reads back, through the
declared layout it ships, to the synthetic world it was written from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intercity import cli, mrio, sectors
from intercity.schema import CITY_YEAR_VARS
from intercity.sources import ceads
from intercity.sources.ceads import fake as ceads_fake
from intercity.sources.ceads import panel

N_CITIES = 5


def _rel(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(np.asarray(b)).max())


@pytest.fixture(scope="module")
def fake_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fake")
    assert cli.main(["data", "fake-ceads", "--out", str(out), "--cities", str(N_CITIES)]) == 0
    return out


@pytest.fixture(scope="module")
def world():
    return ceads_fake.build(N_CITIES)


def test_fake_directory_holds_the_ceads_files(fake_dir, world):
    for y in ceads_fake.YEARS:
        assert (fake_dir / f"city_mrio_{y}.mat").is_file() and (fake_dir / f"city_mrio_{y}.xlsx").is_file()
    cities = pd.read_csv(fake_dir / "city_list.csv")
    assert list(cities["城市"]) == list(world.cities["name_zh"])
    cp = panel.read_city_panel(fake_dir / "city_panel.csv", range(2011, 2018))
    assert cp.variables == CITY_YEAR_VARS and len(cp.values) == N_CITIES * 7 * len(CITY_YEAR_VARS)
    assert set(cp.values["year"]) == set(range(2011, 2018))
    want = world.city_year.set_index(["city_id", "year"])["patents"]
    got = cp.values[cp.values["variable"] == "patents"].set_index(["city_id", "year"])["value"]
    assert np.allclose(got.reindex(want.index).to_numpy(), want.to_numpy(), rtol=1e-15, atol=0)
    assert ceads.Layout.load(fake_dir / "layout.json") == ceads_fake.layout()


def _book(t, y):
    """A read table mapped to the book's 41 sectors by the source's concordance hook."""
    M, _ = ceads.book_sector_matrix(t, y, ceads_fake.layout(), "test")
    Z, F, x = ceads.aggregate_dense(t.mrio.Z, t.mrio.F, t.mrio.x, t.mrio.n_cities, M)
    return mrio.DenseMRIO(t.mrio.cities, sectors.SECTOR_CODES, Z, F, x)


@pytest.mark.parametrize("fmt", ["mat", "xlsx"])
def test_fake_reads_back_to_the_synthetic_world(fake_dir, world, fmt):
    lay = ceads.Layout.load(fake_dir / "layout.json")
    files = {y: fake_dir / f"city_mrio_{y}.{fmt}" for y in ceads_fake.YEARS}
    tables = ceads.read_years(files, fake_dir / "city_list.csv", lay)
    for y, t in tables.items():
        fy = world.year(y)
        e, syn = fy.expected, fy.synthetic
        assert t.mrio.cities == syn.cities and t.mrio.sectors == ceads.NBS_CODES and len(syn.sectors) == 41
        for got, want in ((t.mrio.Z, e.Z), (t.mrio.F, e.F), (t.mrio.x, e.x), (t.F_categories, fy.Fk)):
            assert _rel(got, want) < 1e-9
        # on the book's sectors: the synthetic world's coefficients and final demand, so its induced output
        b = _book(t, y)
        assert _rel(b.Z, fy.book.Z) < 1e-12 and _rel(b.x, fy.book.x) < 1e-12
        assert np.abs(b.A - syn.A).max() < 1e-9
        assert _rel(b.F, syn.F) < 1e-9
        assert _rel(mrio.induced_output(b), mrio.induced_output(syn)) < 1e-9
        # labels: the year's NBS list (the xlsx names the sectors; the .mat is read as that list)
        nbs = sectors.nbs_sectors(y)
        assert t.sector_labels == (tuple(nbs["description_zh"]) if fmt == "xlsx" else ceads.NBS_CODES)
        kinds = {n.kind for n in t.report.notes}
        assert "balance_column_summary" not in kinds and "balance_row_summary" not in kinds
        if fmt == "xlsx":  # the 中间使用合计 column is checked as the sum of Z's row before it is dropped
            assert [n.message for n in t.report.notes if n.kind == "subtotal_checked"] == [
                "a subtotal equal to intermediate use (Z 1): not counted"]
        assert (t.F_categories < 0).any()  # inventory drawdowns are kept


def test_fake_splits_the_merged_sector_of_each_year(world):
    """2012/2015: book 22 = NBS 22 + 23; 2017: book 36 = NBS 35 + 36, NBS 24 is book 25 (electricity)."""
    for y, parts, book in ((2012, ("22", "23"), "22"), (2017, ("35", "36"), "36")):
        nbs = sectors.nbs_sectors(y).set_index("code")
        assert all(nbs.at[c, "sector"] == book for c in parts)
        fy = world.year(y)
        S42, n = 42, N_CITIES
        x42 = fy.expected.x.reshape(n, S42)
        x41 = fy.book.x.reshape(n, 41)
        b = sectors.SECTOR_CODES.index(book)
        a, c = (int(p) - 1 for p in parts)
        assert np.allclose(x42[:, a] + x42[:, c], x41[:, b], rtol=1e-14)
        assert (x42[:, a] > 0.2 * x41[:, b]).all() and (x42[:, c] > 0.2 * x41[:, b]).all()
    assert sectors.nbs_sectors(2017).set_index("code").at["24", "sector"] == "25"


def test_fake_xlsx_names_its_cities(fake_dir, world):
    t = ceads.read(fake_dir / "city_mrio_2015.xlsx", None, ceads.Layout.load(fake_dir / "layout.json"))
    assert t.mrio.cities == tuple(world.cities["city_id"])


def test_fake_without_exports_is_the_dense_synthetic_mrio(tmp_path):
    ceads_fake.write(tmp_path, n_cities=4, formats=("mat",), export_share=0.0, log=lambda m: None)
    w = ceads_fake.build(4, export_share=0.0)
    for y in ceads_fake.YEARS:
        t = ceads.read(tmp_path / f"city_mrio_{y}.mat", tmp_path / "city_list.csv", ceads.Layout.load(tmp_path / "layout.json"))
        syn = w.year(y).synthetic
        b = _book(t, y)
        assert _rel(b.Z, syn.Z) < 1e-9 and _rel(b.F, syn.F) < 1e-9 and _rel(b.x, syn.x) < 1e-9
        assert not t.exports.any()


def test_fake_in_yuan_reads_as_the_same_table(tmp_path, world):
    ceads_fake.write(tmp_path, n_cities=N_CITIES, formats=("mat", "xlsx"), unit="yuan", log=lambda m: None)
    lay = ceads.Layout.load(tmp_path / "layout.json")
    assert lay.unit == "yuan"
    for fmt in ("mat", "xlsx"):
        t = ceads.read(tmp_path / f"city_mrio_2017.{fmt}", tmp_path / "city_list.csv", lay)
        e = world.year(2017).expected
        assert _rel(t.mrio.Z, e.Z) < 1e-12 and _rel(t.mrio.F, e.F) < 1e-12 and _rel(t.mrio.x, e.x) < 1e-12


def test_large_fake_skips_xlsx_unless_asked(tmp_path, capsys):
    done = ceads_fake.write(tmp_path, n_cities=ceads_fake.XLSX_MAX_CITIES + 1, formats=("xlsx",), log=lambda m: None)
    assert "not written" in done["xlsx"] and not list(tmp_path.glob("*.xlsx"))
    assert cli.main(["data", "fake-ceads", "--out", str(tmp_path / "x"), "--cities", "300"]) == 2
    err = capsys.readouterr().err
    assert "exceeds the 288 eligible cities" in err and "--all-prefectures" in err
    assert cli.main(["data", "fake-ceads", "--out", str(tmp_path / "x"), "--cities", "400", "--all-prefectures"]) == 2
    assert "exceeds the 329 eligible cities" in capsys.readouterr().err


def test_all_prefectures_extends_the_universe_not_the_default():
    """The 313-unit fake draws autonomous prefectures, leagues and prefectures; the default world
    (the synthetic source's) keeps the cities named 市."""
    wide = ceads_fake.build(313, all_prefectures=True)
    names = wide.cities["name_zh"]
    assert len(wide.cities) == 313 and names.str.endswith(("自治州", "盟", "地区")).sum() >= 25
    assert wide.mrio[2012].n_cities == 313 and len(wide.mrio[2012].sectors) == 41
    default = ceads_fake.build(N_CITIES)
    assert default.cities["name_zh"].str.endswith("市").all()
    from intercity.sources import synthetic
    syn = synthetic.generate(N_CITIES, ceads_fake.DEFAULT_SEED, list(range(2011, 2018)),
                             [(2012, 2015), (2015, 2017)], (2012, 2015, 2017))
    assert list(syn["cities"]["city_id"]) == list(default.cities["city_id"])
