"""The universe of Chinese prefecture-level cities, from the adcode list shipped by ``cpca``.

City ids are 6-digit adcodes as strings ("110000" Beijing, "440100" Guangzhou). Coordinates are
the city government's seat (degrees). Regions follow the NBS four-region division.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd
from pypinyin import lazy_pinyin

#: Province code (first two adcode digits) -> NBS region.
REGIONS: dict[str, str] = {
    **{p: "east" for p in ("11", "12", "13", "31", "32", "33", "35", "37", "44", "46")},
    **{p: "central" for p in ("14", "34", "36", "41", "42", "43")},
    **{p: "west" for p in ("15", "45", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65")},
    **{p: "northeast" for p in ("21", "22", "23")},
}
#: Province-level municipalities, which count as cities in the study.
MUNICIPALITIES: tuple[str, ...] = ("110000", "120000", "310000", "500000")

#: Prefecture-level cities created or re-organised between 2012 and 2017; the study drops cities
#: with administrative changes in its window. adcode -> what changed.
ADMIN_CHANGES_2012_2017: dict[str, str] = {
    "460300": "Sansha established 2012",
    "630200": "Haidong became a prefecture-level city 2013",
    "540200": "Shigatse became a prefecture-level city 2014",
    "540300": "Chamdo became a prefecture-level city 2014",
    "540400": "Nyingchi became a prefecture-level city 2015",
    "650400": "Turpan became a prefecture-level city 2015",
    "460400": "Danzhou became a prefecture-level city 2015",
    "540500": "Shannan became a prefecture-level city 2016",
    "650500": "Hami became a prefecture-level city 2016",
}

EARTH_RADIUS_KM = 6371.0088

_LEDGER = ["stage", "kind", "key", "name", "reason"]


def is_capital(city_ids) -> np.ndarray:
    """True for the municipalities and the provincial capitals (adcode PP0100)."""
    ids = pd.Series(list(city_ids), dtype=str)
    return (ids.isin(MUNICIPALITIES) | ids.str[2:].eq("0100")).to_numpy()


def drop_admin_changes(universe: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cities without an administrative change 2012-2017, and a ledger row for each one dropped."""
    changed = universe["city_id"].isin(list(ADMIN_CHANGES_2012_2017))
    rows = [("universe", "city", c.city_id, c.name_zh,
             f"administrative change 2012-2017: {ADMIN_CHANGES_2012_2017[c.city_id]}")
            for c in universe[changed].itertuples()]
    return universe[~changed].reset_index(drop=True), pd.DataFrame(rows, columns=_LEDGER)


