import numpy as np

from intercity.cities import ADMIN_CHANGES_2012_2017, city_universe, great_circle_km


def test_universe_is_prefecture_cities_and_municipalities():
    u = city_universe()
    assert u["city_id"].str.fullmatch(r"\d{6}").all()
    assert u["city_id"].is_unique
    assert {"110000", "120000", "310000", "500000"} <= set(u["city_id"])
    assert not u["city_id"].str[:2].isin(["71", "81", "82"]).any()  # Taiwan, Hong Kong, Macao
    assert set(u["region"]) == {"east", "central", "west", "northeast"}
    assert 280 <= len(u) <= 300
    assert set(ADMIN_CHANGES_2012_2017) <= set(u["city_id"])
    bj = u.set_index("city_id").loc["110000"]
    assert bj["name_en"] == "Beijing" and bj["name_zh"] == "北京市"


def test_great_circle_beijing_shanghai():
    u = city_universe().set_index("city_id")
    d = great_circle_km(u.loc[["110000", "310000"], "lon"], u.loc[["110000", "310000"], "lat"])
    assert np.allclose(np.diag(d), 0)
    assert 1050 < d[0, 1] < 1090  # about 1,068 km between the two city seats
    assert np.allclose(d, d.T)
