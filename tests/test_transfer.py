"""Tests for intercity.transfer: sign conventions, IT variables, per-city totals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intercity.mrio import StructuredMRIO, induced_output
from intercity.sectors import SECTOR_CODES, SECTOR_GROUPS
from intercity.transfer import direction, pair_transfer, period_transfer, received_transfer, signed_log

CITIES = ("110000", "120000", "130000")
SECTORS = ("01", "02")
GROUPS = {"g1": ("01",), "g2": ("02",)}


def hand_change() -> tuple[np.ndarray, np.ndarray]:
    """x0 = 0; x1 has two changes:

    * X[120000, 01, 110000] += 5: city 110000's demand is now served by 120000's
      sector-01 output -> transfer FROM 110000 TO 120000 of +5 (group g1).
    * X[110000, 02, 130000] -= 3: city 130000's demand is less served by
      110000's sector-02 output -> transfer FROM 130000 TO 110000 of -3 (group g2).
    """
    x0 = np.zeros((3, 2, 3))
    x1 = x0.copy()
    x1[1, 0, 0] = 5.0
    x1[0, 1, 2] = -3.0
    return x0, x1


def test_hand_sign_convention():
    x0, x1 = hand_change()
    df = pair_transfer(x0, x1, CITIES, SECTORS, GROUPS)
    assert list(df.columns) == ["origin", "dest", "transfer", "transfer_g1", "transfer_g2"]
    assert len(df) == 3 * 2
    # origin-major order in the order of CITIES
    assert list(zip(df.origin, df.dest)) == [
        ("110000", "120000"),
        ("110000", "130000"),
        ("120000", "110000"),
        ("120000", "130000"),
        ("130000", "110000"),
        ("130000", "120000"),
    ]
    t = df.set_index(["origin", "dest"])
    assert t.loc[("110000", "120000"), "transfer"] == 5.0
    assert t.loc[("110000", "120000"), "transfer_g1"] == 5.0
    assert t.loc[("110000", "120000"), "transfer_g2"] == 0.0
    assert t.loc[("120000", "110000"), "transfer"] == 0.0  # direction matters
    assert t.loc[("130000", "110000"), "transfer"] == -3.0
    assert t.loc[("130000", "110000"), "transfer_g2"] == -3.0
    assert t.loc[("130000", "110000"), "transfer_g1"] == 0.0
    assert (t.drop([("110000", "120000"), ("130000", "110000")])["transfer"] == 0).all()


def test_own_city_changes_are_not_transfers():
    x0 = np.zeros((3, 2, 3))
    x1 = x0.copy()
    x1[1, :, 1] = 7.0  # city 120000 serving its own demand
    df = pair_transfer(x0, x1, CITIES, SECTORS, GROUPS)
    assert (df["transfer"] == 0).all()


def test_group_sums_and_default_groups():
    rng = np.random.default_rng(0)
    n, S = 4, len(SECTOR_CODES)
    x0, x1 = rng.normal(size=(n, S, n)), rng.normal(size=(n, S, n))
    cities = [str(110000 + 100 * k) for k in range(n)]
    df = pair_transfer(x0, x1, cities, SECTOR_CODES)  # default SECTOR_GROUPS
    assert list(df.columns) == ["origin", "dest", "transfer"] + [f"transfer_{g}" for g in SECTOR_GROUPS]
    dX = x1 - x0
    k = list(SECTOR_CODES).index(SECTOR_GROUPS["tech"][0])
    row = df.iloc[1]  # origin cities[0], dest cities[2]
    assert (row.origin, row.dest) == (cities[0], cities[2])
    assert row.transfer_tech == pytest.approx(dX[2, k, 0])
    assert row.transfer == pytest.approx(dX[2, :, 0].sum())
    # groups partitioning all sectors add up to the total
    halves = {"a": SECTOR_CODES[:20], "b": SECTOR_CODES[20:]}
    dh = pair_transfer(x0, x1, cities, SECTOR_CODES, halves)
    np.testing.assert_allclose(dh.transfer_a + dh.transfer_b, dh.transfer, rtol=1e-12, atol=1e-12)


def test_signed_log_values():
    assert signed_log(0.0) == 0.0
    assert signed_log(math.e - 1) == pytest.approx(1.0)
    assert signed_log(-(math.e**2 - 1)) == pytest.approx(-2.0)
    x = np.array([-1e6, -3.5, -1e-9, 0.0, 1e-9, 3.5, 1e6])
    y = signed_log(x)
    np.testing.assert_allclose(y, -signed_log(-x))  # odd
    np.testing.assert_allclose(np.abs(y), np.log1p(np.abs(x)))
    assert (np.diff(y) > 0).all()  # monotone
    s = pd.Series([-9.0, 0.0, 9.0], index=["a", "b", "c"])
    out = signed_log(s)
    assert isinstance(out, pd.Series) and list(out.index) == ["a", "b", "c"]
    np.testing.assert_allclose(out.to_numpy(), [-math.log(10), 0.0, math.log(10)])
    assert np.isnan(signed_log(np.nan))


def test_direction_values():
    np.testing.assert_array_equal(direction(np.array([-2.0, 0.0, 1e-12, 3.0])), [0, 0, 1, 1])
    assert direction(0.0) == 0 and direction(4.0) == 1
    s = direction(pd.Series([1.0, -1.0], index=[7, 8]))
    assert isinstance(s, pd.Series) and list(s) == [1, 0] and list(s.index) == [7, 8]
    with pytest.raises(ValueError, match="NaN"):
        direction(np.array([1.0, np.nan]))


def test_period_transfer_columns_and_values():
    x0, x1 = hand_change()
    x2 = x1.copy()
    x2[2, 0, 1] = 1.0  # 2015 -> 2017: from 120000 to 130000, +1
    induced = {2012: x0, 2015: x1, 2017: x2}
    df = period_transfer(induced, [(2012, 2015), (2015, 2017)], CITIES, SECTORS, GROUPS)
    assert list(df.columns) == [
        "period", "origin", "dest", "transfer", "transfer_g1", "transfer_g2",
        "IT", "IT_direction", "IT_g1", "IT_g2",
    ]  # fmt: skip
    assert len(df) == 2 * 6
    assert list(df.period.unique()) == ["2012-2015", "2015-2017"]
    t = df.set_index(["period", "origin", "dest"])
    r = t.loc[("2012-2015", "110000", "120000")]
    assert r.IT == pytest.approx(math.log(6.0)) and r.IT_direction == 1 and r.IT_g1 == pytest.approx(math.log(6.0))
    r = t.loc[("2012-2015", "130000", "110000")]
    assert r.IT == pytest.approx(-math.log(4.0)) and r.IT_direction == 0 and r.IT_g2 == pytest.approx(-math.log(4.0))
    r = t.loc[("2015-2017", "120000", "130000")]
    assert r.transfer == 1.0 and r.IT_direction == 1
    # the earlier changes are not repeated in the second period
    assert t.loc[("2015-2017", "110000", "120000"), "transfer"] == 0.0
    with pytest.raises(KeyError, match="2019"):
        period_transfer(induced, [(2017, 2019)], CITIES, SECTORS, GROUPS)


def test_received_transfer_hand():
    x0, x1 = hand_change()
    pairs = pair_transfer(x0, x1, CITIES, SECTORS, GROUPS)
    rec = received_transfer(pairs, CITIES)
    assert list(rec.columns) == ["city", "inflow", "outflow", "net"]
    r = rec.set_index("city")
    # 110000: sends +5 to 120000, receives -3 from 130000
    assert (r.loc["110000", "inflow"], r.loc["110000", "outflow"], r.loc["110000", "net"]) == (-3.0, 5.0, -8.0)
    assert (r.loc["120000", "inflow"], r.loc["120000", "outflow"]) == (5.0, 0.0)
    assert (r.loc["130000", "inflow"], r.loc["130000", "outflow"]) == (0.0, -3.0)
    # with periods, and on a group column
    per = period_transfer({2012: x0, 2015: x1}, [(2012, 2015)], CITIES, SECTORS, GROUPS)
    rp = received_transfer(per, CITIES, value="transfer_g2")
    assert list(rp.columns) == ["city", "period", "inflow", "outflow", "net"]
    assert list(rp.period) == ["2012-2015"] * 3
    assert rp.set_index("city").loc["110000", "inflow"] == -3.0


def test_bad_inputs():
    x0, x1 = hand_change()
    with pytest.raises(ValueError, match=r"sector codes \['25'\] not in sectors"):
        pair_transfer(x0, x1, CITIES, SECTORS)  # default groups need 01, 25, 32
    with pytest.raises(ValueError, match="x1 has shape"):
        pair_transfer(x0, x1[:, :, :2], CITIES, SECTORS, GROUPS)
    with pytest.raises(ValueError, match="duplicate"):
        pair_transfer(x0, x1, ("1", "1", "2"), SECTORS, GROUPS)


def test_large_n_is_vectorised_and_deterministic():
    n, S = 310, 6
    rng = np.random.default_rng(1)
    x0, x1 = rng.random((n, S, n)), rng.random((n, S, n))
    cities = [f"{100000 + k:06d}" for k in range(n)]
    groups = {"labor": ("01",), "capital": ("03", "04")}
    df = pair_transfer(x0, x1, cities, SECTOR_CODES[:S], groups)
    assert len(df) == n * (n - 1)
    pd.testing.assert_frame_equal(df, pair_transfer(x0, x1, cities, SECTOR_CODES[:S], groups))
    i, j = 17, 203
    row = df.iloc[i * (n - 1) + (j - 1)]  # j > i: one position skipped for the diagonal
    assert (row.origin, row.dest) == (cities[i], cities[j])
    assert row.transfer == pytest.approx((x1 - x0)[j, :, i].sum())
    assert row.transfer_capital == pytest.approx((x1 - x0)[j, 2:4, i].sum())


def _random_system(n: int, S: int, seed: int) -> StructuredMRIO:
    rng = np.random.default_rng(seed)
    a = rng.random((S, S))
    a *= rng.uniform(0.2, 0.8, S) / a.sum(axis=0)
    w = rng.random((S, n, n)) + np.eye(n)
    return StructuredMRIO(
        [str(110000 + k) for k in range(n)], SECTOR_CODES[:S], a, w / w.sum(axis=1, keepdims=True), rng.lognormal(2, 1, (n, S))
    )


def test_end_to_end_accounting_identity():
    """Pair transfers + own-city changes = change in total induced output."""
    m0, m1 = _random_system(5, 3, 0), _random_system(5, 3, 1)
    X0, X1 = induced_output(m0), induced_output(m1)
    df = period_transfer({2012: X0, 2017: X1}, [(2012, 2017)], m0.cities, m0.sectors, {"g": ("01",)})
    own = sum((X1 - X0)[i, :, i].sum() for i in range(5))
    assert df.transfer.sum() + own == pytest.approx(X1.sum() - X0.sum(), rel=1e-10)
    rec = received_transfer(df, m0.cities)
    assert rec.inflow.sum() == pytest.approx(rec.outflow.sum(), rel=1e-10)
    assert rec.net.sum() == pytest.approx(0.0, abs=1e-8 * np.abs(X1).max())


@settings(max_examples=25, deadline=None, derandomize=True)
@given(n=st.integers(2, 6), S=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_property_antisymmetry_linearity(n, S, seed):
    rng = np.random.default_rng(seed)
    x0, x1, x2 = (rng.normal(0, 100, (n, S, n)) for _ in range(3))
    cities = [str(k) for k in range(n)]
    groups = {"first": SECTOR_CODES[:1]}
    f01 = pair_transfer(x0, x1, cities, SECTOR_CODES[:S], groups)
    f10 = pair_transfer(x1, x0, cities, SECTOR_CODES[:S], groups)
    f12 = pair_transfer(x1, x2, cities, SECTOR_CODES[:S], groups)
    f02 = pair_transfer(x0, x2, cities, SECTOR_CODES[:S], groups)
    assert len(f01) == n * (n - 1)
    np.testing.assert_allclose(f01.transfer, -f10.transfer)
    np.testing.assert_allclose(f01.transfer + f12.transfer, f02.transfer, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(signed_log(f01.transfer), -signed_log(f10.transfer))
    # direction flips except for exact zeros
    nz = f01.transfer != 0
    assert (direction(f01.transfer[nz]) + direction(f10.transfer[nz]) == 1).all()
    rec = received_transfer(f01, cities)
    assert rec.inflow.sum() == pytest.approx(f01.transfer.sum(), rel=1e-9, abs=1e-9)
    assert rec.outflow.sum() == pytest.approx(f01.transfer.sum(), rel=1e-9, abs=1e-9)


def test_positive_shares_and_national_growth():
    from intercity.transfer import national_growth, positive_shares

    pairs = pd.DataFrame({"period": ["2012-2015"] * 4 + ["2015-2017"] * 4,
                          "origin": list("aabb") * 2, "dest": list("baba") * 2,
                          "transfer": [1.0, -1.0, 2.0, 3.0, -1.0, -2.0, 0.0, 4.0],
                          "transfer_capital": [1.0, 1.0, 1.0, -1.0, -1.0, -1.0, -1.0, -1.0]})
    out = positive_shares(pairs)
    assert out["group"].tolist() == ["all", "capital"] * 2
    assert out["share_positive"].tolist() == [0.75, 0.75, 0.25, 0.0]  # 0 is not positive
    assert (out["pairs"] == 4).all()
    with pytest.raises(KeyError, match=r"group\(s\) \['tech'\]"):
        positive_shares(pairs, ["tech"])
    nat = {2012: np.array([10.0, 20.0, 30.0]), 2015: np.array([20.0, 20.0, 30.0]), 2017: np.array([20.0, 10.0, 30.0])}
    g = national_growth(nat, [(2012, 2015), (2015, 2017)], ["01", "25", "32"], {"capital": ["25"]})
    assert g["group"].tolist() == ["all", "capital"] * 2
    np.testing.assert_allclose(g["growth"], [10 / 60, 0.0, -10 / 70, -0.5])


# ----------------------------------------------------------------------------- unknown ids, money unit

def test_received_transfer_never_turns_an_unknown_id_into_a_zero_flow():
    x0, x1 = hand_change()
    pairs = pair_transfer(x0, x1, CITIES, SECTORS, GROUPS)
    with pytest.raises(ValueError, match=r"city id\(s\) \['999999'\] .* have no pair in the transfer table"):
        received_transfer(pairs, CITIES + ("999999",))
    with pytest.raises(ValueError, match=r"has city id\(s\) \['130000'\] .* not in `cities`"):
        received_transfer(pairs, CITIES[:2])
    per = period_transfer({2012: x0, 2015: x1}, [(2012, 2015)], CITIES, SECTORS, GROUPS)
    with pytest.raises(ValueError, match=r"\['999999'\] .* in period 2012-2015"):
        received_transfer(per, CITIES + ("999999",))


def test_money_unit_conversion_and_it_variables():
    from intercity.transfer import it_variables, to_money_unit

    assert to_money_unit(1.0, "yuan") == pytest.approx(1e4)
    assert to_money_unit(1.0, "10k yuan") == 1.0
    assert to_money_unit(1.0, "million yuan") == pytest.approx(1e-2)
    assert to_money_unit(1.0, "100 million yuan") == pytest.approx(1e-4)
    with pytest.raises(ValueError, match=r"money_unit 'dollars' is not known: allowed \['yuan', '10k yuan'"):
        to_money_unit(1.0, "dollars")
    x0, x1 = hand_change()
    per = period_transfer({2012: x0, 2015: x1}, [(2012, 2015)], CITIES, SECTORS, GROUPS, money_unit="yuan")
    t = per.set_index(["origin", "dest"])
    assert t.loc[("110000", "120000"), "transfer"] == 5.0  # stored in 10k yuan whatever the unit
    assert t.loc[("110000", "120000"), "IT"] == pytest.approx(math.log(50001.0))
    assert t.loc[("130000", "110000"), "IT_g2"] == pytest.approx(-math.log(30001.0))
    back = it_variables(per, "10k yuan")
    assert list(back.columns) == list(per.columns)
    assert back.set_index(["origin", "dest"]).loc[("110000", "120000"), "IT"] == pytest.approx(math.log(6.0))
    assert (back["IT_direction"] == per["IT_direction"]).all()


def unit_panel() -> pd.DataFrame:
    """20 pairs gain an HSR line between the periods, 20 do not. Of the 20, half see a small
    transfer (0.5, 10k yuan) turn from negative to positive and half a large one (100,000) halve;
    the others keep a transfer of 1. In a large unit the signed log is nearly linear (the halving
    dominates, the effect of HSR on IT is negative); in a small unit it is nearly the sign (the
    reversals dominate, positive)."""
    rows = []
    for k in range(40):
        treated, flip = k < 20, k < 10
        t0, t1 = ((-0.5, 0.5) if flip else (1e5, 5e4)) if treated else (1.0, 1.0)
        for period, (t, hsr) in enumerate(((t0, 0.0), (t1, 1.0 if treated else 0.0))):
            rows.append({"period": f"p{period}", "origin": f"c{k % 8}", "dest": f"d{k // 8}", "pair_id": k,
                         "transfer": t, "connectivity_HSR": hsr, "tier": ""})
    return pd.DataFrame(rows)


def test_the_money_unit_can_flip_the_sign_of_an_estimate():
    """The same transfers in yuan, 10k yuan, million yuan and 100 million yuan: the effect of HSR on
    IT is +8.2, +0.059, -0.34 and -0.30 (by hand: half of 2 ln(1 + 0.5 c) + ln((1 + 5e4 c) /
    (1 + 1e5 c)), c the number of units in 10k yuan)."""
    from intercity import models
    from intercity.transfer import it_variables

    spec = [models.Spec("unit", 1, "IT", ("connectivity_HSR",), controls=False)]
    coef = {}
    for unit, c in (("yuan", 1e4), ("10k yuan", 1.0), ("million yuan", 1e-2), ("100 million yuan", 1e-4)):
        coef[unit] = models.fit_specs(it_variables(unit_panel(), unit), spec).iloc[0]["coef"]
        hand = 0.5 * (2 * math.log1p(0.5 * c) + math.log((1 + 5e4 * c) / (1 + 1e5 * c)))
        assert coef[unit] == pytest.approx(hand, rel=1e-9), unit
    assert coef["yuan"] > 5 and 0 < coef["10k yuan"] < 0.1 and coef["million yuan"] < -0.3 and coef["100 million yuan"] < -0.3


def test_the_money_unit_parameter_reaches_it_and_every_model_row(ci_study, ci_params):
    """The build converts the stored transfers (10k yuan) to the parameter's unit before the signed
    log, reusing the cached transfers, and names the unit in every model row."""
    from intercity import params, pipeline

    p = params.from_mapping({**ci_params.model_dump(), "money_unit": "100 million yuan"})
    s = pipeline.study(p, cache_dir=ci_study.cache.parent)
    assert s.timings["measurement"] < 5  # the transfers were read from the cache
    pd.testing.assert_series_equal(s.transfers["transfer"], ci_study.transfers["transfer"])
    np.testing.assert_allclose(s.panel["IT"], signed_log(ci_study.panel["transfer"].to_numpy() / 1e4), rtol=1e-12)
    assert not np.allclose(s.panel["IT"], ci_study.panel["IT"])
    est = pipeline.estimates(s)
    assert (est["money_unit"] == "100 million yuan").all()
