"""The ``public`` data source: real public inputs where they exist, flagged stand-ins elsewhere.

Inputs are the files of ``data/manifest.csv`` (see :mod:`intercity.sources.fetch`), read from
``raw_dir`` (default ``data/raw``, then the data mirror). Parts:

1. **Information connectivity** (real): Baidu city-to-city search index, annual average of the
   daily index (Guo et al. 2022). Direction, established from the data (:func:`search_direction`):
   in a line ``i j v`` city **i is the searching city** and j the searched one. Evidence: row
   sums (searches made) track city size far more closely than column sums, and the cities with
   the largest column-to-row ratio are small tourist or remote destinations (玉树, 林芝, 张家界,
   丽江, 三亚), which are searched for much more than they search. So ``baidu_index`` of
   (origin, dest) = index of users in origin searching dest, as the study's "from city i to j".
   2011-2016 come from the 322-city files, 2017 from the 357-city files (another smoothing run).
2. **HSR lines** (real): ``hsr_lines`` of a pair in a year = number of HSR lines with an open
   station in both cities, from the full station lists of 47 lines with each station's opening
   year from its line section (``hsr_measure="stations"``, default), or, for comparison, from the
   key stations of ``railvis_lines.csv`` only (``"key_stations"``, the earlier measure). See
   :mod:`intercity.sources.rail` for both, the coordinate conversion, the station-to-city rule and
   the opening-year rule.
3. **City statistics**: see :data:`intercity.sources.city_stats.VARIABLE_SOURCES` (observed /
   interpolated / proxy / imputed per value).
4. **MRIO** (stand-in): see :func:`intercity.sources.national_io.city_mrio`; city sector weights
   constrained to real provincial output by sector (2012, 2017; 2015 interpolated), see
   :func:`intercity.sources.national_io.sector_weights` and :mod:`intercity.sources.provincial`.
   ``meta["mrio"]["provincial"]`` says which years' shares are observed and which interpolated,
   how much output the constraint moves between provinces, and the provinces the sample covers
   only in part.

Each input family has its module: :mod:`~intercity.sources.baidu`, :mod:`~intercity.sources.rail`,
:mod:`~intercity.sources.city_stats`, :mod:`~intercity.sources.national_io`; this module selects
the cities and assembles the bundle.

Cities: the ``cpca`` universe of prefecture-level cities, minus the cities with administrative
changes 2012-2017, minus cities any core input lacks; every drop goes to the ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from intercity.cities import city_universe, drop_admin_changes, great_circle_km, outside_city_units, sample_cities
from intercity.schema import CITY_YEAR_VARS, StudyData, ledger_frame as _ledger, pair_year_frame
from intercity.sources.baidu import baidu_family, baidu_index, search_direction
from intercity.sources.city_stats import VARIABLE_SOURCES, city_statistics, city_year_table
from intercity.sources.national_io import DISTANCE_ELASTICITY, city_mrio, national_gfcf_ratio, national_table, sector_weights
from intercity.sources import provincial
from intercity.sources.rail import (MEASURES, check_2018_cities, connectivity_summary, hsr_counts_for,
                                   key_station_served)

CEADS_STANDIN = ("The city MRIO of the public source is a stand-in for the CEADs city MRIO: national "
                 "IO tables, mapped to the book's 41 sectors by description, regionalised to cities with city sector structure "
                 "(city value added and yearbook employment) constrained to real provincial gross output by sector "
                 "(each province's share of national output of each sector, 2012 and 2017; 2015 interpolated "
                 "linearly between them), and a distance-gravity trade model; it is not the CEADs table.")
#: The same note for the stand-in built without the provincial constraint (for comparison only).
CEADS_STANDIN_UNCONSTRAINED = ("The city MRIO of the public source is a stand-in for the CEADs city MRIO: national "
                               "IO tables, mapped to the book's 41 sectors by description, regionalised to cities with "
                               "city sector structure (city value added and yearbook employment, the national mix "
                               "within each yearbook category; NOT constrained to provincial output) and a "
                               "distance-gravity trade model; it is not the CEADs table.")


def select(universe: pd.DataFrame, available: dict[str, set[str]], n_cities: int | None,
           rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop admin-change cities and cities an input lacks; optionally keep ``n_cities`` of the rest
    (:func:`intercity.cities.sample_cities`). Returns (kept cities, ledger of every city dropped)."""
    eligible, ledger = drop_admin_changes(universe)
    rows = []
    keep = np.ones(len(eligible), bool)
    for k, c in enumerate(eligible.itertuples()):
        lacking = [what for what, have in available.items() if c.city_id not in have]
        if lacking:
            rows.append(("universe", "city", c.city_id, c.name_zh, "missing from input(s): " + "; ".join(lacking)))
            keep[k] = False
    kept, sampled = sample_cities(eligible[keep], n_cities, rng, f"not sampled: cut to {n_cities} cities")
    return kept, pd.concat([ledger, _ledger(rows), sampled], ignore_index=True)


