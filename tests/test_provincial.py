"""Real provincial output by sector (``national_io/provincial_output_42.mat``): the reader, the
order of its provinces and sectors (established from the data), the 2015 interpolation, the
coverage of each province by the sample, and the constraint it puts on the public stand-in MRIO."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.io import savemat
from scipy.stats import spearmanr

from intercity import bundle, cachekey, paths
from intercity.sectors import N_SECTORS, SECTOR_CODES, nbs_sectors
from intercity.sources import fetch, provincial as pv
from intercity.sources.fetch import FetchError

from conftest import MIRROR, needs_mirror  # noqa: E402

P, S = len(pv.PROVINCES), N_SECTORS


# --------------------------------------------------------------------------- reader (fixtures)

def _write_mat(root, fields: dict) -> None:
    d = root / "national_io"
    d.mkdir(parents=True, exist_ok=True)
    savemat(d / "provincial_output_42.mat", fields)


def _fields(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"total{y}": rng.uniform(1, 10, (42, 31)) for y in (2007, 2012, 2017)}


def test_reader_maps_each_years_rows_through_its_own_sector_list(tmp_path):
    """2012 rows follow NBS's 2012 list (code 25 = electricity and heat, 22 and 23 merged into
    book 22); 2017 rows the 2017 list (code 24 = electricity and heat, 35 and 36 merged into book 36)."""
    f = _fields()
    _write_mat(tmp_path, f)
    out = pv.read_provincial_output(tmp_path)
    assert sorted(out) == [2012, 2017] and out[2012].shape == (P, S)
    b = {c: SECTOR_CODES.index(c) for c in ("22", "25", "36")}
    np.testing.assert_allclose(out[2012][:, b["25"]], f["total2012"][24])  # row 25 of the 2012 list
    np.testing.assert_allclose(out[2012][:, b["22"]], f["total2012"][21] + f["total2012"][22])
    np.testing.assert_allclose(out[2017][:, b["25"]], f["total2017"][23])  # row 24 of the 2017 list
    np.testing.assert_allclose(out[2017][:, b["36"]], f["total2017"][34] + f["total2017"][35])
    for y in (2012, 2017):  # nothing lost or counted twice
        np.testing.assert_allclose(out[y].sum(axis=1), f[f"total{y}"].sum(axis=0))
    assert nbs_sectors(2017)["description_zh"][23] == "电力、热力的生产和供应"


@pytest.mark.parametrize("change, message", [
    (lambda f: f.pop("total2017"), r"provincial_output_42.mat: no field 'total2017' \(have \['total2007', 'total2012'\]\)"),
    (lambda f: f.update(total2012=np.ones((42, 30))), r"field total2012 has shape \(42, 30\), expected \(42, 31\)"),
    (lambda f: f["total2017"].__setitem__((23, 3), -2.0),
     r"field total2017 row 24 \(sector 24 .*\), column 4 \(province 14 山西\) is -2.0: gross output must be finite and >= 0"),
    (lambda f: f["total2012"].__setitem__((0, 30), np.nan), r"column 31 \(province 65 新疆\) is nan"),
])
def test_reader_names_file_field_and_value(tmp_path, change, message):
    f = _fields()
    change(f)
    _write_mat(tmp_path, f)
    with pytest.raises(ValueError, match=message):
        pv.read_provincial_output(tmp_path)


def test_reader_refuses_a_file_that_is_not_a_mat_file(tmp_path):
    (tmp_path / "national_io").mkdir()
    (tmp_path / "national_io" / "provincial_output_42.mat").write_text("year,province,output\n")
    with pytest.raises(ValueError, match="provincial_output_42.mat: not a MATLAB .mat file"):
        pv.read_provincial_output(tmp_path)


def test_reader_missing_file_names_it(tmp_path):
    with pytest.raises(FetchError, match="national_io/provincial_output_42.mat not found"):
        pv.read_provincial_output(tmp_path)


def test_reader_refuses_a_year_without_a_sector_list(tmp_path):
    _write_mat(tmp_path, _fields())
    with pytest.raises(ValueError, match="field total2007: no NBS 42-sector list for year 2007"):
        pv.read_provincial_output(tmp_path, years=(2007,))


# --------------------------------------------------------------------------- 2015: interpolated shares

def test_2015_shares_interpolate_2012_and_2017_and_are_flagged():
    rng = np.random.default_rng(1)
    out = {2012: rng.uniform(0, 5, (P, S)), 2017: rng.uniform(0, 5, (P, S))}
    s15, note = pv.provincial_shares(out, 2015)
    np.testing.assert_allclose(s15, 0.4 * pv.shares_of(out[2012]) + 0.6 * pv.shares_of(out[2017]))
    np.testing.assert_allclose(s15.sum(axis=0), 1.0)
    assert note.startswith("interpolated: 0.4 x 2012 + 0.6 x 2017")
    assert pv.provincial_shares(out, 2017)[1] == "observed 2017"
    with pytest.raises(ValueError, match="no provincial output for 2018, and 2018 is not between two"):
        pv.provincial_shares(out, 2018)


# --------------------------------------------------------------------------- the constraint (constructed)

def _world(seed=3, n_free=1):
    """7 + n_free cities in 3 provinces (indices 0..2) and cities without provincial data (-1)."""
    rng = np.random.default_rng(seed)
    prov = np.array([0, 0, 1, 1, 1, 2, 2] + [-1] * n_free)
    w0 = rng.uniform(0.1, 1.0, (prov.size, 5)) * rng.uniform(1, 100, 5)[None, :]
    shares = pv.shares_of(rng.uniform(0.1, 1.0, (3, 5)))
    return w0, prov, shares


def test_constraint_keeps_national_totals_and_gives_each_province_its_share():
    w0, prov, shares = _world(n_free=0)
    w, info = pv.constrain(w0, prov, shares, np.ones(3))
    np.testing.assert_allclose(w.sum(axis=0), 1.0)  # national output x[s] * w[:, s] sums to x[s]
    for p in range(3):
        np.testing.assert_allclose(w[prov == p].sum(axis=0), shares[p])
        inside = w0[prov == p] / w0[prov == p].sum(axis=0)  # within a province: the unconstrained split
        np.testing.assert_allclose(w[prov == p] / w[prov == p].sum(axis=0), inside)
    assert info == {"unconstrained_sectors": [], "size_split": [], "cities_without_province_data": 0}


def test_constraint_leaves_cities_without_provincial_data_on_the_old_rule():
    w0, prov, shares = _world(n_free=2)
    w, info = pv.constrain(w0, prov, shares, np.ones(3))
    b = w0 / w0.sum(axis=0)
    np.testing.assert_allclose(w[prov < 0], b[prov < 0])
    u = b[prov < 0].sum(axis=0)
    np.testing.assert_allclose(w.sum(axis=0), 1.0)
    for p in range(3):
        np.testing.assert_allclose(w[prov == p].sum(axis=0), (1 - u) * shares[p])
    assert info["cities_without_province_data"] == 2


def test_constraint_scales_provinces_by_their_coverage():
    """A province half covered by the sample gets half its share, relative to the others."""
    w0, prov, shares = _world(n_free=0)
    kappa = np.array([1.0, 0.5, 1.0])
    w, _ = pv.constrain(w0, prov, shares, kappa)
    t = kappa[:, None] * shares / (kappa[:, None] * shares).sum(axis=0)
    for p in range(3):
        np.testing.assert_allclose(w[prov == p].sum(axis=0), t[p])
    # a province without a city in the sample drops out; the others share its part
    keep = prov != 2
    w2, _ = pv.constrain(w0[keep], prov[keep], shares, np.ones(3))
    np.testing.assert_allclose(w2.sum(axis=0), 1.0)
    np.testing.assert_allclose(w2[prov[keep] == 0].sum(axis=0), shares[0] / shares[:2].sum(axis=0))


def test_constraint_fallbacks_are_reported():
    w0, prov, shares = _world(n_free=0)
    w0[prov == 1, 2] = 0.0  # province 1 produces sector 2, but its cities have no weight there
    shares[:, 4] = 0.0  # no province produces sector 4
    w, info = pv.constrain(w0, prov, shares, np.ones(3))
    size = w0[prov == 1].sum(axis=1)
    np.testing.assert_allclose(w[prov == 1, 2], shares[1, 2] * size / size.sum())
    np.testing.assert_allclose(w[:, 4], w0[:, 4] / w0[:, 4].sum())
    assert info["size_split"] == [("1", "2")] and info["unconstrained_sectors"] == ["4"]
    np.testing.assert_allclose(w.sum(axis=0), 1.0)


def test_constraint_refuses_mismatched_shapes():
    w0, prov, shares = _world()
    with pytest.raises(ValueError, match="do not match"):
        pv.constrain(w0, prov[:-1], shares, np.ones(3))


def test_coverage_of_sampled_and_incomplete_provinces():
    """c: the sample's GDP share of the province's cities; rho: 1 for a province of cities only,
    else its GDP / value-added ratio relative to the complete provinces, when below all of theirs."""
    ids_all = ["110000", "130100", "130200", "140100", "140200", "650100", "650200"]
    gdp = pd.Series([10.0, 6.0, 2.0, 3.0, 1.0, 1.0, 1.0], index=ids_all)
    shares = np.zeros((P, 1))
    va = {"11": 10.0, "13": 8.0, "14": 4.4, "65": 8.0}  # Xinjiang: its two cities are a quarter
    for p, v in va.items():
        shares[pv.PROVINCES.index(p), 0] = v
    nat_va = np.array([1.0])
    outside = {"65": ("伊犁哈萨克自治州",)}
    sample = ["110000", "130100", "140100", "140200", "650100", "650200"]  # 130200 sampled out
    kappa, info = pv.coverage(sample, gdp, shares / shares.sum(), nat_va, ids_all, outside)
    k = {p: kappa[pv.PROVINCES.index(p)] for p in ("11", "13", "14", "65", "32")}
    assert k["11"] == pytest.approx(1.0) and k["14"] == pytest.approx(1.0) and k["32"] == 0.0
    assert k["13"] == pytest.approx(6 / 8)  # c = 6 / (6 + 2)
    r = {p: gdp[[c for c in ids_all if c[:2] == p]].sum() / va[p] for p in va}
    med = np.median([r["11"], r["13"], r["14"]])
    assert k["65"] == pytest.approx(r["65"] / med)  # 0.25 / 1.0
    assert info["complete"] == ["11", "13", "14"]


def test_units_outside_the_city_universe():
    from intercity.cities import outside_city_units

    out = outside_city_units()
    assert len(out) == P and set(out) == set(pv.PROVINCES)
    assert all(out[m] == () for m in ("11", "12", "31", "50", "32", "44"))  # municipalities, Jiangsu, Guangdong
    assert "伊犁哈萨克自治州" in out["65"] and "延边朝鲜族自治州" in out["22"] and "阿拉善盟" in out["15"]
    assert "省直辖县级行政区划" in out["46"]  # Hainan's province-administered counties


# --------------------------------------------------------------------------- the real file

@pytest.fixture(scope="module")
def real_output():
    return pv.read_provincial_output(MIRROR)


@pytest.fixture(scope="module")
def city_gdp():
    from intercity.sources.city_stats import city_statistics

    return city_statistics(MIRROR, [2012, 2017])["gdp"]


@needs_mirror
@pytest.mark.parametrize("year", [2012, 2017])
def test_real_province_order_matches_city_gdp(real_output, city_gdp, year):
    """Column k is province PROVINCES[k] (NBS order): provincial totals rank like the provincial
    sums of city GDP (Spearman 0.97), and no shifted order comes close."""
    gdp = city_gdp[year].groupby(city_gdp.index.str[:2]).sum().reindex(list(pv.PROVINCES)).to_numpy()
    tot = real_output[year].sum(axis=1)
    rho = spearmanr(tot, gdp)[0]
    assert rho > 0.95
    for shift in (1, 2, -1):
        assert spearmanr(np.roll(tot, shift), gdp)[0] < 0.6


@needs_mirror
@pytest.mark.parametrize("year", [2012, 2017])
def test_real_province_order_matches_unmistakable_geography(real_output, year):
    """Coal in Shanxi first (then Inner Mongolia and Shaanxi), crude oil and gas in Heilongjiang,
    Shaanxi and Xinjiang, electronics in Guangdong then Jiangsu, software in Beijing."""
    sh = pv.shares_of(real_output[year])

    def top(code, k):
        s = sh[:, SECTOR_CODES.index(code)]
        return [pv.PROVINCE_NAMES[pv.PROVINCES[p]] for p in np.argsort(-s)[:k]]

    assert top("02", 1) == ["山西"] and {"内蒙古", "陕西"} <= set(top("02", 4))
    assert sh[pv.PROVINCES.index("14"), SECTOR_CODES.index("02")] > 0.2
    assert {"黑龙江", "陕西", "新疆"} <= set(top("03", 4))
    assert top("20", 2) == ["广东", "江苏"]
    assert top("32", 1) == ["北京"]


@needs_mirror
@pytest.mark.parametrize("year", [2012, 2017])
def test_real_rows_follow_that_years_sector_list(real_output, year):
    """Mapped through its own year's list, the provincial output by sector correlates (log) 0.99
    with the national table of that year; mapped through the other year's list, clearly less."""
    from scipy.io import loadmat
    from intercity.sectors import aggregation_matrix
    from intercity.sources.national_io import national_table

    nat = np.log(national_table(MIRROR, year)["x"])
    own = np.corrcoef(np.log(real_output[year].sum(axis=0)), nat)[0, 1]
    raw = loadmat(fetch.raw_path(pv.FILE, MIRROR))[f"total{year}"].sum(axis=1)
    other = 2017 if year == 2012 else 2012
    M = aggregation_matrix(nbs_sectors(other)["description_zh"], other).to_numpy()
    wrong = np.corrcoef(np.log(raw @ M), nat)[0, 1]
    assert own > 0.98 and wrong < own - 0.05


