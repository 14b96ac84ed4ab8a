"""HSR lines of the public source (real, partial): the line list of RailwayVIS.

Lines of type 高速铁路 in ``railvis_lines.csv`` with their opening dates; a line serves the
cities of its listed key stations (station -> city via ``railvis_station2city.json`` or the
station's own name). ``hsr_lines`` of a pair in a year = number of open lines listing stations
in both cities (a county-level station counts for its prefecture). Intermediate stations the
list omits are NOT filled (the train stop lists are of about 2021 and route trains over several
lines, so they cannot say which line serves a stop): pairs on an omitted station are missed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from intercity.schema import ledger_frame as _ledger
from intercity.sources import names as N
from intercity.sources.fetch import raw_path


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


def parse_open_year(text: object) -> int | None:
    """Opening year of a line from '2012.10.16', '1962.12', '2011' (None when unreadable)."""
    m = re.match(r"\s*(\d{4})", str(text))
    return int(m.group(1)) if m else None


def hsr_lines(raw_dir: Path | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HSR lines (name, open_year, stops as adcodes) and a ledger of unplaced stations/lines."""
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
    """counts[i, j, year index] = number of open lines (open_year <= year) serving i and j."""
    pos = {c: k for k, c in enumerate(ids)}
    out = np.zeros((len(ids), len(ids), len(years)), dtype=np.int64)
    for _, ln in lines.iterrows():
        ks = sorted({pos[c] for c in str(ln["stops"]).split("-") if c in pos})
        yi = [t for t, y in enumerate(years) if y >= ln["open_year"]]
        if len(ks) > 1 and yi:
            out[np.ix_(ks, ks, yi)] += 1
    out[np.arange(len(ids)), np.arange(len(ids)), :] = 0
    return out