def build(params, years: list[int]) -> StudyData:
    """The public StudyData for ``params`` (registry entry point; see :mod:`intercity.sources`)."""
    return assemble(None if params.scale == 1 else params.n_cities, params.seed, years, params.mrio_years,
                    hsr_measure=params.hsr_measure)


def assemble(n_cities: int | None = None, seed: int = 0, years: list[int] | None = None,
             mrio_years: tuple[int, ...] = (2012, 2015, 2017), raw_dir: Path | str | None = None,
             hsr_measure: str = "stations", provincial_constraint: bool = True,
             require: Mapping[str, set[str]] | None = None) -> StudyData:
    """The public StudyData (not validated): ``n_cities`` of the cities every core input covers
    (None: all), city and pair data for ``years``, an MRIO for each of ``mrio_years``; inputs read
    from ``raw_dir`` (default ``data/raw``, then the data mirror). ``hsr_measure`` is one of
    :data:`intercity.sources.rail.MEASURES` (ValueError otherwise); ``meta["hsr"]`` summarises
    connectivity_HSR over the study's periods (:data:`STUDY_PERIODS`) when ``years`` hold them.
    ``provincial_constraint=False`` builds the MRIO with the unconstrained sector weights (the
    earlier stand-in, kept for comparison: ``benchmarks/provincial_check.py``).
    ``require``: more inputs every kept city must be in ({input name: its city ids}; e.g. the
    CEADs tables of :mod:`intercity.sources.ceads`), with a ledger row naming the input for
    every city one lacks; ``mrio_years=()`` builds no MRIO."""
    if hsr_measure not in MEASURES:
        raise ValueError(f"hsr_measure {hsr_measure!r} is not one of {list(MEASURES)}")
    years = list(years or range(min(mrio_years) - 1, max(mrio_years) + 1))
    raw_dir = Path(raw_dir) if raw_dir is not None else None
    rng = np.random.default_rng(seed)
    universe = city_universe()
    all_ids = universe["city_id"].tolist()
    stats = city_statistics(raw_dir, years)
    bidx, bled, covered = baidu_index(raw_dir, years, all_ids)
    has = lambda frame: set(frame.index[frame.notna().all(axis=1)])  # noqa: E731
    yb_ids = set(stats["yearbook"]["city_id"])
    available = {f"Baidu index {fam} city list": set(c) for fam, c in covered.items()}
    available["resident population (gp_pop_density)"] = has(stats["wide"]["population"])
    available["nominal GDP (gp_gdp)"] = has(stats["gdp"])
    available["City Statistical Yearbook"] = yb_ids
    available.update(require or {})
    cities, ledger = select(universe, available, n_cities, rng)
    ids = cities["city_id"].tolist()
    pos = [all_ids.index(c) for c in ids]
    city_year = city_year_table(ids, years, stats, national_gfcf_ratio(raw_dir))
    hsr, lines, hled, hinfo = hsr_counts_for(hsr_measure, raw_dir, ids, years)
    served = lines if hsr_measure == "stations" else key_station_served(lines)
    hinfo = {**hinfo, "check_2018": check_2018_cities(served, raw_dir, max(years))}
    n = len(ids)
    idx = np.stack([bidx[y][np.ix_(pos, pos)] for y in years], axis=2)
    miss = np.isnan(idx)
    pair_year = pair_year_frame(ids, years, {"hsr_lines": hsr, "baidu_index": np.where(miss, 0.0, idx)},
                                {"hsr_lines": "observed",
                                 "baidu_index": np.where(miss, "imputed", "observed")})
    # MRIO
    dist = great_circle_km(cities["lon"].to_numpy(), cities["lat"].to_numpy())
    area = stats["area"].reindex(ids)
    area = area.ffill(axis=1).bfill(axis=1).iloc[:, -1].fillna(area.stack().median()).to_numpy()
    mrio, notes, prov_meta, led = _mrio_tables(ids, cities["name_zh"].tolist(), all_ids, mrio_years, raw_dir, stats,
                                               dist, area, provincial_constraint)
    ledger = pd.concat([ledger, led], ignore_index=True)
    # evidence for the search direction, on the year-2015 matrix and resident population
    m15 = bidx[2015 if 2015 in bidx else years[0]][np.ix_(pos, pos)]
    size = stats["wide"]["population"].reindex(ids)[2015 if 2015 in years else years[0]].to_numpy(float)
    direction = search_direction(np.nan_to_num(m15), size)
    ledger = pd.concat([ledger, bled, stats["ledger"], hled], ignore_index=True)
    cov = {v: city_year[f"prov_{v}"].value_counts(normalize=True).round(4).to_dict() for v in CITY_YEAR_VARS}
    meta = {
        "source": "public", "n_cities": n, "study_cities": 273, "seed": seed,
        "search_direction": {"convention": "baidu_index[origin, dest] = users in origin searching dest",
                             **direction},
        "baidu_families": {str(y): baidu_family(y) for y in years},
        "hsr": _hsr_meta(hsr_measure, hsr, hinfo, raw_dir, ids, years, STUDY_PERIODS, cities, mrio_years),
        "variables": VARIABLE_SOURCES, "provenance_shares": cov,
        "mrio": {"note": CEADS_STANDIN if provincial_constraint else CEADS_STANDIN_UNCONSTRAINED,
                 "sector_structure": {str(k): v for k, v in notes.items()},
                 "distance_elasticity": DISTANCE_ELASTICITY,
                 "imports": "proportional assumption (2012, 2015); domestic-origin rows (2017)",
                 "provincial": None if not provincial_constraint else {
                     "file": provincial.FILE, "unit": provincial.UNIT,
                     "years": {k: v["shares"] for k, v in prov_meta.items()},
                     "interpolated": [k for k, v in prov_meta.items() if v["shares"].startswith("interpolated")],
                     "by_year": prov_meta}},
    }
    return StudyData(source="public", cities=cities, city_year=city_year, pair_year=pair_year, mrio=mrio,
                     ledger=ledger, extras={"hsr_lines": lines}, meta=meta)


