"""The book built on a fake CEADs directory (``data_source: ceads``), once from the ``.mat`` tables
and once from the ``.xlsx`` ones, as a user builds it (``python -m intercity build``): every chapter
executes and every HTML page says the tables are the FAKE CEADs ones (with their folder), the transfers equal those of the synthetic world the fake was written from, MRIO cities outside the
panel stay in the system and in the ledger, and the user's city panel replaces imputed and proxy
values.

The fake (:mod:`intercity.sources.ceads.fake`) has 20 cities; the parameters keep 16 of them
(``scale: 0.06``), so 4 MRIO cities are outside the panel. Everything is written under a temporary
folder with its own cache (``INTERCITY_CACHE``), so the project's cache is not touched.
"""

from __future__ import annotations

import os

import nbformat
import numpy as np
import pandas as pd
import pytest

from intercity import mrio, params, paths, pipeline, runner, transfer
from intercity.sources.ceads import fake as ceads_fake
from intercity.sources.ceads import panel

from conftest import needs_mirror

pytestmark = [pytest.mark.slow, needs_mirror]

N_FAKE = 20
SCALE = 0.06  # 16 of the study's 273 cities
FORMATS = ("mat", "xlsx")
BANNER = "Built on the FAKE CEADs tables (synthetic)"  # fake.json beside the tables: named as the fake


def _params_text(d: Path, fmt: str) -> str:
    files = "\n".join(f"    {y}: {d / f'city_mrio_{y}.{fmt}'}" for y in ceads_fake.YEARS)
    return (f"data_source: ceads\nscale: {SCALE}\nseed: {ceads_fake.DEFAULT_SEED}\nname: ceads-{fmt}\n"
            f"ceads:\n  mrio:\n{files}\n  layout: {d / 'layout.json'}\n  cities: {d / 'city_list.csv'}\n"
            f"  unit: 10k yuan\n  city_panel: {d / 'city_panel.csv'}\n")


@pytest.fixture(scope="module")
def ceads_books(tmp_path_factory):
    """{fmt: (parameter file, book folder)}: the fake written, and the book built on it for both
    formats as a user builds it (``python -m intercity build``: every chapter executed into
    ``<book>/stage``, rendered into ``<book>/html``), with one cache."""
    root = tmp_path_factory.mktemp("ceads_book")
    fake_dir = root / "fake"
    ceads_fake.write(fake_dir, n_cities=N_FAKE, formats=FORMATS, log=lambda _m: None)
    cache = root / "cache"
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTERCITY_CACHE", str(cache))  # the notebook kernels read the same cache
        mp.setattr(paths, "CACHE_DIR", cache)
        for fmt in FORMATS:
            pfile = root / f"ceads-{fmt}.yaml"
            pfile.write_text(_params_text(fake_dir, fmt), encoding="utf-8")
            runner.build(pfile, out=root / f"book-{fmt}", results_dir=root / f"results-{fmt}", log=lambda _m: None)
            out[fmt] = (pfile, root / f"book-{fmt}")
    out["cache"] = cache
    out["fake"] = fake_dir
    return out