@needs_mirror
def test_stale_provincial_shares_beat_the_unconstrained_rule_held_out():
    """The held-out check: constrained with the 2012 shares, the 2017 weights put about 9% of
    national output in another province than the real 2017 shares do; the unconstrained rule, on
    2017's own city data, about 19%. Against the real shares of each table year it misplaces about
    20% (so the constraint, exact by construction there, moves a fifth of output)."""
    from intercity.cities import city_universe, outside_city_units
    from intercity.sources.city_stats import city_statistics
    from intercity.sources.national_io import national_table, sector_weights

    stats = city_statistics(MIRROR, [2016, 2017])
    yb = stats["yearbook"]
    ids = sorted(set(yb.loc[yb["year"] == 2016, "city_id"]) & set(stats["gdp"].index)
                 & set(stats["industry"].loc[stats["industry"]["year"] == 2017, "city_id"]))
    out = pv.read_provincial_output(MIRROR)
    nat = national_table(MIRROR, 2017)
    t17, _ = pv.targets(out, 2017, ids, stats["gdp"][2017], nat, city_universe()["city_id"].tolist(),
                        outside_city_units())
    held = pv.ProvincialTargets(2017, pv.provincial_shares(out, 2012)[0], t17.kappa, "2012 shares")
    prov = pv.province_index(ids, t17.has_data())
    w0, _ = sector_weights(ids, 2017, yb, stats["industry"], nat["x"])
    w12, _ = sector_weights(ids, 2017, yb, stats["industry"], nat["x"], provincial=held)
    w17, _ = sector_weights(ids, 2017, yb, stats["industry"], nat["x"], provincial=t17)
    mis = {k: pv.misallocation(w, prov, t17.shares, t17.kappa, nat["x"]) for k, w in
           (("unconstrained", w0), ("2012 shares", w12), ("2017 shares", w17))}
    assert mis["2017 shares"] < 1e-12
    assert mis["unconstrained"] > 0.15 and mis["2012 shares"] < 0.12
    assert mis["2012 shares"] < 0.6 * mis["unconstrained"]