def _mrio_tables(ids: list[str], names: list[str], all_ids: list[str], mrio_years, raw_dir, stats: dict,
                 dist: np.ndarray, area: np.ndarray, constrained: bool = True):
    """The stand-in MRIO of each year (:func:`~intercity.sources.national_io.city_mrio`) with the
    sector weights of :func:`~intercity.sources.national_io.sector_weights`, constrained to the
    provincial output (:mod:`intercity.sources.provincial`) unless ``constrained`` is False.
    Returns (mrio by year, notes by year, ``meta["mrio"]["provincial"]["by_year"]``, ledger rows of
    the cities whose province has no provincial output)."""
    gdp = stats["gdp"]
    mrio, notes, prov_meta, rows = {}, {}, {}, []
    prov_out = provincial.read_provincial_output(raw_dir) if constrained else None
    outside = outside_city_units()
    for y in mrio_years:
        nat = national_table(raw_dir, y)
        w0, note = sector_weights(ids, y, stats["yearbook"], stats["industry"], nat["x"])
        w = w0
        if constrained:
            targets, _cov = provincial.targets(prov_out, y, ids, gdp[y], nat, all_ids, outside)
            w, note = sector_weights(ids, y, stats["yearbook"], stats["industry"], nat["x"], provincial=targets)
            prov = provincial.province_index(ids, targets.has_data())
            prov_meta[str(y)] = {
                "shares": targets.source,
                "misallocated_without_constraint": round(provincial.misallocation(
                    w0, prov, targets.shares, targets.kappa, nat["x"]), 4),
                "partial_coverage": {f"{code} {provincial.PROVINCE_NAMES[code]}": round(float(k), 3)
                                     for code, k in zip(provincial.PROVINCES, targets.kappa) if 0 < k < 0.995},
            }
            if not rows:
                rows = [("mrio", "city", c, nm, f"{provincial.FILE}: no provincial output for province {c[:2]}:"
                         " sector weights by the unconstrained rule (value added x yearbook employment x national mix)")
                        for c, nm, p in zip(ids, names, prov) if p < 0]
        mrio[y] = city_mrio(nat, ids, dist, area, w, gdp.reindex(ids)[y].to_numpy(float))
        notes[y] = note
    return mrio, notes, prov_meta, _ledger(rows)


