"""HSR lines of the public source: which HSR lines serve each pair of cities in each year.

Two measures (``measure`` of :func:`hsr_network_counts`, the integrator's ``hsr_measure``):

``stations`` (default): the full station lists. Every station of 47 lines in order along the line
(``rail/kermit_hsr_stations.sql``, a MySQL dump read by :mod:`intercity.sources.sqldump`), each
placed in its prefecture (:mod:`intercity.sources.stations`: Baidu BD-09 coordinates converted to
WGS84, point in polygon, cross-checked with the station's name and ``railvis_station2city.json``).
Each station's opening year is the year its section of the line opened (:func:`station_years`):

* sections of ``rail/railvis_lines.csv`` (type 高速铁路; key stations with an opening date), each
  applied to a dump line when at least two of its key stations are stations of that line (same
  name), or when the names say it is the same line (:func:`line_cores`, :data:`LINE_PARTS`) and
  at least two of its key stations' cities have stations on it; the section covers the stations
  between the first and the last matched one;
* segments of ``rail/malin84_seg_info_rail.csv`` (``rate == HSR``; the year a segment opened and
  its end places in ``notes``, e.g. 杭州到上饶), applied to a dump line of the same name, covering
  the stations between the first and last station in the end places' cities;
* a station's year from one source is the earliest among that source's sections covering it.
  Both sources agree -> that year. They disagree -> the later year (a line counts once both
  sources have it open), except where ``data/derived/hsr_opening_dates.csv`` gives the section's
  opening date from a cited public source (it settles the disagreements the later-year rule gets
  wrong and gives sections neither source dates). Only one source -> its year. Neither -> the
  dump's own line date, unless it is a placeholder (a date shared by three or more lines, or no
  date). Still none -> the station is left out (ledger). Every disagreement is in the ledger.

Lines the dump does not list are added (:func:`missing_lines`): ``railvis_lines.csv`` sections
that match no dump line, from their key stations (the old measure's stops), and segments of
``malin84_seg_info_rail.csv`` whose line matches no dump line or railvis line, from their two end
places (e.g. 兰新客运专线 兰州到乌鲁木齐, 胶济客运专线 济南到青岛): intermediate cities of those lines
are missed.

``hsr_lines[i, j, year]`` = the number of lines with an open station in city i and an open station
in city j that year (a line counts for a pair only once both cities' stations on it are open;
a line opened at any date in a year counts for the whole year). A "line" is a named line of the
source: named lines may share track (the dump's 京福高铁 lists the Beijing-Bengbu stations of
京沪高铁, on which its trains run), and a pair counts each named line serving it.

``key_stations`` (the measure before the station lists, kept for comparison): lines of type
高速铁路 in ``railvis_lines.csv`` with their opening dates; a line serves the cities of its listed
key stations (station -> city via ``railvis_station2city.json`` or the station's own name).
Intermediate stations the list omits are not filled: pairs on an omitted station are missed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from intercity import paths
from intercity.cities import city_universe
from intercity.schema import ledger_frame as _ledger
from intercity.sources import names as N
from intercity.sources import stations as S
from intercity.sources.fetch import raw_path
from intercity.sources.sqldump import read_dump

#: The measures of HSR connectivity this module builds.
MEASURES: tuple[str, ...] = ("stations", "key_stations")
#: Cited opening dates of sections (see the module notes and data/derived/README.md).
OPENING_DATES = paths.PROJECT_ROOT / "data" / "derived" / "hsr_opening_dates.csv"
#: A dump line date shared by this many lines or more is a placeholder.
PLACEHOLDER_SHARED_BY = 3
#: Names under which the segment and line lists know the parts of a dump line that the dump names
#: by its corridor or by a merged name (dump line name -> names of its parts).
LINE_PARTS: dict[str, tuple[str, ...]] = {
    "京广高铁": ("京石", "石武", "武广"),
    "哈大高铁": ("沈哈", "沈大"),
    "京福高铁": ("京沪", "合蚌", "合福"),
    "长珲城际": ("长吉", "吉珲"),
    "甬温铁路": ("甬台温",),
    "海南环岛高铁": ("海南东环", "海南西环"),
}
_LINE_SUFFIXES = ("客运送专线", "高速铁路", "客运专线", "城际铁路", "快速铁路", "客专线", "高速线",
                  "客运段", "混运段", "客专", "城际", "高铁", "铁路", "专线", "段", "线")


# ----------------------------------------------------------------------------- names and dates

def line_cores(*names: object) -> set[str]:
    """The short names a line goes by: each ``-``-separated part of each name without its kind
    (高速铁路, 客运专线, 城际 ..., 段): ``京哈高铁-沈哈段`` -> {京哈, 沈哈}; ``石济客专`` -> {石济}."""
    out: set[str] = set()
    for name in names:
        if name is None:
            continue
        for part in re.split(r"[-－—]", N.clean(name)):
            changed = True
            while changed:
                changed = False
                for suf in _LINE_SUFFIXES:
                    if part.endswith(suf) and len(part) > len(suf) + 1:
                        part, changed = part[: -len(suf)], True
                        break
            if len(part) >= 2:
                out.add(part)
    return out


def parse_open_year(text: object) -> int | None:
    """Opening year of a line from '2012.10.16', '1962.12', '2011-06-30' (None when unreadable)."""
    m = re.match(r"\s*(\d{4})(?!\d)", str(text))
    return int(m.group(1)) if m and 1800 <= int(m.group(1)) <= 2100 else None


# ----------------------------------------------------------------------------- the station lists

def read_station_lists(raw_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple]]:
    """The dump's lines and stations.

    Returns ``lines`` (line_id, line, fullname, status, dump_date, dump_year, placeholder),
    ``stations`` (line_id, line, order, station, lon_bd, lat_bd, file_line; one row per station of
    a line, in order along the line: by ``sortnum``, then by row id where the dump gives every
    station the same sortnum) and ledger rows (every unreadable row, naming its file line; every
    station without coordinates; every line without stations)."""
    path = raw_path("rail/kermit_hsr_stations.sql", raw_dir)
    dump = read_dump(path)
    ledger = [("hsr", "row", "", "", p) for p in dump.problems]
    lines = []
    for no, r in dump.table("gt_line"):
        try:
            lid = int(r["id"])
        except (TypeError, ValueError):
            ledger.append(("hsr", "row", "", str(r.get("name")), f"{path.name} line {no}: line id {r.get('id')!r} "
                           "is not an integer; row skipped"))
            continue
        lines.append((lid, N.clean(r.get("name") or ""), N.clean(r.get("fullname") or ""),
                      N.clean(r.get("statusc") or ""), str(r.get("building") or "").strip()))
    lines = pd.DataFrame(lines, columns=["line_id", "line", "fullname", "status", "dump_date"])
    lines["dump_year"] = lines["dump_date"].map(parse_open_year)
    dated = lines["dump_date"].where(lines["dump_year"].notna())
    shared = dated.map(dated.value_counts())
    lines["placeholder"] = lines["dump_year"].isna() | (shared >= PLACEHOLDER_SHARED_BY)
    names = dict(zip(lines["line_id"], lines["line"]))
    rows = []
    for no, r in dump.table("gt_fullstats"):
        try:
            lid, rid, sort = int(r["line_id"]), int(r["id"]), int(r["sortnum"])
        except (TypeError, ValueError):
            ledger.append(("hsr", "row", "", str(r.get("stat_name")),
                           f"{path.name} line {no}: id, line_id or sortnum is not an integer; row skipped"))
            continue
        if lid not in names:
            ledger.append(("hsr", "row", str(lid), str(r.get("stat_name")),
                           f"{path.name} line {no}: line_id {lid} is not in gt_line; row skipped"))
            continue
        m = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*", str(r.get("jingweidu") or ""))
        lon, lat = (float(m.group(1)), float(m.group(2))) if m else (np.nan, np.nan)
        if not m:
            ledger.append(("hsr", "station", "", S.clean_station(r.get("stat_name")),
                           f"{path.name} line {no}: coordinates {r.get('jingweidu')!r} are not 'lon,lat'; "
                           "the station is placed by its name only"))
        rows.append((lid, names[lid], sort, rid, S.clean_station(r.get("stat_name")), lon, lat, no))
    st = pd.DataFrame(rows, columns=["line_id", "line", "sortnum", "row_id", "station", "lon_bd", "lat_bd",
                                     "file_line"])
    st = st.sort_values(["line_id", "sortnum", "row_id"], kind="mergesort")
    st = st.drop_duplicates(["line_id", "station"]).reset_index(drop=True)
    st["order"] = st.groupby("line_id").cumcount()
    for r in lines[~lines["line_id"].isin(st["line_id"])].itertuples():
        ledger.append(("hsr", "line", str(r.line_id), r.line, f"{path.name}: line {r.line} ({r.status}, "
                       f"{r.dump_date}) has no stations in gt_fullstats; taken from the other sources if they have it"))
    return lines, st.drop(columns=["sortnum", "row_id"]), ledger


def place_stations(stations: pd.DataFrame, raw_dir: Path | None) -> tuple[pd.DataFrame, list[tuple]]:
    """Each distinct station name placed once (:func:`intercity.sources.stations.place`), merged
    back onto every line it is on."""
    s2c = S.read_station2city(raw_path("rail/railvis_station2city.json", raw_dir))
    uniq = stations.drop_duplicates("station")[["station", "lon_bd", "lat_bd"]]
    placed, ledger = S.place(uniq, s2c)
    cols = ["station", "lon", "lat", "name_city", "geo_city", "border_deg", "city_id", "placed_by"]
    return stations.merge(placed[cols], on="station", how="left"), ledger


# ----------------------------------------------------------------------------- sections and segments

def railvis_sections(raw_dir: Path | None) -> tuple[pd.DataFrame, list[tuple]]:
    """Sections of type 高速铁路 in ``railvis_lines.csv``: line, open_year, stations (list of
    cleaned key-station names), cores (:func:`line_cores`); ledger rows for unreadable dates."""
    path = raw_path("rail/railvis_lines.csv", raw_dir)
    frame = pd.read_csv(path, dtype=str)
    need = ["线路", "线路类型", "建成年份", "途径站点"]
    miss = [c for c in need if c not in frame.columns]
    if miss:
        raise ValueError(f"{path}: missing column(s) {miss}")
    rows, ledger = [], []
    hsr = frame[frame["线路类型"].astype(str).str.strip() == "高速铁路"]
    for k, r in hsr.iterrows():
        year = parse_open_year(r["建成年份"])
        name = N.clean(r["线路"])
        if year is None:
            ledger.append(("hsr", "line", name, name, f"{path.name} row {k + 2}: opening date {r['建成年份']!r} "
                           "unreadable; section not used"))
            continue
        sts = [S.clean_station(s) for s in str(r["途径站点"]).split("-") if S.clean_station(s)]
        rows.append((name, year, list(dict.fromkeys(sts)), line_cores(name), k + 2))
    return pd.DataFrame(rows, columns=["line", "open_year", "stations", "cores", "row"]), ledger


def malin_segments(raw_dir: Path | None) -> tuple[pd.DataFrame, list[tuple]]:
    """HSR segments of ``malin84_seg_info_rail.csv``: seg_id, line, open_year, places (cleaned end
    place names from ``notes``), cities (their adcodes, None where unplaced), cores."""
    path = raw_path("rail/malin84_seg_info_rail.csv", raw_dir)
    frame = pd.read_csv(path, dtype=str)
    need = ["seg_id", "rate", "year", "path_name", "notes"]
    miss = [c for c in need if c not in frame.columns]
    if miss:
        raise ValueError(f"{path}: missing column(s) {miss}")
    rows, ledger = [], []
    for k, r in frame[frame["rate"].astype(str).str.strip() == "HSR"].iterrows():
        year = parse_open_year(r["year"])
        if year is None:
            ledger.append(("hsr", "line", str(r["seg_id"]), str(r["path_name"]),
                           f"{path.name} row {k + 2}: year {r['year']!r} unreadable; segment not used"))
            continue
        places = [re.sub(r"(北线|线|向北|向东|附近)$", "", N.clean(p)) for p in
                  re.split(r"到|至|-", str(r["notes"]) if pd.notna(r["notes"]) else "")]
        places = [p for p in places if p]
        cities = [S.name_city(p, {}) for p in places]
        rows.append((str(r["seg_id"]), N.clean(r["path_name"]), year, places, cities,
                     line_cores(r["path_name"]), k + 2))
    return pd.DataFrame(rows, columns=["seg_id", "line", "open_year", "places", "cities", "cores", "row"]), ledger


def read_opening_dates(path: Path | None = None) -> pd.DataFrame:
    """The cited opening dates (``data/derived/hsr_opening_dates.csv``): line, from_station,
    to_station, opened (YYYY-MM-DD), open_year, source, note. ValueError naming the row on a bad one."""
    path = Path(path or OPENING_DATES)
    frame = pd.read_csv(path, dtype=str, comment="#").fillna("")
    need = ["line", "from_station", "to_station", "opened", "source", "note"]
    miss = [c for c in need if c not in frame.columns]
    if miss:
        raise ValueError(f"{path}: missing column(s) {miss}")
    for k, r in frame.iterrows():
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["opened"]):
            raise ValueError(f"{path} row {k + 2}: opened {r['opened']!r} is not YYYY-MM-DD")
        if not r["source"].startswith("http"):
            raise ValueError(f"{path} row {k + 2}: source {r['source']!r} must be the URL of the cited page")
    frame["line"] = frame["line"].map(N.clean)
    for c in ("from_station", "to_station"):
        frame[c] = frame[c].map(S.clean_station)
    frame["open_year"] = frame["opened"].str[:4].astype(int)
    return frame


# ----------------------------------------------------------------------------- opening years

def _span(positions: list[int]) -> range | None:
    return range(min(positions), max(positions) + 1) if len(positions) >= 2 else None


def _city_positions(line: pd.DataFrame, cities) -> list[int]:
    want = {c for c in cities if c}
    return [int(o) for o, c in zip(line["order"], line["city_id"]) if c in want]


def _railvis_span(line: pd.DataFrame, cores: set[str], sec, s2c: dict[str, str]) -> range | None:
    """Stations of one dump line a railvis section covers (see the module notes), or None."""
    names = list(line["station"])
    exact = [names.index(s) for s in sec.stations if s in names]
    same = bool(cores & sec.cores)
    if len(exact) < 2 and not same:
        return None
    unmatched = [S.name_city(s, s2c) for s in sec.stations if s not in names]
    pos = exact + _city_positions(line, unmatched)
    if len(exact) < 2 and len({c for c in line.set_index("order").loc[pos, "city_id"] if c}) < 2:
        return None
    return _span(pos)


def cited_years(names: list[str], dates: pd.DataFrame, line: str) -> np.ndarray:
    """Year of each station of a line (``names`` in order) from the cited dates of that line: the
    earliest cited section covering it (NaN where none does). ValueError naming the file when a
    cited station is not a station of the line."""
    out = np.full(len(names), np.nan)
    for d in dates.itertuples():
        if d.from_station not in names or d.to_station not in names:
            raise ValueError(f"{OPENING_DATES.name}: {d.from_station}/{d.to_station} are not both stations "
                             f"of line {line} (its stations: {', '.join(names) or 'none'})")
        a, b = sorted((names.index(d.from_station), names.index(d.to_station)))
        out[a:b + 1] = np.fmin(out[a:b + 1], d.open_year)
    return out


def station_years(stations: pd.DataFrame, lines: pd.DataFrame, sections: pd.DataFrame,
                  segments: pd.DataFrame, dates: pd.DataFrame, s2c: dict[str, str]
                  ) -> tuple[pd.DataFrame, list[tuple], dict]:
    """Opening year of every station of every dump line (module notes give the rule).

    ``stations``: placed stations (:func:`place_stations`). Returns the frame with ``year_railvis``,
    ``year_malin``, ``year_cited``, ``open_year`` and ``year_from`` (both, later-of-two, railvis,
    malin84, cited, dump, none), ledger rows, and which sections/segments were used (to find the
    lines the dump misses)."""
    out = stations.copy()
    for c in ("year_railvis", "year_malin", "year_cited"):
        out[c] = np.nan
    used_sec, used_seg = set(), set()
    meta = lines.set_index("line_id")
    ledger: list[tuple] = []
    for lid, line in out.groupby("line_id", sort=True):
        name = meta.at[lid, "line"]
        cores = line_cores(name, meta.at[lid, "fullname"]) | set(LINE_PARTS.get(name, ()))
        line = line.sort_values("order")
        idx = line.index.to_numpy()
        for sec in sections.itertuples():
            span = _railvis_span(line, cores, sec, s2c)
            if span is not None:
                used_sec.add(sec.Index)
                col = out.loc[idx[list(span)], "year_railvis"]
                out.loc[idx[list(span)], "year_railvis"] = np.fmin(col, sec.open_year)
        for seg in segments.itertuples():
            if not (cores & seg.cores):
                continue
            used_seg.add(seg.Index)  # same line by name, whether or not its places are found
            span = _span(_city_positions(line, seg.cities))
            if span is not None:
                col = out.loc[idx[list(span)], "year_malin"]
                out.loc[idx[list(span)], "year_malin"] = np.fmin(col, seg.open_year)
        cited = cited_years(list(line["station"]), dates[dates["line"] == name], name)
        out.loc[idx, "year_cited"] = cited
    years, froms = [], []
    for r in out.itertuples():
        rv, ml, ct = r.year_railvis, r.year_malin, r.year_cited
        dump = meta.at[r.line_id, "dump_year"]
        if np.isfinite(ct):
            y, how = ct, "cited"
        elif np.isfinite(rv) and np.isfinite(ml):
            y, how = (rv, "both") if rv == ml else (max(rv, ml), "later-of-two")
        elif np.isfinite(rv) or np.isfinite(ml):
            y, how = (rv, "railvis") if np.isfinite(rv) else (ml, "malin84")
        elif not meta.at[r.line_id, "placeholder"]:
            y, how = float(dump), "dump"
        else:
            y, how = np.nan, "none"
        years.append(y)
        froms.append(how)
    out["open_year"] = years
    out["year_from"] = froms
    for (lid, rv, ml, how, _y), g in out[out["year_from"].isin(["later-of-two", "cited"])
                                         & out["year_railvis"].ne(out["year_malin"])
                                         ].groupby(["line_id", "year_railvis", "year_malin", "year_from", "open_year"],
                                                   dropna=False, sort=False):
        name = meta.at[lid, "line"]
        if how == "cited" and not (np.isfinite(rv) or np.isfinite(ml)):
            continue
        ledger.append(("hsr", "line", str(lid), name,
                       f"opening year of {name} at {'-'.join(g['station'])}: railvis_lines.csv "
                       f"{_yr(rv)}, malin84_seg_info_rail.csv {_yr(ml)}; taken: {_yr(g['open_year'].iloc[0])} "
                       f"({'cited date, ' + OPENING_DATES.name if how == 'cited' else 'the later of the two'})"))
    for lid, g in out[out["year_from"] == "none"].groupby("line_id"):
        name = meta.at[lid, "line"]
        ledger.append(("hsr", "line", str(lid), name,
                       f"no opening year for {name} at {'-'.join(g['station'])} (no railvis section, no malin84 "
                       f"segment, no cited date; the dump's date {meta.at[lid, 'dump_date']!r} is a placeholder): "
                       "these stations are left out"))
    return out, ledger, {"sections_used": used_sec, "segments_used": used_seg}


def _yr(v) -> str:
    return str(int(v)) if v is not None and np.isfinite(v) else "-"


# ----------------------------------------------------------------------------- the key-stations measure

def _station_city(station: str, s2c: dict[str, str]) -> str | None:
    """Adcode of a station's prefecture: station2city, else the station name minus a direction
    suffix, as a prefecture or (uniquely) as a county-level unit inside one."""
    s = N.clean(station)
    cands = [c for c in (s2c.get(s), s, re.sub(r"[东西南北]$", "", s), re.sub(r"(东|西|南|北|虹桥)站?$", "", s)) if c]
    for cand in cands:
        code = N.to_adcode(cand)
        if code:
            return code
    for cand in cands:
        code = N.parent_prefecture(cand)
        if code:
            return code
    return None


def hsr_lines(raw_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``key_stations`` measure's lines (name, open_year, stops as adcodes) and a ledger of
    unplaced stations and lines (module notes)."""
    lp = raw_path("rail/railvis_lines.csv", raw_dir)
    lines = pd.read_csv(lp, dtype=str)
    need = ["线路", "线路类型", "建成年份", "途径站点"]
    miss = [c for c in need if c not in lines.columns]
    if miss:
        raise ValueError(f"{lp}: missing column(s) {miss}")
    sp = raw_path("rail/railvis_station2city.json", raw_dir)
    s2c = json.loads(sp.read_text(encoding="utf-8"))
    if isinstance(s2c, str):  # the original is a JSON-encoded string holding the JSON object
        s2c = json.loads(s2c)
    s2c = {N.clean(k): N.clean(v) for k, v in s2c.items()}
    rows, ledger = [], []
    for _, ln in lines[lines["线路类型"].astype(str).str.strip() == "高速铁路"].iterrows():
        year = parse_open_year(ln["建成年份"])
        if year is None:
            ledger.append(("hsr", "pair", str(ln["线路"]), str(ln["线路"]),
                           f"{lp.name}: opening date {ln['建成年份']!r} unreadable; line skipped"))
            continue
        stops = []
        for st in str(ln["途径站点"]).split("-"):
            code = _station_city(st, s2c)
            if code is None:
                ledger.append(("hsr", "pair", str(ln["线路"]), N.clean(st),
                               f"{lp.name}: station {N.clean(st)!r} of line {ln['线路']} matches no city; "
                               "pairs through it are missed"))
            elif code not in stops:
                stops.append(code)
        rows.append((str(ln["线路"]), year, "-".join(stops), len(stops)))
    return (pd.DataFrame(rows, columns=["line", "open_year", "stops", "n_stops"]), _ledger(ledger))