# --------------------------------------------------------------------------- cache key

def test_bundle_key_covers_the_provincial_file_and_module():
    """The public bundle's key hashes data/manifest.csv, whose row for the .mat carries its sha256
    (every fetch verifies it), and the provincial module's source."""
    modules, data = bundle.stage_inputs("public")
    assert "data/manifest.csv" in data
    assert "intercity.sources.provincial" in cachekey.closure(tuple(modules))
    rows = {e.path: e for e in fetch.read_manifest()}
    assert pv.FILE in rows
    if MIRROR is not None:
        import hashlib

        assert hashlib.sha256((MIRROR / pv.FILE).read_bytes()).hexdigest() == rows[pv.FILE].sha256
    assert (paths.PROJECT_ROOT / "data" / "manifest.csv").is_file()


# --------------------------------------------------------------------------- the measurement chapter's note

def test_mrio_note_says_the_constraint_is_used_and_2015_interpolated():
    from types import SimpleNamespace

    from intercity import report
    from intercity.sources.public import CEADS_STANDIN

    by_year = {"2012": {"shares": "observed 2012", "misallocated_without_constraint": 0.2,
                        "partial_coverage": {"65 新疆": 0.35}},
               "2015": {"shares": "interpolated: 0.4 x 2012 + 0.6 x 2017 shares (no provincial table of 2015)",
                        "misallocated_without_constraint": 0.2, "partial_coverage": {"65 新疆": 0.32}}}
    meta = {"mrio": {"note": CEADS_STANDIN, "provincial": {"file": pv.FILE, "unit": pv.UNIT, "by_year": by_year,
                                                             "interpolated": ["2015"]}}}
    text = report.mrio_note(SimpleNamespace(meta=meta)).data
    assert "constrained to real provincial gross output by sector" in text
    assert "2015: interpolated: 0.4 x 2012 + 0.6 x 2017" in text and "interpolated: 2015" in text
    assert "20% in 2012" in text and "65 新疆 0.32" in text
    assert report.mrio_note(SimpleNamespace(meta={})).data == ""
