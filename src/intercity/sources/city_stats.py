"""City statistics of the public source: G-P city panels and the City Statistical Yearbooks.

How each city-year variable is built, and its provenance (observed, interpolated, proxy, imputed),
is :data:`VARIABLE_SOURCES`. Columns of the workbooks are found by header meaning, never by
position; the yearbook of year YYYY reports year YYYY-1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from intercity import reference
from intercity.schema import CITY_YEAR_VARS, city_year_frame
from intercity.sectors import SECTOR_CODES
from intercity.sources import names as N
from intercity.sources.fetch import FetchError, raw_path

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
    "urbanization": "proxy: registered population of the urban districts (市辖区) / of the "
                    "whole city (全市), yearbook; not the resident urbanisation rate of the study",
    "college_per_pop": "imputed: the study's published sample median (descriptive_stats hcl), "
                       "constant; no public city file has college enrolment",
    "trade_gdp": "imputed: the study's published sample median (ftl), constant; no public file",
    "gov_exp_gdp": "imputed: the study's published sample median (gel), constant; no public file",
    "fixed_assets": "proxy (GDP-derived, no city variation beyond GDP): nominal GDP x national gross "
                    "fixed capital formation / value added of the national IO table (2012, 2015, 2017; "
                    "linear in between), 10k yuan; no public city file has fixed assets",
    "liquid_assets": "proxy: year-end deposits of financial institutions, 10k yuan (G-P "
                     "financial panel); where missing, GDP x that year's median deposits/GDP ('imputed')",
    "patents": "proxy (NOT patent counts): persons employed in scientific research and "
               "technical services (yearbook), persons; no public city patent file",
}

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
    frame = pd.read_excel(path, sheet_name=sheet, engine="openpyxl")
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
#: The book's IO sectors (:data:`intercity.sectors.SECTOR_CODES`) -> yearbook category: mining
#: 02-05, manufacturing 06-24 (22 includes waste resources, 24 is repair), utilities 25-27.
SECTOR_TO_YB: dict[str, str] = {
    c: ("agri" if c == "01" else "mining" if c <= "05" else "manuf" if c <= "24" else "utilities" if c <= "27"
        else {"28": "construction", "29": "trade", "30": "transport", "31": "hotels", "32": "ict",
              "33": "finance", "34": "realestate", "35": "leasing", "36": "research", "37": "water",
              "38": "resident", "39": "education", "40": "health", "41": "culture", "42": "public"}[c])
    for c in SECTOR_CODES}


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
    raw = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
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
    """Element-wise least reliable provenance (observed < interpolated < proxy < imputed)."""
    rank = {"observed": 0, "interpolated": 1, "proxy": 2, "imputed": 3, "": 4}
    inv = {v: k for k, v in rank.items()}
    r = provs[0].replace(rank).astype(int)
    for p in provs[1:]:
        r = np.maximum(r, p.replace(rank).astype(int))
    return r.replace(inv)


def city_year_table(ids: list[str], years: list[int], stats: dict[str, Any], gfcf: dict[int, float]
                    ) -> pd.DataFrame:
    """The bundle's city_year table over ``ids`` (every city must have population and GDP)."""
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
    vals["urbanization"], provs["urbanization"] = urb, uprov.mask(uprov.isin(["observed", "interpolated"]), "proxy")
    med = reference.descriptive_stats().set_index("variable")["median"]
    for var, stat in (("college_per_pop", "hcl"), ("trade_gdp", "ftl"), ("gov_exp_gdp", "gel")):
        vals[var] = pd.DataFrame(float(med[stat]), index=ids, columns=years)
        provs[var] = pd.DataFrame("imputed", index=ids, columns=years)
    ratio = pd.Series(np.interp(years, sorted(gfcf), [gfcf[y] for y in sorted(gfcf)]), index=years)
    vals["fixed_assets"] = gdp * 1e4 * ratio  # 10k yuan
    provs["fixed_assets"] = gprov.mask(gprov.isin(["observed", "interpolated"]), "proxy")
    dep, dprov = fill_series(stats["deposits"].reindex(ids), years)
    dep_ratio = (dep / (gdp * 1e4)).median(axis=0)
    vals["liquid_assets"] = dep.fillna(gdp * 1e4 * dep_ratio)
    provs["liquid_assets"] = dprov.mask(dprov.isin(["observed", "interpolated"]), "proxy").mask(dprov == "", "imputed")
    res, rprov = fill_series(yw("emp_research") * 1e4, years)
    vals["patents"] = res
    provs["patents"] = rprov.mask(rprov.isin(["observed", "interpolated"]), "proxy")
    return city_year_frame(ids, years,
                           {v: vals[v].reindex(index=ids, columns=years).to_numpy() for v in CITY_YEAR_VARS},
                           {v: provs[v].reindex(index=ids, columns=years).to_numpy() for v in CITY_YEAR_VARS})