def hsr_counts(lines: pd.DataFrame, ids: list[str], years: list[int]) -> np.ndarray:
    """``key_stations`` measure: counts[i, j, year index] = number of open lines (open_year <= year)
    listing key stations in both cities; 0 on the diagonal."""
    pos = {c: k for k, c in enumerate(ids)}
    out = np.zeros((len(ids), len(ids), len(years)), dtype=np.int64)
    for _, ln in lines.iterrows():
        ks = sorted({pos[c] for c in str(ln["stops"]).split("-") if c in pos})
        yi = [t for t, y in enumerate(years) if y >= ln["open_year"]]
        if len(ks) > 1 and yi:
            out[np.ix_(ks, ks, yi)] += 1
    out[np.arange(len(ids)), np.arange(len(ids)), :] = 0
    return out


# ----------------------------------------------------------------------------- lines the dump misses

def missing_lines(sections: pd.DataFrame, segments: pd.DataFrame, used: dict, dump_cores: set[str],
                  s2c: dict[str, str]) -> tuple[pd.DataFrame, list[tuple]]:
    """Lines the station lists do not hold, as (line, line_source, station, city_id, open_year).

    railvis sections used by no dump line, grouped into lines by the name before ``-`` (a section
    whose key stations all lie on an already formed line is the same track and joins it), with
    their key stations; then malin84 segments whose line matches no dump line and no railvis
    line by name, grouped by ``path_name``, with their end places. A station's year is the earliest
    of the sections listing it."""
    rows, ledger = [], []
    groups: dict[str, dict[str, float]] = {}
    for k, sec in sections.iterrows():
        if k in used["sections_used"]:
            continue
        key = sec["line"].split("-")[0]
        cities = {s: S.name_city(s, s2c) for s in sec["stations"]}
        same = next((g for g, sts in groups.items() if set(sec["stations"]) <= set(sts)), None)
        g = groups.setdefault(same or key, {})
        for s in sec["stations"]:
            g[s] = min(g.get(s, np.inf), sec["open_year"])
        for s, c in cities.items():
            if c is None:
                ledger.append(("hsr", "station", "", s, f"railvis_lines.csv: key station {s!r} of {sec['line']} "
                               "matches no prefecture; pairs through it are missed"))
    for line, sts in groups.items():
        for k, (s, y) in enumerate(sts.items()):
            rows.append((line, "railvis key stations", k, s, S.name_city(s, s2c), y))
    railvis_cores = set().union(*sections["cores"]) if len(sections) else set()
    seg_groups: dict[str, dict[str, tuple[str | None, float]]] = {}
    for k, seg in segments.iterrows():
        if k in used["segments_used"] or seg["cores"] & (dump_cores | railvis_cores):
            continue
        places = [(p, c) for p, c in zip(seg["places"], seg["cities"])]
        if len({c for _p, c in places if c}) < 2:
            ledger.append(("hsr", "line", seg["seg_id"], seg["line"],
                           f"malin84_seg_info_rail.csv row {seg['row']}: segment "
                           f"{'/'.join(seg['places']) or '(no places)'} of {seg['line']} ({seg['open_year']}) names fewer "
                           "than two placeable cities; not used"))
            continue
        g = seg_groups.setdefault(seg["line"], {})
        for p, c in places:
            if c:
                y = min(g.get(p, (c, np.inf))[1], seg["open_year"])
                g[p] = (c, y)
    for line, sts in seg_groups.items():
        for k, (p, (c, y)) in enumerate(sts.items()):
            rows.append((line, "malin84 segment ends", k, p, c, y))
    out = pd.DataFrame(rows, columns=["line", "line_source", "order", "station", "city_id", "open_year"])
    return out, ledger


