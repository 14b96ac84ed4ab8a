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
2. **HSR lines** (real, partial): lines of type 高速铁路 in ``railvis_lines.csv`` with their
   opening dates; a line serves the cities of its listed key stations (station -> city via
   ``railvis_station2city.json`` or the station's own name). ``hsr_lines`` of a pair in a year =
   number of open lines listing stations in both cities (a county-level station counts for
   its prefecture). Intermediate stations the list omits
   are NOT filled (the train stop lists are of about 2021 and route trains over several lines,
   so they cannot say which line serves a stop): pairs on an omitted station are missed.
3. **City statistics**: see :data:`VARIABLE_SOURCES` (observed / interpolated / imputed per value).
4. **MRIO** (stand-in): see :func:`city_mrio`.

Cities: the ``cpca`` universe of prefecture-level cities, minus the cities with administrative
changes 2012-2017, minus cities any core input lacks; every drop goes to the ledger.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from intercity.bundle import CITY_YEAR_VARS, LEDGER_COLUMNS, PROVENANCE
from intercity.cities import ADMIN_CHANGES_2012_2017, MUNICIPALITIES, city_universe, great_circle_km
from intercity.mrio import StructuredMRIO, remove_imports_proportional
from intercity.sectors import SECTOR_CODES
from intercity.sources import names as N
from intercity.sources.fetch import FetchError, raw_path

CEADS_STANDIN = ("The city MRIO of the public source is a stand-in for the CEADs city MRIO: national "
                 "42-sector IO tables regionalised to cities with city sector structure and a "
                 "distance-gravity trade model; it is not the CEADs table.")

#: CNY per USD, annual average of the central parity as published in the NBS China Statistical
#: Yearbook ("exchange rate of RMB"); typed in from the yearbook, not from a mirror file. Used to
#: convert FDI (million USD) to yuan.
USD_CNY = {2010: 6.7695, 2011: 6.4588, 2012: 6.3125, 2013: 6.1932, 2014: 6.1428, 2015: 6.2284,
           2016: 6.6423, 2017: 6.7518}

#: How each city-year variable is built (also returned in meta).
VARIABLE_SOURCES = {
    "population": "observed: resident population, 10k persons (G-P pop density panel); its own "
                  "interpolated column where the raw value is missing -> 'interpolated'",
    "gdp_per_capita": "observed: nominal GDP (G-P GDP panel, 100m yuan) / resident population, 10k yuan",
    "fdi_gdp": "observed: FDI (G-P FDI panel, million USD) x annual average CNY/USD / nominal GDP",
    "employment": "observed: persons employed in urban units at year end, whole city, 10k persons "
                  "(City Statistical Yearbook; yearbook YYYY holds year YYYY-1)",
    "urbanization": "imputed (proxy): registered population of the urban districts (市辖区) / of the "
                    "whole city (全市), yearbook; not the resident urbanisation rate of the study",
    "college_per_pop": "imputed: the study's published sample median (descriptive_stats hcl), "
                       "constant; no public city file has college enrolment",
    "trade_gdp": "imputed: the study's published sample median (ftl), constant; no public file",
    "gov_exp_gdp": "imputed: the study's published sample median (gel), constant; no public file",
    "fixed_assets": "imputed: nominal GDP x national gross fixed capital formation / value added of "
                    "the national IO table (2012, 2015, 2017; linear in between), 10k yuan",
    "liquid_assets": "imputed (proxy): year-end deposits of financial institutions, 10k yuan (G-P "
                     "financial panel); where missing, GDP x that year's median deposits/GDP",
    "patents": "imputed (proxy, NOT patent counts): persons employed in scientific research and "
               "technical services (yearbook), persons; no public city patent file",
}

_LEDGER = list(LEDGER_COLUMNS)


def _ledger(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_LEDGER)


# --------------------------------------------------------------------------- Baidu index

def baidu_family(year: int) -> str:
    """File family of a year: 'c322' for 2011-2016, 'c357' for 2017-2019."""
    if 2011 <= year <= 2016:
        return "c322"
    if 2017 <= year <= 2019:
        return "c357"
    raise ValueError(f"Baidu index: no file for year {year} (files cover 2011-2019)")


def read_baidu_cities(path: Path) -> pd.DataFrame:
    """index -> short name list of one file family (columns index, name)."""
    frame = pd.read_csv(path, dtype={"name": str})
    if list(frame.columns[:2]) != ["index", "name"]:
        raise ValueError(f"{path}: expected columns 'index,name', got {list(frame.columns)}")
    if not frame["index"].equals(pd.Series(range(len(frame)))):
        raise ValueError(f"{path}: index column must run 0..{len(frame) - 1}")
    return frame


def read_baidu_flat(path: Path, n: int) -> np.ndarray:
    """Dense (n, n) matrix of one flat file ``i j value`` (0-based, i searches j); diagonal 0."""
    frame = pd.read_csv(path, sep=r"\s+", header=None, names=["i", "j", "v"], engine="python")
    if frame.isna().any().any():
        row = int(frame.isna().any(axis=1).to_numpy().argmax())
        raise ValueError(f"{path}: malformed line {row + 1} (expected 'i j value')")
    i, j = frame["i"].to_numpy(int), frame["j"].to_numpy(int)
    if i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n:
        raise ValueError(f"{path}: city index outside 0..{n - 1}")
    m = np.zeros((n, n))
    m[i, j] = frame["v"].to_numpy(float)
    np.fill_diagonal(m, 0.0)
    return m


def search_direction(matrix: np.ndarray, size: np.ndarray) -> dict[str, float | str]:
    """Which of i/j searches: correlation of log row and column sums with log city size.

    Returns the two correlations and the verdict 'i searches j' when row sums track size more
    closely (searches made scale with the number of users), else 'j searches i'.
    """
    ok = (size > 0) & (matrix.sum(1) > 0) & (matrix.sum(0) > 0)
    ls = np.log(size[ok])
    r_row = float(np.corrcoef(np.log(matrix.sum(1)[ok]), ls)[0, 1])
    r_col = float(np.corrcoef(np.log(matrix.sum(0)[ok]), ls)[0, 1])
    return {"corr_log_rowsum_log_size": r_row, "corr_log_colsum_log_size": r_col,
            "verdict": "i searches j" if r_row > r_col else "j searches i"}


def baidu_index(raw_dir: Path | None, years: list[int], city_ids: list[str]
                ) -> tuple[dict[int, np.ndarray], pd.DataFrame, dict[str, np.ndarray]]:
    """Search index matrices {year: (n, n)} over ``city_ids`` (origin searches dest).

    Returns (matrices, ledger of names of the files' city lists that match no adcode,
    {family: array of adcodes covered}). A city missing from a year's family is NaN there.
    """
    pos = {c: k for k, c in enumerate(city_ids)}
    out, ledgers, covered, lists = {}, [], {}, {}
    for year in years:
        fam = baidu_family(year)
        if fam not in lists:
            cpath = raw_path(f"baidu_index/cities-{fam}.csv", raw_dir)
            cl = read_baidu_cities(cpath)
            codes, led = N.match_names(cl["name"], cpath.name, stage="baidu_index")
            ledgers.append(led)
            lists[fam] = codes.to_numpy()
            covered[fam] = np.array(sorted({c for c in codes if c is not None}))
        codes = lists[fam]
        path = raw_path(f"baidu_index/data-{fam}-{year}-Flat.txt.gz", raw_dir)
        raw = read_baidu_flat(path, len(codes))
        src = np.array([k for k, c in enumerate(codes) if c in pos])
        dst = np.array([pos[codes[k]] for k in src])
        m = np.full((len(city_ids), len(city_ids)), np.nan)
        m[np.ix_(dst, dst)] = raw[np.ix_(src, src)]
        np.fill_diagonal(m, 0.0)
        out[year] = m
    ledger = pd.concat(ledgers, ignore_index=True).drop_duplicates() if ledgers else _ledger([])
    return out, ledger, covered


# --------------------------------------------------------------------------- panels (G-P)

def _find_col(frame: pd.DataFrame, path: Path, *keys: str) -> str:
    """First column whose header contains every key; error naming the file otherwise."""
    for c in frame.columns:
        if all(k in str(c) for k in keys):
            return c
    raise ValueError(f"{path}: no column with {' + '.join(keys)} in header {list(frame.columns)}")


def read_panel(path: Path, sheet: str | int, city_keys: tuple[str, ...], year_keys: tuple[str, ...],
               value_keys: dict[str, tuple[str, ...]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long panel (city_id, year, values...) from a G-P workbook; columns found by header meaning.

    Returns (panel, ledger of unmatched names). Rows without a year are skipped.
    """
    frame = pd.read_excel(path, sheet_name=sheet)
    ccol = _find_col(frame, path, *city_keys)
    ycol = _find_col(frame, path, *year_keys)
    cols = {v: _find_col(frame, path, *k) for v, k in value_keys.items()}
    frame = frame[pd.to_numeric(frame[ycol], errors="coerce").notna()]
    codes, ledger = N.match_names(frame[ccol], path.name, stage="city_statistics")
    out = pd.DataFrame({"city_id": codes.to_numpy(), "year": pd.to_numeric(frame[ycol]).astype(int).to_numpy()})
    for v, c in cols.items():
        out[v] = pd.to_numeric(frame[c].astype(str).str.replace(",", "").str.strip(), errors="coerce").to_numpy()
    out = out[out["city_id"].notna()]
    out = out.groupby(["city_id", "year"], as_index=False).first()  # a repeated row: first value
    return out, ledger


# --------------------------------------------------------------------------- yearbooks

#: Yearbook employment categories (19, GB/T 4754-2002) and the header keywords that identify them.
YB_SECTORS: dict[str, tuple[str, ...]] = {
    "agri": ("农、林",), "mining": ("采矿",), "manuf": ("制造",), "utilities": ("电力",),
    "construction": ("建筑业",), "transport": ("交通运输",), "ict": ("信息传输",),
    "trade": ("批发",), "hotels": ("住宿",), "finance": ("金融",), "realestate": ("房地产",),
    "leasing": ("租赁",), "research": ("科学研究",), "water": ("水利",), "resident": ("居民服务",),
    "education": ("教育",), "health": ("卫生",), "culture": ("文化",), "public": ("公共管理",),
}
#: 42 IO sectors -> yearbook category.
SECTOR_TO_YB = {**{"01": "agri"}, **{c: "mining" for c in ("02", "03", "04", "05")},
                **{f"{k:02d}": "manuf" for k in range(6, 25)},
                **{c: "utilities" for c in ("25", "26", "27")}, "28": "construction", "29": "trade",
                "30": "transport", "31": "hotels", "32": "ict", "33": "finance", "34": "realestate",
                "35": "leasing", "36": "research", "37": "water", "38": "resident", "39": "education",
                "40": "health", "41": "culture", "42": "public"}


def _header_labels(raw: pd.DataFrame) -> list[tuple[str, str]]:
    """(top header, sub header) per column; merged top cells forward-filled."""
    top = raw.iloc[0].map(lambda v: "" if pd.isna(v) else N.clean(v)).tolist()
    sub = raw.iloc[1].map(lambda v: "" if pd.isna(v) else N.clean(v)).tolist()
    for k in range(1, len(top)):
        if not top[k] and sub[k]:
            top[k] = top[k - 1]
    return list(zip(top, sub))


def parse_yearbook(path: Path, file_year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One yearbook workbook -> (city_id, year, pop_total, pop_district, employment, emp_<cat>...).

    Columns are found by header meaning (全市 = whole city, 市辖区 = urban districts); the data
    year is ``file_year - 1`` (the yearbook reports the previous year). Aggregate rows (城市合计,
    provinces) are skipped. Raises ValueError naming the file and the missing variable.
    """
    raw = pd.read_excel(path, sheet_name=0, header=None, dtype=object)
    labels = _header_labels(raw)

    def col(keys: tuple[str, ...], sub: str, exclude: tuple[str, ...] = ()) -> int:
        for k, (t, s) in enumerate(labels):
            if all(x in t for x in keys) and not any(x in t for x in exclude) and s.startswith(sub):
                return k
        raise ValueError(f"{path}: no column for {'+'.join(keys)} ({sub}) in the header")

    pop_keys = ("年末总人口",) if any("年末总人口" in t for t, _ in labels) else ("年末户籍人口",)
    cols = {"pop_total": col(pop_keys, "全市"), "pop_district": col(pop_keys, "市辖区"),
            "employment": col(("从业人员",), "全市", exclude=("私营", "失业"))}
    for cat, keys in YB_SECTORS.items():
        cols[f"emp_{cat}"] = col(keys, "全市")
    body = raw.iloc[2:]
    name = body[0].map(lambda v: "" if pd.isna(v) else N.clean(v))
    keep = ~(name.str.contains("合计") | name.str.endswith("省") | name.str.endswith("自治区") | (name == ""))
    body, name = body[keep], name[keep]
    codes, ledger = N.match_names(name, path.name, stage="city_statistics", extra=N.YEARBOOK_TYPOS)
    out = pd.DataFrame({"city_id": codes.to_numpy(), "year": file_year - 1})
    for v, k in cols.items():
        out[v] = pd.to_numeric(body[k].astype(str).str.strip(), errors="coerce").to_numpy()
    out = out[out["city_id"].notna()].drop_duplicates("city_id")
    return out.reset_index(drop=True), ledger


# --------------------------------------------------------------------------- city-year assembly

def fill_series(values: pd.DataFrame, years: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide (city x year) values -> (filled values, provenance).

    Observed values stay 'observed'; gaps between two observed years are filled linearly
    ('interpolated'); gaps before the first or after the last observed year take the nearest
    observed value ('imputed'). Cities with no value at all stay NaN.
    """
    v = values.reindex(columns=years).astype(float)
    prov = pd.DataFrame(np.where(v.notna(), "observed", ""), index=v.index, columns=years)
    inner = v.interpolate(axis=1, limit_area="inside")
    prov = prov.mask((prov == "") & inner.notna(), "interpolated")
    filled = inner.ffill(axis=1).bfill(axis=1)
    prov = prov.mask((prov == "") & filled.notna(), "imputed")
    return filled, prov


def national_gfcf_ratio(raw_dir: Path | None) -> dict[int, float]:
    """Gross fixed capital formation (FU201) / total value added of the national IO tables."""
    out = {}
    for year, name in ((2012, "china_2012_139"), (2015, "china_2015_42"), (2017, "china_2017_42")):
        t = pd.read_csv(raw_path(f"national_io/{name}.csv", raw_dir), dtype={"Code": str})
        prod = t[t["Code"].str.fullmatch(r"\d+")]
        tva = t.loc[t["Code"] == "TVA"]
        if tva.empty or "FU201" not in t.columns:
            raise ValueError(f"national_io/{name}.csv: lacks the TVA row or the FU201 column")
        va = float(pd.to_numeric(tva[[c for c in t.columns if re.fullmatch(r"\d+", str(c))]].iloc[0]).sum())
        out[year] = float(pd.to_numeric(prod["FU201"]).sum()) / va
    return out


def city_statistics(raw_dir: Path | None, years: list[int]) -> dict[str, Any]:
    """All city-year inputs: {'wide': {var: city x year}, 'prov': {...}, 'yearbook': long, 'ledger'}."""
    ledgers = []
    d = lambda rel: raw_path(f"city_stats/{rel}", raw_dir)  # noqa: E731
    pop, led = read_panel(d("gp_pop_density_1998_2024.xlsx"), 0, ("城市",), ("年份",),
                          {"pop": ("常住人口",), "pop_interp": ("插值", "常住人口"), "area": ("土地面积",)})
    ledgers.append(led)
    gdp, led = read_panel(d("gp_gdp_296cities_base2000.xlsx"), "Sheet1", ("城市",), ("年份",),
                          {"gdp": ("名义GDP",)})
    ledgers.append(led)
    fdi, led = read_panel(d("gp_fdi_1996_2023.xlsx"), 0, ("地级市",), ("year",), {"fdi": ("外商直接投资",)})
    ledgers.append(led)
    fin, led = read_panel(d("gp_financial_development_2003_2023.xlsx"), 0, ("城市",), ("年份",),
                          {"deposits": ("存款余额",), "gdp_fin": ("地区生产总值",)})
    ledgers.append(led)
    ind, led = read_panel(d("gp_industry_structure_2000_2023.xlsx"), "面板数据2000-2023", ("城市名称",),
                          ("年度标识",), {"va1": ("第一产业增加值",), "va2": ("第二产业增加值",),
                                         "va3": ("第三产业增加值",)})
    ledgers.append(led)
    yb_frames = []
    for fy in range(min(years), max(years) + 2):
        try:
            p = raw_path(f"city_stats/yearbook_{fy}.xlsx", raw_dir)
        except FetchError:  # outside the yearbooks of the manifest (2011-2017)
            continue
        frame, led = parse_yearbook(p, fy)
        yb_frames.append(frame)
        ledgers.append(led)
    if not yb_frames:
        raise ValueError(f"no yearbook_YYYY.xlsx for the years {years}")
    yb = pd.concat(yb_frames, ignore_index=True)
    wide = lambda f, v: f.pivot_table(index="city_id", columns="year", values=v, aggfunc="first")  # noqa: E731
    raw_pop = wide(pop, "pop")
    interp_pop = wide(pop, "pop_interp")
    out, prov = {}, {}
    p_obs, p_prov = fill_series(raw_pop, years)
    alt = interp_pop.reindex(index=p_obs.index.union(interp_pop.index), columns=years)
    p_obs = p_obs.reindex(alt.index)
    p_prov = p_prov.reindex(alt.index).fillna("")
    use_alt = (p_prov != "observed") & alt.notna()
    p_obs = p_obs.mask(use_alt, alt)
    p_prov = p_prov.mask(use_alt, "interpolated")
    out["population"], prov["population"] = p_obs, p_prov
    g, gp = fill_series(wide(gdp, "gdp"), years)  # 100m yuan
    out["gdp"], prov["gdp"] = g, gp
    return {"wide": out, "prov": prov, "gdp": g, "gdp_prov": gp, "fdi": wide(fdi, "fdi"),
            "deposits": wide(fin, "deposits"), "area": wide(pop, "area"), "industry": ind,
            "yearbook": yb, "ledger": pd.concat(ledgers, ignore_index=True).drop_duplicates()}


def _worst(*provs: pd.DataFrame) -> pd.DataFrame:
    """Element-wise least reliable provenance (observed < interpolated < imputed)."""
    rank = {"observed": 0, "interpolated": 1, "imputed": 2, "": 3}
    inv = {v: k for k, v in rank.items()}
    r = provs[0].replace(rank).astype(int)
    for p in provs[1:]:
        r = np.maximum(r, p.replace(rank).astype(int))
    return r.replace(inv)


def city_year_table(ids: list[str], years: list[int], stats: dict[str, Any], gfcf: dict[int, float]
                    ) -> pd.DataFrame:
    """The bundle's city_year table over ``ids`` (every city must have population and GDP)."""
    from intercity import reference

    pop = stats["wide"]["population"].reindex(ids)
    pprov = stats["prov"]["population"].reindex(ids)
    gdp, gprov = stats["gdp"].reindex(ids), stats["gdp_prov"].reindex(ids)
    vals, provs = {}, {}
    vals["population"], provs["population"] = pop, pprov
    vals["gdp_per_capita"] = gdp / pop  # 100m yuan / 10k persons = 10k yuan per person
    provs["gdp_per_capita"] = _worst(gprov, pprov)
    fdi, fprov = fill_series(stats["fdi"].reindex(ids), years)
    rate = pd.Series({y: USD_CNY[y] for y in years})
    vals["fdi_gdp"] = (fdi.fillna(0.0) * rate / (gdp * 100.0))  # (1e6 USD * CNY/USD) / (1e8 yuan)
    provs["fdi_gdp"] = _worst(fprov.mask(fprov == "", "imputed"), gprov)
    yb = stats["yearbook"]
    yw = lambda v: yb.pivot_table(index="city_id", columns="year", values=v, aggfunc="first").reindex(ids)  # noqa: E731
    emp, eprov = fill_series(yw("employment"), years)
    vals["employment"], provs["employment"] = emp, eprov
    urb, uprov = fill_series(yw("pop_district") / yw("pop_total"), years)
    vals["urbanization"], provs["urbanization"] = urb, uprov.mask(uprov != "", "imputed")
    med = reference.descriptive_stats().set_index("variable")["median"]
    for var, stat in (("college_per_pop", "hcl"), ("trade_gdp", "ftl"), ("gov_exp_gdp", "gel")):
        vals[var] = pd.DataFrame(float(med[stat]), index=ids, columns=years)
        provs[var] = pd.DataFrame("imputed", index=ids, columns=years)
    ratio = pd.Series(np.interp(years, sorted(gfcf), [gfcf[y] for y in sorted(gfcf)]), index=years)
    vals["fixed_assets"] = gdp * 1e4 * ratio  # 10k yuan
    provs["fixed_assets"] = pd.DataFrame("imputed", index=ids, columns=years)
    dep, _ = fill_series(stats["deposits"].reindex(ids), years)
    dep_ratio = (dep / (gdp * 1e4)).median(axis=0)
    vals["liquid_assets"] = dep.fillna(gdp * 1e4 * dep_ratio)
    provs["liquid_assets"] = pd.DataFrame("imputed", index=ids, columns=years)
    res, _ = fill_series(yw("emp_research") * 1e4, years)
    vals["patents"] = res
    provs["patents"] = pd.DataFrame("imputed", index=ids, columns=years)
    frame = pd.DataFrame({"city_id": np.repeat(ids, len(years)),
                          "year": np.tile(np.asarray(years, dtype="int64"), len(ids))})
    for v in CITY_YEAR_VARS:
        frame[v] = vals[v].reindex(index=ids, columns=years).to_numpy().reshape(-1)
    for v in CITY_YEAR_VARS:
        frame[f"prov_{v}"] = pd.Categorical(provs[v].reindex(index=ids, columns=years).to_numpy().reshape(-1),
                                            categories=PROVENANCE)
    return frame


# --------------------------------------------------------------------------- HSR

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


# --------------------------------------------------------------------------- MRIO

#: First product (of 139) of each of the 42 sectors in the NBS 2012 table; a product belongs to
#: the sector whose first product is the largest not above its code.
FIRST_139 = {"01": 1, "02": 6, "03": 7, "04": 8, "05": 10, "06": 12, "07": 26, "08": 31, "09": 34,
             "10": 36, "11": 39, "12": 41, "13": 52, "14": 59, "15": 64, "16": 65, "17": 71, "18": 75,
             "19": 80, "20": 86, "21": 92, "22": 93, "23": 94, "24": 95, "25": 96, "26": 97, "27": 98,
             "28": 99, "29": 103, "30": 104, "31": 112, "32": 114, "33": 116, "34": 119, "35": 120,
             "36": 122, "37": 125, "38": 128, "39": 130, "40": 131, "41": 133, "42": 138}
DOMESTIC_FD = ("FU101", "FU102", "FU103", "FU201", "FU202")


def sector_of_139(code: int) -> str:
    """42-sector code of a product code 1..139 of the 2012 table."""
    if not 1 <= code <= 139:
        raise ValueError(f"product code {code} outside 1..139")
    return max((c for c, first in FIRST_139.items() if first <= code), key=lambda c: FIRST_139[c])


def national_table(raw_dir: Path | None, year: int) -> dict[str, np.ndarray]:
    """Domestic national system of one year, 42 sectors: Z (S,S), f (S,), x (S,); 10k yuan.

    2012: 139 products summed to 42 sectors by code; 2012 and 2015: imports removed with the
    proportional assumption; 2017: the table's own domestic-origin rows.
    """
    name = {2012: "china_2012_139", 2015: "china_2015_42", 2017: "china_2017_42"}.get(year)
    if name is None:
        raise ValueError(f"national IO table: no table for year {year} (have 2012, 2015, 2017)")
    path = raw_path(f"national_io/{name}.csv", raw_dir)
    t = pd.read_csv(path, dtype={"Code": str})
    num_cols = [c for c in t.columns if re.fullmatch(r"\d+", str(c))]
    if year == 2017:
        if "Origin" not in t.columns:
            raise ValueError(f"{path}: expected an 'Origin' column (domestic/imports split)")
        t = t[t["Origin"].astype(str).isin(["Domestic", "TOT"])]
    prod = t[t["Code"].str.fullmatch(r"\d+")]
    if year == 2012:
        keys = [sector_of_139(int(c)) for c in prod["Code"]]
        colkey = [sector_of_139(int(c)) for c in num_cols]
        z = prod[num_cols].apply(pd.to_numeric).to_numpy()
        z = pd.DataFrame(z, index=keys, columns=colkey).T.groupby(level=0).sum().T.groupby(level=0).sum()
        z = z.loc[list(SECTOR_CODES), list(SECTOR_CODES)].to_numpy()
        fd = prod[list(DOMESTIC_FD)].apply(pd.to_numeric).groupby(keys).sum().loc[list(SECTOR_CODES)].to_numpy()
        im = pd.to_numeric(prod["IM"]).groupby(keys).sum().loc[list(SECTOR_CODES)].to_numpy()
        ti = t.loc[t["Code"] == "TI", num_cols].apply(pd.to_numeric).iloc[0]
        x = ti.groupby(colkey).sum().loc[list(SECTOR_CODES)].to_numpy()
    else:
        if list(prod["Code"]) != list(SECTOR_CODES):
            raise ValueError(f"{path}: product rows are not the 42 sectors 01..42")
        z = prod[list(SECTOR_CODES)].apply(pd.to_numeric).to_numpy()
        fdcols = [c for c in DOMESTIC_FD if c in t.columns] if year == 2015 else ["TC", "FU201", "FU202"]
        fd = prod[fdcols].apply(pd.to_numeric).to_numpy()
        x = t.loc[t["Code"] == "TI", list(SECTOR_CODES)].apply(pd.to_numeric).iloc[0].to_numpy()
        im = pd.to_numeric(prod["IM"]).to_numpy() if year == 2015 else None
    if im is not None:
        z, fd = remove_imports_proportional(z, fd, np.abs(im), sectors=SECTOR_CODES)
    return {"Z": z, "f": fd.sum(axis=1), "x": x}


#: Distance elasticity of trade by tradability (gravity: flow ~ supply x demand x d^-elasticity).
DISTANCE_ELASTICITY = {"goods": 1.0, "services": 1.5, "local": 2.0}
LOCAL = ("25", "26", "27", "28")


def city_mrio(nat: dict[str, np.ndarray], ids: list[str], dist_km: np.ndarray, area_km2: np.ndarray,
              sector_weight: np.ndarray, gdp: np.ndarray) -> StructuredMRIO:
    """Regionalise a national table to cities (Chenery-Moses with a distance-gravity model).

    a_nat = Z / x (national domestic technical coefficients). City output of sector s is the
    national output split by ``sector_weight[i, s]`` (city sector structure); city final demand
    f[j, s] = national domestic final demand x GDP share of j. Trade shares
    t[s, i, j] ~ output[i, s] x d_ij ** -elasticity(s), with the internal distance of a city
    d_ii = (2/3) sqrt(area / pi) km (Head-Mayer) and d_ij >= d_ii.
    """
    S = len(SECTOR_CODES)
    x = np.asarray(nat["x"], float)
    a = np.divide(nat["Z"], x[None, :], out=np.zeros((S, S)), where=x[None, :] > 0)
    w = sector_weight / np.maximum(sector_weight.sum(axis=0, keepdims=True), 1e-300)
    out_city = w * x[None, :]  # (n, S)
    f = np.clip(nat["f"], 0.0, None)[None, :] * (gdp / gdp.sum())[:, None]
    internal = (2.0 / 3.0) * np.sqrt(np.asarray(area_km2, float) / np.pi)
    d = np.maximum(np.asarray(dist_km, float), internal[:, None])
    np.fill_diagonal(d, internal)
    el = np.array([DISTANCE_ELASTICITY["local"] if c in LOCAL else DISTANCE_ELASTICITY["services"]
                   if int(c) >= 29 else DISTANCE_ELASTICITY["goods"] for c in SECTOR_CODES])
    shares = out_city.T[:, :, None] * d[None, :, :] ** (-el[:, None, None])  # (S, n, n)
    col = shares.sum(axis=1, keepdims=True)
    empty = col[:, 0, :] <= 0  # product with no supplier in the sample: use local supply
    shares = np.divide(shares, col, out=np.zeros_like(shares), where=col > 0)
    for s, j in zip(*np.nonzero(empty)):
        shares[s, j, j] = 1.0
    return StructuredMRIO(cities=tuple(ids), sectors=SECTOR_CODES, a_nat=a, shares=shares, final_demand=f)


def sector_weights(ids: list[str], year: int, yearbook: pd.DataFrame, industry: pd.DataFrame,
                   nat_x: np.ndarray) -> tuple[np.ndarray, str]:
    """City x sector weights: value added of the city's industry (1st/2nd/3rd, G-P panel) split
    over its sectors by yearbook employment, then within a yearbook category by national output.

    Uses the latest yearbook year <= ``year``; returns (weights (n, S), note on the years used).
    """
    yb_years = sorted(y for y in yearbook["year"].unique() if y <= year)
    if not yb_years:
        raise ValueError(f"no yearbook data for {year} or earlier")
    yy = yb_years[-1]
    yb = yearbook[yearbook["year"] == yy].set_index("city_id").reindex(ids)
    ind = industry[industry["year"] == year].set_index("city_id").reindex(ids)
    S = len(SECTOR_CODES)
    ind_of = np.array([1 if c == "01" else 2 if int(c) <= 28 else 3 for c in SECTOR_CODES])
    cats = [SECTOR_TO_YB[c] for c in SECTOR_CODES]
    emp = np.column_stack([yb[f"emp_{c}"].to_numpy(float) for c in cats])  # (n, S), repeated by category
    emp = np.nan_to_num(emp, nan=0.0)
    # national output share of each sector within its yearbook category
    cat_tot = pd.Series(nat_x).groupby(cats).transform("sum").to_numpy()
    within = np.divide(nat_x, cat_tot, out=np.zeros(S), where=cat_tot > 0)
    # employment of each category counted once per industry group
    uniq = {}
    for s, c in enumerate(cats):
        uniq.setdefault((ind_of[s], c), s)
    emp_group = np.zeros((len(ids), 4))
    for (g, _c), s in uniq.items():
        emp_group[:, g] += emp[:, s]
    va = np.column_stack([np.zeros(len(ids))] + [ind[f"va{g}"].to_numpy(float) for g in (1, 2, 3)])
    va = np.nan_to_num(va, nan=0.0)
    share = np.divide(emp, emp_group[:, ind_of], out=np.zeros_like(emp), where=emp_group[:, ind_of] > 0)
    share[:, ind_of == 1] = 1.0
    w = va[:, ind_of] * share * within[None, :]
    return w, f"employment structure of yearbook data year {yy}, value added of {year}"


# --------------------------------------------------------------------------- build

def select(universe: pd.DataFrame, available: dict[str, set[str]], n_cities: int | None,
           rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Drop admin-change cities and cities an input lacks; optionally keep ``n_cities`` of the rest."""
    rows = []
    keep = []
    for _, c in universe.iterrows():
        if c.city_id in ADMIN_CHANGES_2012_2017:
            rows.append(("universe", "city", c.city_id, c.name_zh,
                         f"administrative change 2012-2017: {ADMIN_CHANGES_2012_2017[c.city_id]}"))
            continue
        lacking = [what for what, have in available.items() if c.city_id not in have]
        if lacking:
            rows.append(("universe", "city", c.city_id, c.name_zh, "missing from input(s): " + "; ".join(lacking)))
            continue
        keep.append(c.city_id)
    kept = universe[universe["city_id"].isin(keep)].reset_index(drop=True)
    if n_cities is not None and n_cities < len(kept):
        group = np.where(kept["city_id"].isin(MUNICIPALITIES), 0, np.where(kept["city_id"].str[2:] == "0100", 1, 2))
        order = np.lexsort((rng.permutation(len(kept)), group))
        mask = np.zeros(len(kept), bool)
        mask[order[:n_cities]] = True
        for _, c in kept[~mask].iterrows():
            rows.append(("sample", "city", c.city_id, c.name_zh, f"not sampled: cut to {n_cities} cities"))
        kept = kept[mask].reset_index(drop=True)
    return kept.sort_values("city_id").reset_index(drop=True), _ledger(rows)


def build(n_cities: int | None = None, seed: int = 0, years: list[int] | None = None,
          periods: list[tuple[int, int]] | None = None, mrio_years: tuple[int, ...] = (2012, 2015, 2017),
          raw_dir: Path | str | None = None) -> dict[str, Any]:
    """Every table of the public StudyData bundle (keys as :func:`synthetic.generate` returns)."""
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
    cities, ledger = select(universe, available, n_cities, rng)
    ids = cities["city_id"].tolist()
    pos = [all_ids.index(c) for c in ids]
    city_year = city_year_table(ids, years, stats, national_gfcf_ratio(raw_dir))
    lines, hled = hsr_lines(raw_dir)
    hsr = hsr_counts(lines, ids, years)
    n = len(ids)
    oi, dj = np.nonzero(~np.eye(n, dtype=bool))
    idx = np.stack([bidx[y][np.ix_(pos, pos)] for y in years], axis=2)
    miss = np.isnan(idx)
    idx_prov = np.where(miss, "imputed", "observed")
    idx = np.where(miss, 0.0, idx)
    pair_year = pd.DataFrame({
        "origin": np.tile(np.asarray(ids)[oi], len(years)),
        "dest": np.tile(np.asarray(ids)[dj], len(years)),
        "year": np.repeat(np.asarray(years, dtype="int64"), len(oi)),
        "hsr_lines": np.concatenate([hsr[oi, dj, k] for k in range(len(years))]).astype("int64"),
        "baidu_index": np.concatenate([idx[oi, dj, k] for k in range(len(years))]),
    })
    pair_year["prov_hsr_lines"] = pd.Categorical(["observed"] * len(pair_year), categories=PROVENANCE)
    pair_year["prov_baidu_index"] = pd.Categorical(
        np.concatenate([idx_prov[oi, dj, k] for k in range(len(years))]), categories=PROVENANCE)
    # MRIO
    dist = great_circle_km(cities["lon"].to_numpy(), cities["lat"].to_numpy())
    area = stats["area"].reindex(ids)
    area = area.ffill(axis=1).bfill(axis=1).iloc[:, -1].fillna(area.stack().median()).to_numpy()
    ind = stats["industry"]
    gdp_w = stats["gdp"].reindex(ids)
    mrio, notes = {}, {}
    for y in mrio_years:
        nat = national_table(raw_dir, y)
        w, note = sector_weights(ids, y, stats["yearbook"], ind, nat["x"])
        mrio[y] = city_mrio(nat, ids, dist, area, w, gdp_w[y].to_numpy(float))
        notes[y] = note
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
        "hsr": {"lines": int(len(lines)), "pairs_with_hsr_last_year": int((hsr[:, :, -1] > 0).sum() // 2),
                "missing": "intermediate stations the line list omits; lines opened after the list's "
                           "snapshot; no line-level data for conventional lines upgraded to HSR"},
        "variables": VARIABLE_SOURCES, "provenance_shares": cov,
        "mrio": {"note": CEADS_STANDIN, "sector_structure": {str(k): v for k, v in notes.items()},
                 "distance_elasticity": DISTANCE_ELASTICITY,
                 "imports": "proportional assumption (2012, 2015); domestic-origin rows (2017)"},
    }
    return {"cities": cities, "city_year": city_year, "pair_year": pair_year, "mrio": mrio,
            "ledger": ledger, "hsr_lines": lines, "meta": meta}
