import numpy as np
import pandas as pd

from intercity import panel


def test_panel_shape_and_halves(ci_study):
    pan, n = ci_study.panel, len(ci_study.data.cities)
    assert len(pan) == n * (n - 1) * 2
    assert not pan[["origin", "dest", "period"]].duplicated().any()
    for col in ("down_gradient", "down_gradient_pop", "developed"):
        assert pan[col].sum() * 2 == len(pan), col  # each unordered pair is down one way, up the other
    assert (pan["developed"] == pan["down_gradient"]).all()


def test_connectivity_is_period_average(ci_study):
    pan, py = ci_study.panel, ci_study.data.pair_year
    o, d = pan.iloc[5][["origin", "dest"]]
    sub = py[(py["origin"] == o) & (py["dest"] == d) & py["year"].between(2012, 2015)]
    row = pan[(pan["origin"] == o) & (pan["dest"] == d) & (pan["period"] == "2012-2015")].iloc[0]
    assert np.isclose(row["connectivity_HSR"], sub["hsr_lines"].mean())
    assert np.isclose(row["connectivity_I"], np.log1p(sub["baidu_index"].mean()))
    assert np.isclose(row["connectivity_double"], row["connectivity_HSR"] * row["connectivity_I"])


def test_controls_belong_to_each_end(ci_study):
    pan, cy = ci_study.panel, ci_study.data.city_year
    row = pan[pan["period"] == "2015-2017"].iloc[10]
    for end, suffix in (("origin", "_i"), ("dest", "_j")):
        city = cy[(cy["city_id"] == row[end]) & cy["year"].between(2015, 2017)]
        assert np.isclose(row["edl" + suffix], city["gdp_per_capita"].mean())
        assert np.isclose(row["factor_labor" + suffix], city["employment"].mean() / city["population"].mean())
    assert row["down_gradient"] == int(row["edl_i"] > row["edl_j"])


def test_tiers_and_ledger(ci_study, ci_params):
    pan = ci_study.panel
    labels = panel.tier_labels(ci_params.distance_tiers_km)
    assert labels[0] == "0-200" and labels[-1] == "2000-4000"
    inside = pan[pan["tier"] != ""]
    lo = inside["tier"].str.split("-").str[0].astype(float)
    hi = inside["tier"].str.split("-").str[1].astype(float)
    assert ((inside["distance_km"] >= lo) & (inside["distance_km"] < hi)).all()
    outside = pan[(pan["tier"] == "") & (pan["period"] == "2012-2015")]
    led = ci_study.ledger[ci_study.ledger["stage"] == "panel"]
    assert len(led) == len(outside)


def test_transfers_sum_to_city_totals(ci_study):
    ct = ci_study.city_transfer()
    tr = ci_study.transfers
    for period in ct["period"].unique():
        sub = ct[ct["period"] == period]
        assert np.isclose(sub["inflow"].sum(), tr[tr["period"] == period]["transfer"].sum())
        assert np.isclose(sub["net"].sum(), 0.0, atol=1e-6 * np.abs(sub["inflow"]).sum())
    assert set(ci_study.checks["year"]) == {2012, 2015, 2017}
    assert (ci_study.checks["national_gap"] < 1e-9).all()