# ----------------------------------------------------------------------------- the network

@dataclass
class HsrNetwork:
    """The year-by-year HSR network of the ``stations`` measure.

    ``served``: one row per station of a line: line, line_source ("station list", "railvis key
    stations", "malin84 segment ends"), station, city_id, open_year, year_from. ``stations``: the
    dump's stations with their placement and every year candidate. ``ledger``: ledger rows.
    ``info``: counts for the book (lines by source, stations placed by each rule, years by source)."""

    served: pd.DataFrame
    stations: pd.DataFrame
    ledger: pd.DataFrame
    info: dict = field(default_factory=dict)


def hsr_network(raw_dir: Path | None, dates_path: Path | None = None) -> HsrNetwork:
    """Build the ``stations`` network from the mirror's files (see the module notes)."""
    lines, st, led = read_station_lists(raw_dir)
    st, led2 = place_stations(st, raw_dir)
    s2c = S.read_station2city(raw_path("rail/railvis_station2city.json", raw_dir))
    sections, led3 = railvis_sections(raw_dir)
    segments, led4 = malin_segments(raw_dir)
    dates = read_opening_dates(dates_path)
    st, led5, used = station_years(st, lines, sections, segments, dates, s2c)
    dump_cores = set()
    for r in lines.itertuples():
        dump_cores |= line_cores(r.line, r.fullname) | set(LINE_PARTS.get(r.line, ()))
    extra, led6 = missing_lines(sections, segments, used, dump_cores, s2c)
    listed = st[st["open_year"].notna()]
    served = pd.concat([
        pd.DataFrame({"line": listed["line"], "line_source": "station list", "order": listed["order"],
                      "station": listed["station"],
                      "city_id": listed["city_id"], "open_year": listed["open_year"],
                      "year_from": listed["year_from"]}),
        extra.assign(year_from=extra["line_source"].map({"railvis key stations": "railvis",
                                                         "malin84 segment ends": "malin84"})),
    ], ignore_index=True)
    for name, d in dates[~dates["line"].isin(set(lines["line"]))].groupby("line", sort=False):
        on = served[served["line"] == name].sort_values("order")  # lines the dump misses
        cited = cited_years(list(on["station"]), d, name)
        hit = np.isfinite(cited)
        served.loc[on.index[hit], "open_year"] = cited[hit]
        served.loc[on.index[hit], "year_from"] = "cited"
    universe = set(city_universe()["city_id"])
    ledger_rows = led + led2 + led3 + led4 + led5 + led6
    outside = served[served["city_id"].notna() & ~served["city_id"].isin(universe)]
    for (line, city), g in outside.groupby(["line", "city_id"]):
        ledger_rows.append(("hsr", "station", city, "-".join(g["station"]),
                            f"station(s) of {line} in {city}, not a prefecture-level city of the universe (an "
                            "autonomous prefecture, a county-level unit under a province, Hong Kong or Taiwan): "
                            "pairs through it are not counted"))
    info = {
        "lines_station_lists": int(listed["line"].nunique()),
        "lines_railvis_key_stations": int(extra.loc[extra["line_source"] == "railvis key stations", "line"].nunique()),
        "lines_malin84_segment_ends": int(extra.loc[extra["line_source"] == "malin84 segment ends", "line"].nunique()),
        "stations": int(st["station"].nunique()),
        "stations_placed_by": st.drop_duplicates("station")["placed_by"].value_counts().to_dict(),
        "station_years_from": st["year_from"].value_counts().to_dict(),
        "sections_railvis_used": len(used["sections_used"]), "sections_railvis": len(sections),
        "segments_malin84_used": len(used["segments_used"]), "segments_malin84": len(segments),
        "cited_dates": len(dates),
    }
    return HsrNetwork(served=served.reset_index(drop=True), stations=st, ledger=_ledger(ledger_rows), info=info)


