import numpy as np
import pandas as pd
import pytest

from intercity import reference
from intercity.cities import ADMIN_CHANGES_2012_2017, city_universe, great_circle_km
from intercity.sources import synthetic

YEARS = list(range(2011, 2018))
PERIODS = [(2012, 2015), (2015, 2017)]


def _gen(n, seed=7):
    return synthetic.generate(n, seed, YEARS, PERIODS, (2012, 2015, 2017))


def test_deterministic_and_seed_sensitive():
    a, b, c = _gen(20), _gen(20), _gen(20, seed=8)
    pd.testing.assert_frame_equal(a["city_year"], b["city_year"])
    pd.testing.assert_frame_equal(a["pair_year"], b["pair_year"])
    assert np.array_equal(a["mrio"][2015].shares, b["mrio"][2015].shares)
    assert not a["city_year"]["gdp_per_capita"].equals(c["city_year"]["gdp_per_capita"])


def test_city_selection_ledger_accounts_for_every_city():
    out = _gen(30)
    universe = city_universe()
    kept = set(out["cities"]["city_id"])
    dropped = set(out["ledger"]["key"])
    assert len(kept) == 30
    assert kept | dropped == set(universe["city_id"]) and not kept & dropped
    admin = out["ledger"][out["ledger"]["stage"] == "universe"]
    assert set(admin["key"]) == set(ADMIN_CHANGES_2012_2017)
    assert {"110000", "120000", "310000", "500000"} <= kept  # municipalities always kept


def test_full_scale_city_statistics_match_published_moments():
    """Period averages of every control match the published mean within 1% and sd within 5%."""
    rng = np.random.default_rng(20121517)
    cities, _ = synthetic.select_cities(city_universe(), 273, rng)
    cy = synthetic.city_statistics(cities, YEARS, PERIODS, rng)
    targets = reference.descriptive_stats().set_index("variable")
    for var, (stat, _) in synthetic.CALIBRATED.items():
        pa = np.concatenate([cy[cy["year"].between(a, b)].groupby("city_id")[var].mean().to_numpy()
                             for a, b in PERIODS])
        t = targets.loc[stat]
        assert pa.mean() == pytest.approx(t["mean"], rel=0.01), stat
        assert pa.std() == pytest.approx(t["std"], rel=0.05), stat
        assert pa.min() >= t["min"] - 1e-12 and pa.max() <= t["max"] + 1e-12, stat
        for a, b in PERIODS:  # no ties between cities: each pair is in exactly one gradient half
            per = cy[cy["year"].between(a, b)].groupby("city_id")[var].mean()
            assert per.is_unique, (stat, a, b)
    assert (cy.filter(like="prov_") == "synthetic").all().all()


def test_connectivity_moments_near_published():
    out = _gen(120)
    py = out["pair_year"]
    targets = reference.descriptive_stats().set_index("variable")
    ci = np.concatenate([np.log1p(py[py["year"].between(a, b)].groupby(["origin", "dest"])["baidu_index"].mean())
                         for a, b in PERIODS])
    assert ci.mean() == pytest.approx(targets.loc["connectivity_I", "mean"], rel=0.05)
    assert ci.std() == pytest.approx(targets.loc["connectivity_I", "std"], rel=0.10)
    hsr = np.concatenate([py[py["year"].between(a, b)].groupby(["origin", "dest"])["hsr_lines"].mean()
                          for a, b in PERIODS])
    assert hsr.mean() >= synthetic.Knobs().target_hsr_mean
    assert hsr.mean() < 2 * synthetic.Knobs().target_hsr_mean


def test_hsr_lines_are_symmetric_and_never_close():
    out = _gen(40)
    py = out["pair_year"].set_index(["origin", "dest", "year"])["hsr_lines"]
    swapped = py.copy()
    swapped.index = swapped.index.set_names(["dest", "origin", "year"])
    assert py.sort_index().equals(swapped.reorder_levels(["origin", "dest", "year"]).sort_index())
    wide = out["pair_year"].pivot_table(index=["origin", "dest"], columns="year", values="hsr_lines")
    assert (wide.diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_mrio_is_a_valid_chenery_moses_system_that_responds_to_knobs():
    from intercity import mrio

    base = _gen(25)
    m = base["mrio"][2017]
    mrio.validate(m)
    assert np.allclose(m.shares.sum(axis=1), 1.0)
    assert m.a_nat.sum(axis=0).max() < 1
    # stronger distance decay concentrates trade at home: own-city shares rise
    far = synthetic.generate(25, 7, YEARS, PERIODS, (2012, 2015, 2017),
                             synthetic.Knobs(distance_decay_goods_km=2000.0))
    own = lambda mm: np.mean([mm.shares[s].diagonal().mean() for s in range(mm.shares.shape[0])])
    assert own(far["mrio"][2017]) < own(m)


def test_knobs_are_documented():
    doc = synthetic.Knobs.__doc__
    for name in synthetic.Knobs().to_dict():
        assert name in doc


def test_knobs_flow_from_the_parameters_through_the_registry():
    from intercity import params, sources

    base = {"data_source": "synthetic", "scale": 0.06, "seed": 5}
    a = sources.build("synthetic", params.from_mapping(base))
    b = sources.build("synthetic", params.from_mapping({**base, "knobs": {"info_trade_effect": 0.0}}))
    c = sources.build("synthetic", params.from_mapping({**base, "world": {"home_bias": 10}}))
    pd.testing.assert_frame_equal(a.pair_year, b.pair_year)  # the same world, another truth
    assert b.meta["knobs"]["info_trade_effect"] == 0.0 and a.meta["knobs"]["info_trade_effect"] == 0.02
    assert c.meta["knobs"]["home_bias"] == 10
    assert not np.array_equal(a.mrio[2017].shares, b.mrio[2017].shares)
    assert not np.array_equal(a.mrio[2017].shares, c.mrio[2017].shares)


def test_world_rebuilds_its_tables_under_the_same_draws():
    w = synthetic.world(25, 7, YEARS, PERIODS, (2012, 2015, 2017))
    g = _gen(25)
    assert np.array_equal(w.index_for(w.hsr), w.idx)
    assert all(np.array_equal(w.mrio()[y].shares, g["mrio"][y].shares) for y in (2012, 2015, 2017))
    pd.testing.assert_frame_equal(w.pair_year(), g["pair_year"])
    # more HSR raises the search index of those pairs (hsr_info_effect) and nothing else
    last = w.idx[:, :, -1]
    a, b = np.argwhere((last > np.quantile(last[last > 0], 0.4)) & (last < np.quantile(last, 0.6)))[0]
    more = w.hsr.copy()
    more[a, b, -2:] += 1
    more[b, a, -2:] += 1
    idx = w.index_for(more)
    changed = np.argwhere(idx != w.idx)
    assert {(int(i), int(j)) for i, j, _ in changed} <= {(a, b), (b, a)} and len(changed)
    assert (idx[a, b, -2:] > w.idx[a, b, -2:]).all()
    only_2017 = w.mrio(more, idx, only=(2017,))
    assert list(only_2017) == [2017]
    assert np.array_equal(only_2017[2017].a_nat, w.mrio()[2017].a_nat)
