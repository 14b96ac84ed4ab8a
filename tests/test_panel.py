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


# ----------------------------------------------------------------------------- nothing lost

def _with_city_year(study, city: str, **values):
    """A copy of the study's bundle whose city ``city`` has ``values`` (variable -> value) in every year."""
    import copy

    data = copy.copy(study.data)
    cy = data.city_year.copy()
    for var, value in values.items():
        cy.loc[cy["city_id"] == city, var] = value
    data.city_year = cy
    return data


def test_zero_fixed_assets_go_to_the_ledger_and_every_model_counts_the_rows(ci_study, ci_params):
    """A city with fixed assets of 0 (the log of which is undefined): its factors that use fixed
    assets are missing (NaN, never -inf), the ledger names the city, period, variable and value,
    and every model of those outcomes reports the rows it lost; the estimator's N equals the rows
    the model was given."""
    from intercity import models

    city = ci_study.data.city_ids[3]
    data = _with_city_year(ci_study, city, fixed_assets=0.0)
    pan, ledger = panel.build(data, ci_study.transfers, ci_params.periods, ci_params.distance_tiers_km)
    values = ledger[(ledger["stage"] == "panel") & (ledger["kind"] == "value")]
    assert list(values["key"]) == [city, city]  # one entry per period
    for period, reason in zip(("2012-2015", "2015-2017"), values["reason"]):
        assert reason.startswith(f"fixed_assets = 0 in period {period}")
        assert "factor_fcapital, factor_flc undefined" in reason
    mine = pan["origin"] == city
    assert pan.loc[mine, ["factor_fcapital_i", "factor_flc_i"]].isna().all().all()
    assert np.isfinite(pan.loc[~mine, ["factor_fcapital_i", "factor_flc_i"]]).all().all()
    assert np.isfinite(pan.loc[mine, ["factor_ccapital_i", "factor_labor_i", "factor_tech_i"]]).all().all()
    specs = [s for s in models.published_specs() if s.dependent in ("factor_fcapital", "factor_flc", "factor_labor")]
    res = models.fit_specs(pan, specs)
    for s, r in zip(specs, res.set_index("key").loc[[s.key for s in specs]].itertuples()):
        sample = models.sample_rows(pan, s.sample)
        lost = int((sample["origin"] == city).sum()) if s.dependent != "factor_labor" else 0
        assert r.nobs_lost == lost and r.nobs == len(sample) - lost, s.key
        assert (f"N excludes {lost} of the sample's {len(sample)} rows" in r.note) == (lost > 0), s.key


def test_any_other_non_finite_value_stops_the_panel(ci_study, ci_params):
    import pytest

    data = _with_city_year(ci_study, ci_study.data.city_ids[0], gdp_per_capita=np.inf)
    with pytest.raises(ValueError, match=rf"city {ci_study.data.city_ids[0]}, period 2012-2015: edl = inf is not finite"):
        panel.build(data, ci_study.transfers, ci_params.periods, ci_params.distance_tiers_km)
    bad = ci_study.transfers.copy()
    bad.loc[7, "IT"] = np.nan
    with pytest.raises(ValueError, match=r"panel: IT = nan is not finite for pair"):
        panel.build(ci_study.data, bad, ci_params.periods, ci_params.distance_tiers_km)