def network_counts(served: pd.DataFrame, ids: list[str], years: list[int]) -> np.ndarray:
    """counts[i, j, year index] = number of lines with an open station (open_year <= year) in city
    ``ids[i]`` and one in ``ids[j]``; 0 on the diagonal. int64, shape (len(ids), len(ids), len(years))."""
    pos = {c: k for k, c in enumerate(ids)}
    out = np.zeros((len(ids), len(ids), len(years)), dtype=np.int64)
    sub = served[served["city_id"].isin(pos) & served["open_year"].notna()]
    for _line, g in sub.groupby("line", sort=True):
        first = g.groupby("city_id")["open_year"].min()
        ks = np.array([pos[c] for c in first.index])
        for t, y in enumerate(years):
            on = ks[(first.to_numpy() <= y)]
            if len(on) > 1:
                out[np.ix_(on, on, [t])] += 1
    out[np.arange(len(ids)), np.arange(len(ids)), :] = 0
    return out


def hsr_counts_for(measure: str, raw_dir: Path | None, ids: list[str], years: list[int]
                   ) -> tuple[np.ndarray, pd.DataFrame, pd.DataFrame, dict]:
    """``hsr_lines`` of every ordered pair and year under one measure (:data:`MEASURES`).

    Returns (counts of shape (len(ids), len(ids), len(years)), the measure's line table, its
    ledger, info). ValueError naming the allowed values for an unknown measure."""
    if measure not in MEASURES:
        raise ValueError(f"hsr_measure {measure!r} is not one of {list(MEASURES)}")
    if measure == "key_stations":
        lines, ledger = hsr_lines(raw_dir)
        return hsr_counts(lines, ids, years), lines, ledger, {"lines": int(len(lines))}
    net = hsr_network(raw_dir)
    return network_counts(net.served, ids, years), net.served, net.ledger, net.info


