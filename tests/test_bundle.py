import pandas as pd
import pytest

from intercity import bundle, params, schema


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    p = params.from_mapping({"data_source": "synthetic", "scale": 0.06, "seed": 3})
    return p, bundle.build(p)


def _copy(b):
    return schema.StudyData(source=b.source, cities=b.cities.copy(), city_year=b.city_year.copy(),
                            pair_year=b.pair_year.copy(), mrio=dict(b.mrio), ledger=b.ledger.copy(),
                            extras=dict(b.extras), meta=dict(b.meta))


def test_cache_roundtrip_and_reuse(small, tmp_path, monkeypatch):
    p, b = small
    first = bundle.load(p, cache_dir=tmp_path)
    monkeypatch.setattr(bundle, "build", lambda _p: pytest.fail("cache not reused"))
    second = bundle.load(p, cache_dir=tmp_path)
    for name in ("cities", "city_year", "pair_year", "ledger"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), check_dtype=False,
                                      check_categorical=False)
    assert (second.mrio[2015].shares == first.mrio[2015].shares).all()
    assert second.source == "synthetic"
    assert bundle.cache_key(p) != bundle.cache_key(params.from_mapping({"data_source": "synthetic", "scale": 0.06, "seed": 4}))


@pytest.mark.parametrize("breaker, words", [
    (lambda b: b.cities.loc.__setitem__((0, "city_id"), "1100"), ["cities", "6-digit", "1100"]),
    (lambda b: b.cities.loc.__setitem__((1, "city_id"), b.cities.loc[0, "city_id"]), ["duplicate city_id"]),
    (lambda b: b.cities.loc.__setitem__((0, "lat"), 80.0), ["lat", "outside China"]),
    (lambda b: b.city_year.loc.__setitem__((3, "urbanization"), -0.2), ["city_year", "urbanization", "city_id="]),
    (lambda b: b.city_year.loc.__setitem__((3, "prov_fdi_gdp"), "guessed") if False else
     setattr(b, "city_year", b.city_year.assign(prov_fdi_gdp="guessed")), ["prov_fdi_gdp", "guessed"]),
    (lambda b: setattr(b, "city_year", b.city_year[b.city_year["year"] != 2013]), ["year 2013 missing"]),
    (lambda b: setattr(b, "pair_year", b.pair_year.iloc[1:]), ["pair_year", "ordered pairs, expected"]),
    (lambda b: b.pair_year.loc.__setitem__((0, "baidu_index"), float("nan")), ["baidu_index", "origin="]),
    (lambda b: setattr(b, "city_year", b.city_year.drop(columns="patents")), ["lacks column", "patents"]),
])
def test_validation_names_table_column_and_key(small, breaker, words):
    b = _copy(small[1])
    breaker(b)
    with pytest.raises(schema.SchemaError) as err:
        schema.validate(b)
    for w in words:
        assert w in str(err.value)


def test_summary_counts(small):
    s = small[1].summary().set_index("quantity")["value"]
    n = len(small[1].cities)
    assert s["cities"] == str(n) and s["ordered city pairs"] == str(n * (n - 1))
    assert s["data source"] == "synthetic"