@pytest.fixture(scope="module")
def studies(ceads_books):
    """{fmt: Study} read from the build's cache (nothing is recomputed)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(paths, "CACHE_DIR", ceads_books["cache"])
        return {fmt: pipeline.study(params.load(ceads_books[fmt][0]), cache_dir=ceads_books["cache"])
                for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_chapter_executes_and_says_ceads(ceads_books, fmt):
    stage = ceads_books[fmt][1] / "stage"
    built = sorted(stage.joinpath("book").glob("*.ipynb"))
    assert [p.name for p in built] == sorted(p.name for p in paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    for f in built:
        nb = nbformat.read(f, as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        assert not [o for o in outputs if o.get("output_type") == "error"], f.name
        text = " ".join(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
        assert BANNER in text and f"city_mrio_2012.{fmt}" in text and f"`{ceads_books['fake']}`" in text, f.name


@pytest.mark.parametrize("fmt", FORMATS)
def test_html_book_on_ceads_says_ceads_on_every_page(ceads_books, fmt):
    html = ceads_books[fmt][1] / "html" / "book"
    for stem in [p.stem for p in paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")]:
        assert BANNER in (html / f"{stem}.html").read_text(encoding="utf-8"), stem
    realism = (html / "02_measurement.html").read_text(encoding="utf-8")
    assert "city MRIO (Z, F, x)" in realism and "FAKE CEADs tables" in realism and str(ceads_books["fake"]) in realism
    intro = (html / "00_intro.html").read_text(encoding="utf-8")  # the key results and what differs say so
    assert "fake CEADs" in intro and "None of them can be judged" in intro and "FAKE" in intro  # key results, what differs
    page = (html / "parameters.html").read_text(encoding="utf-8")  # the user's files, one row each
    assert all(f"ceads.mrio.{y}" in page and f"city_mrio_{y}.{fmt}" in page for y in ceads_fake.YEARS)
    assert "ceads.city_panel" in page and "ceads.unit" in page


def _synthetic_transfers(study) -> pd.DataFrame:
    """The transfers of the synthetic world the fake was written from, on the panel's cities, with
    every one of its cities in the Leontief system."""
    world = ceads_fake.build(N_FAKE)
    ids = study.data.city_ids
    order = list(world.cities["city_id"])
    pos = [order.index(c) for c in ids]
    S = len(world.mrio[2012].sectors)
    induced = {y: mrio.induced_output(world.mrio[y])[np.ix_(pos, range(S), pos)] for y in ceads_fake.YEARS}
    return transfer.period_transfer(induced, list(study.params.periods), ids, world.mrio[2012].sectors)


@pytest.mark.parametrize("fmt", FORMATS)
def test_transfers_equal_those_of_the_synthetic_world(studies, fmt):
    s = studies[fmt]
    want = _synthetic_transfers(s).set_index(["period", "origin", "dest"])
    got = s.transfers.set_index(["period", "origin", "dest"]).loc[want.index]
    assert len(got) == len(want) == 2 * 16 * 15
    for col in ("transfer", "transfer_labor", "transfer_capital", "transfer_tech"):
        rel = float((got[col] - want[col]).abs().max() / want[col].abs().max())
        assert rel < 1e-9, (col, rel)
    assert (np.sign(got["transfer"]) == np.sign(want["transfer"])).mean() > 0.999


def test_mrio_cities_outside_the_panel_stay_in_the_system_and_the_ledger(studies):
    s = studies["mat"]
    panel_ids = set(s.data.city_ids)
    mrio_ids = set(s.data.mrio[2012].cities)
    assert len(mrio_ids) == N_FAKE and len(panel_ids) == 16 and panel_ids < mrio_ids
    rows = s.ledger[s.ledger["stage"] == "ceads"]
    assert set(rows["key"]) == mrio_ids - panel_ids
    assert rows["reason"].str.contains("stays in the Leontief system").all()
    assert rows["reason"].str.contains("not sampled").all()
    # their demand still induces output in the panel's cities: dropping them would change the transfers
    world = ceads_fake.build(N_FAKE)
    keep = [list(world.cities["city_id"]).index(c) for c in s.data.city_ids]
    full = mrio.induced_output(world.mrio[2017])[np.ix_(keep, range(41), keep)]
    m = world.mrio[2017]
    shares = m.shares[:, keep][:, :, keep]
    small = mrio.StructuredMRIO(tuple(s.data.city_ids), m.sectors, m.a_nat, shares / shares.sum(axis=1, keepdims=True),
                                m.final_demand[keep])
    assert np.abs(mrio.induced_output(small) - full).max() > 1e-3 * np.abs(full).max()
    # panel cities the MRIO lacks are dropped, the ledger naming the MRIO file
    lacking = s.ledger[s.ledger["reason"].str.contains("CEADs MRIO 2012 \\(city_mrio_2012.mat\\)", regex=True)]
    assert len(lacking) > 200 and not set(lacking["key"]) & panel_ids


def test_city_panel_replaces_imputed_and_proxy_values(studies, ceads_books):
    s = studies["mat"]
    cp = panel.read_city_panel(ceads_books["fake"] / "city_panel.csv", list(range(2011, 2018)))
    user = cp.values.pivot_table(index=["city_id", "year"], columns="variable", values="value")
    cy = s.data.city_year.set_index(["city_id", "year"])
    for var in ("patents", "fixed_assets", "college_per_pop"):  # proxy or imputed in the public source
        prov = cy[f"prov_{var}"].astype(str)
        assert (prov == "user").all(), var
        assert np.allclose(cy[var].to_numpy(), user.loc[cy.index, var].to_numpy(), rtol=1e-15, atol=0), var
    pop = cy["prov_population"].astype(str)  # observed in the public source: kept
    assert not (pop == "user").any()
    assert not np.allclose(cy["population"].to_numpy(), user.loc[cy.index, "population"].to_numpy())
    assert s.data.meta["city_panel"]["name"] == "city_panel.csv"
    realism = __import__("intercity.report", fromlist=["data_realism"]).data_realism(s.data).set_index("variable")
    assert realism.at["patents", "status"] == "user" and realism.at["patents", "% user"] == 100.0
    assert realism.at["city MRIO (Z, F, x)", "status"] == "synthetic"  # the fake tables: the synthetic world


def test_mat_and_xlsx_give_the_same_bundle(studies):
    a, b = studies["mat"].data, studies["xlsx"].data
    assert a.city_ids == b.city_ids
    for y in ceads_fake.YEARS:
        for k in ("Z", "F", "x"):
            ra, rb = np.asarray(getattr(a.mrio[y], k)), np.asarray(getattr(b.mrio[y], k))
            assert np.abs(ra - rb).max() <= 1e-12 * np.abs(ra).max(), (y, k)
    pd.testing.assert_frame_equal(a.city_year, b.city_year)
    ta, tb = studies["mat"].transfers, studies["xlsx"].transfers
    assert float((ta["transfer"] - tb["transfer"]).abs().max()) <= 1e-9 * float(ta["transfer"].abs().max())
    assert os.path.basename(b.meta["mrio"]["files"]["2015"]["file"]) == "city_mrio_2015.xlsx"