def sample_cities(eligible: pd.DataFrame, n_cities: int | None, rng: np.random.Generator,
                  reason: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep ``n_cities`` of ``eligible`` (all when None or not fewer than there are).

    Municipalities come first, then provincial capitals, then the others, each group in a seeded
    random order (one ``rng.permutation`` draw). Returns (kept cities sorted by city_id, a ledger
    row with ``reason`` for every city not kept).
    """
    eligible = eligible.reset_index(drop=True)
    if n_cities is None or n_cities >= len(eligible):
        return eligible.sort_values("city_id").reset_index(drop=True), pd.DataFrame([], columns=_LEDGER)
    group = np.where(eligible["city_id"].isin(MUNICIPALITIES), 0, np.where(is_capital(eligible["city_id"]), 1, 2))
    order = np.lexsort((rng.permutation(len(eligible)), group))
    keep = np.zeros(len(eligible), bool)
    keep[order[:n_cities]] = True
    rows = [("sample", "city", c.city_id, c.name_zh, reason) for c in eligible[~keep].itertuples()]
    return eligible[keep].sort_values("city_id").reset_index(drop=True), pd.DataFrame(rows, columns=_LEDGER)


#: Name endings of the prefecture-level units that are not cities: autonomous prefectures,
#: prefectures and leagues (the CEADs city tables include them).
OTHER_PREFECTURE_SUFFIXES: tuple[str, ...] = ("自治州", "地区", "盟")


def _pinyin(name_zh: str) -> str:
    base = name_zh
    for suffix in ("市",) + OTHER_PREFECTURE_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 1:
            base = base[: -len(suffix)]
            break
    return "".join(lazy_pinyin(base)).capitalize()


def city_universe(all_prefectures: bool = False) -> pd.DataFrame:
    """All prefecture-level cities (name ending in 市) and the four municipalities (297 units);
    with ``all_prefectures``, also the other prefecture-level units: autonomous prefectures
    (自治州), prefectures (地区) and leagues (盟), 338 units in all, as the CEADs city tables
    count them (their English name drops the suffix: 延边朝鲜族自治州 -> "Yanbianchaoxianzu").

    Columns: city_id, name_zh, name_en, province, region, lon, lat; sorted by city_id.
    Taiwan, Hong Kong and Macao are not part of the study's universe.
    """
    path = resources.files("cpca").joinpath("resources/adcodes.csv")
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype={"adcode": str})
    raw["code6"] = raw["adcode"].str[:6]
    prov_rows = raw[raw["adcode"].str[2:] == "0000000000"]
    provinces = pd.Series(prov_rows["name"].to_numpy(), index=prov_rows["adcode"].str[:2].to_numpy())
    suffixes = ("市",) + (OTHER_PREFECTURE_SUFFIXES if all_prefectures else ())
    pref = raw[(raw["adcode"].str[4:] == "00000000") & (raw["adcode"].str[2:4] != "00")
               & raw["name"].str.endswith(suffixes)]
    muni = raw[raw["code6"].isin(MUNICIPALITIES)]
    out = pd.concat([pref, muni], ignore_index=True)
    out = out[out["adcode"].str[:2].isin(REGIONS)]
    out = out.assign(
        city_id=out["code6"],
        name_zh=out["name"],
        name_en=out["name"].map(_pinyin),
        province=out["adcode"].str[:2].map(provinces),
        region=out["adcode"].str[:2].map(REGIONS),
        lon=out["longitude"].astype(float),
        lat=out["latitude"].astype(float),
    )
    cols = ["city_id", "name_zh", "name_en", "province", "region", "lon", "lat"]
    return out[cols].drop_duplicates("city_id").sort_values("city_id").reset_index(drop=True)


def outside_city_units() -> dict[str, tuple[str, ...]]:
    """Per province code (first two adcode digits): the names of its prefecture-level units that are
    not prefecture-level cities (autonomous prefectures 自治州, leagues 盟, prefectures 地区) and of
    its blocks of province-administered county-level units (省直辖县级行政区划), from the ``cpca``
    adcode list. Empty for the municipalities and for provinces made of cities only. These units
    are outside the city universe (:func:`city_universe`) and hence outside any city sample."""
    path = resources.files("cpca").joinpath("resources/adcodes.csv")
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype={"adcode": str})
    pref = raw[(raw["adcode"].str[4:] == "00000000") & (raw["adcode"].str[2:4] != "00")
               & raw["adcode"].str[:2].isin(REGIONS)
               & ~raw["adcode"].str[:6].isin([m[:2] + "0100" for m in MUNICIPALITIES] + [m[:2] + "0200" for m in MUNICIPALITIES])]
    other = pref[~pref["name"].str.endswith("市") | (pref["adcode"].str[2:4] == "90")]
    out = {p: () for p in REGIONS}
    for p, names in other.groupby(other["adcode"].str[:2])["name"]:
        out[p] = tuple(sorted(names))
    return out


def great_circle_km(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Matrix of great-circle (haversine) distances between points, km; degrees in."""
    lo, la = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    dlat = la[:, None] - la[None, :]
    dlon = lo[:, None] - lo[None, :]
    h = np.sin(dlat / 2) ** 2 + np.cos(la)[:, None] * np.cos(la)[None, :] * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