def period_means(counts: np.ndarray, years: list[int], periods) -> np.ndarray:
    """Yearly counts averaged within each period (both ends included), as :mod:`intercity.panel`
    does: shape (n, n, len(periods)). ValueError naming the period when a year is missing."""
    out = []
    for a, b in periods:
        cols = [t for t, y in enumerate(years) if a <= y <= b]
        if len(cols) != b - a + 1:
            raise ValueError(f"period {a}-{b}: no HSR counts for year(s) "
                             f"{sorted(set(range(a, b + 1)) - set(years))}")
        out.append(counts[:, :, cols].mean(axis=2))
    return np.stack(out, axis=2)


def connectivity_summary(counts: np.ndarray, ids: list[str], years: list[int], periods,
                         names: dict[str, str] | None = None, hub_years: tuple[int, ...] = (),
                         n_hubs: int = 7) -> dict:
    """The numbers the book shows beside the study's descriptive statistics of connectivity_HSR.

    Over ordered pairs (i != j) x periods of the period-averaged counts: ``mean``, ``std``
    (population), ``max``, ``share_positive``; ``varying_pairs``: ordered pairs whose period
    averages differ between periods; ``pairs_served_last``: ordered pairs with a line in the last
    year; ``hubs``: for each of ``hub_years``, the ``n_hubs`` cities of largest HSR degree (number
    of cities sharing an open line with it; ties by city id) as [name, degree] lists."""
    ids = list(ids)
    n = len(ids)
    off = ~np.eye(n, dtype=bool)
    pm = period_means(counts, years, periods)
    vals = pm[off]
    out = {"mean": float(vals.mean()), "std": float(vals.std()), "max": float(vals.max()),
           "share_positive": float((vals > 0).mean()),
           "varying_pairs": int((off & (pm.max(axis=2) > pm.min(axis=2))).sum()),
           "pairs_served_last": int((off & (counts[:, :, -1] > 0)).sum()), "hubs": {}}
    names = names or {}
    for y in hub_years:
        if y not in years:
            continue
        deg = (counts[:, :, years.index(y)] > 0).sum(axis=1)
        order = sorted(range(n), key=lambda k: (-deg[k], ids[k]))[:n_hubs]
        out["hubs"][str(y)] = [[names.get(ids[k], ids[k]), int(deg[k])] for k in order if deg[k] > 0]
    return out


