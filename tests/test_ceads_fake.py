"""The fake CEADs directory (``python -m intercity data fake-ceads``) reads back, through the
declared layout it ships, to the synthetic world it was written from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from intercity import cli, mrio
from intercity.sources import ceads, ceads_fake

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
    panel = pd.read_csv(fake_dir / "city_panel.csv", dtype={"city_id": str})
    assert len(panel) == N_CITIES * 7 and set(panel["year"]) == set(range(2011, 2018))
    assert ceads.Layout.load(fake_dir / "layout.json") == ceads_fake.layout()


@pytest.mark.parametrize("fmt", ["mat", "xlsx"])
def test_fake_reads_back_to_the_synthetic_world(fake_dir, world, fmt):
    lay = ceads.Layout.load(fake_dir / "layout.json")
    files = {y: fake_dir / f"city_mrio_{y}.{fmt}" for y in ceads_fake.YEARS}
    tables = ceads.read_years(files, fake_dir / "city_list.csv", lay)
    for y, t in tables.items():
        fy = world.year(y)
        e, syn = fy.expected, fy.synthetic
        assert t.mrio.cities == syn.cities and t.mrio.sectors == syn.sectors
        for got, want in ((t.mrio.Z, e.Z), (t.mrio.F, e.F), (t.mrio.x, e.x), (t.F_categories, fy.Fk)):
            assert _rel(got, want) < 1e-9
        # same coefficients and final demand as the synthetic world, hence the same induced output
        assert np.abs(t.mrio.A - syn.A).max() < 1e-9
        assert _rel(t.mrio.F, syn.F) < 1e-9
        assert _rel(mrio.induced_output(t.mrio), mrio.induced_output(syn)) < 1e-9
        assert t.sector_labels == ceads_fake.layout().sector_labels
        kinds = {n.kind for n in t.report.notes}
        assert "balance_column_summary" not in kinds and "balance_row_summary" not in kinds
        assert (t.F_categories < 0).any()  # inventory drawdowns are kept


def test_fake_xlsx_names_its_cities(fake_dir, world):
    t = ceads.read(fake_dir / "city_mrio_2015.xlsx", None, ceads.Layout.load(fake_dir / "layout.json"))
    assert t.mrio.cities == tuple(world.cities["city_id"])


def test_fake_without_exports_is_the_dense_synthetic_mrio(tmp_path):
    ceads_fake.write(tmp_path, n_cities=4, formats=("mat",), export_share=0.0, log=lambda m: None)
    w = ceads_fake.build(4, export_share=0.0)
    for y in ceads_fake.YEARS:
        t = ceads.read(tmp_path / f"city_mrio_{y}.mat", tmp_path / "city_list.csv", ceads.Layout.load(tmp_path / "layout.json"))
        syn = w.year(y).synthetic
        assert _rel(t.mrio.Z, syn.Z) < 1e-9 and _rel(t.mrio.F, syn.F) < 1e-9 and _rel(t.mrio.x, syn.x) < 1e-9
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
    assert cli.main(["data", "fake-ceads", "--out", str(tmp_path / "x"), "--cities", "400"]) == 2
    assert "exceeds the 288 eligible cities" in capsys.readouterr().err