#: The study's periods, over which ``meta["hsr"]`` summarises connectivity_HSR (the bundle does not
#: depend on the book's periods; the book recomputes its own, see intercity.networks.hsr_comparison).
STUDY_PERIODS: tuple[tuple[int, int], ...] = ((2012, 2015), (2015, 2017))

#: What each HSR measure misses (shown with the measure in the book).
HSR_MISSING = {
    "stations": "lines in neither the station lists nor the line list enter with their end places only "
                "(malin84 segments: e.g. 兰新, 胶济), so their intermediate cities are missed; stations in "
                "autonomous prefectures and county-level units under a province are not counted; 宜万铁路 "
                "has no opening year and is left out",
    "key_stations": "intermediate stations the line list omits; lines opened after the list's snapshot; "
                    "no line-level data for conventional lines upgraded to HSR",
}


def _hsr_meta(measure: str, counts: np.ndarray, info: dict, raw_dir, ids: list[str], years: list[int],
              periods, cities: pd.DataFrame, mrio_years=()) -> dict:
    """``meta["hsr"]``: the measure used, its summary (:func:`~intercity.sources.rail.connectivity_summary`)
    and, for comparison, the summary of the other measure on the same cities and years; hubs in
    the first and last MRIO years."""
    periods = [tuple(p) for p in periods if p[0] in years and p[1] in years]
    names = dict(zip(cities["city_id"], cities["name_en"]))
    hub_years = tuple(y for y in sorted({min(mrio_years, default=min(years)), max(mrio_years, default=max(years))})
                      if y in years)
    out = {"measure": measure, "missing": HSR_MISSING[measure], "info": _plain(info),
           "lines": int(info.get("lines", info.get("lines_station_lists", 0)
                             + info.get("lines_railvis_key_stations", 0) + info.get("lines_malin84_segment_ends", 0))),
           "pairs_with_hsr_last_year": int((counts[:, :, -1] > 0).sum() // 2)}
    if periods:
        out["summary"] = connectivity_summary(counts, ids, years, periods, names, hub_years)
        other = next(m for m in MEASURES if m != measure)
        oc, _l, _led, _i = hsr_counts_for(other, raw_dir, ids, years)
        out["other_measure"] = {"measure": other,
                                "summary": connectivity_summary(oc, ids, years, periods, names, hub_years)}
    return out


def _plain(obj):
    """JSON-friendly copy (numpy scalars -> Python numbers, sets -> sorted lists)."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [_plain(v) for v in (sorted(obj) if isinstance(obj, set) else obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