def check_2018_cities(served: pd.DataFrame, raw_dir: Path | None, year: int = 2017) -> dict:
    """Which cities of ``rail/hsr_cities_stations_2018.xlsx`` (cities with G-train stations about
    2018; province, city, stations) the network serves by ``year``.

    A row's city (the province for municipalities) is matched as a prefecture, else as a county-level
    unit (耒阳 -> Hengyang); rows naming no prefecture-level city of the universe are counted apart.
    Served: an open station (open_year <= ``year``) in the city on any line. Returns cities,
    served, not_served (names), outside_universe (names)."""
    path = raw_path("rail/hsr_cities_stations_2018.xlsx", raw_dir)
    raw = pd.read_excel(path, header=None, dtype=str, engine="openpyxl")
    if raw.shape[1] < 3:
        raise ValueError(f"{path}: expected columns province, city, stations; found {raw.shape[1]} column(s)")
    universe = set(city_universe()["city_id"])
    province = raw[0].ffill()
    codes: dict[str, str] = {}
    outside: list[str] = []
    for k in range(len(raw)):
        stations = raw.iat[k, 2]
        if pd.isna(stations) or "站" in str(stations) and "车站名" in str(stations):
            continue
        name = raw.iat[k, 1] if pd.notna(raw.iat[k, 1]) else province.iat[k]
        name = N.clean(name)
        code = N.to_adcode(name) or N.parent_prefecture(name)
        if code in universe:
            codes.setdefault(code, name)
        elif name not in outside:
            outside.append(name)
    open_cities = set(served.loc[served["open_year"] <= year, "city_id"].dropna())
    not_served = [n for c, n in codes.items() if c not in open_cities]
    return {"file": path.name, "year": year, "cities": len(codes), "served": len(codes) - len(not_served),
            "not_served": not_served, "outside_universe": outside}


def key_station_served(lines: pd.DataFrame) -> pd.DataFrame:
    """The ``key_stations`` lines (:func:`hsr_lines`) in the long form of :attr:`HsrNetwork.served`
    (line, city_id, open_year), so both measures can be checked the same way."""
    rows = [(r.line, c, r.open_year) for r in lines.itertuples() for c in str(r.stops).split("-") if c]
    return pd.DataFrame(rows, columns=["line", "city_id", "open_year"])
