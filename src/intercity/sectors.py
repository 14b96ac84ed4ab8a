"""The book's sector scheme and its concordance with NBS's sector lists of 2012, 2015 and 2017.

**The book's scheme (41 sectors).** NBS changed its 42-sector list in 2017: it merged "other
manufacturing" (2012 code 22) with "comprehensive use of waste resources" (23) into one sector
(2017 code 22) and split "scientific research and technical services" (2012 code 36) into
"research and experimental development" (2017 code 35) and "technical services" (36); every code
from 23 to 34 therefore shifts by one (2017 code 24 is electricity and heat, 2012 code 25; 2017
code 31 is information and software, 2012 code 32). The finest scheme on which all three years
agree *exactly* is the 2012/2015 list with 22 and 23 merged: 41 sectors. Splitting the 2017 sector
22 (or the 2015 sector 36) would need an assumption about how the merged sector's inputs and
sales divide; merging needs none. The book keeps the 2012/2015 codes (``"01".."42"`` without
``"23"``, which is merged into ``"22"``), so the study's three sector groups keep their codes and
their meaning: labour-intensive = ``01`` agriculture, capital-intensive = ``25`` electricity and
heat, technology-intensive = ``32`` information transmission, software and IT services.

**The concordance** (``data/reference/sector_concordance.csv``, committed; one row per row of
each NBS list, with its code, English and Chinese descriptions as the NBS files give them, the
book sector and a note where NBS merged or split) maps every list to the book's scheme *by
description*, never by code number. Lists (``table``): ``nbs2012_139`` (the 2012 table's 139
products), ``nbs2012_42`` (NBS's 2012 42-sector list, the same list as the 2015 extension
table's), ``nbs2015_42``, ``nbs2017_42`` and ``nbs2017_149`` (the 2017 table's 149 products).
:func:`aggregation_matrix` maps any table's row or column labels (English or Chinese
descriptions of that year's lists, or the book's own descriptions) to the book's scheme and
refuses, naming it, any label it does not know; :func:`nbs_sectors` gives the 42-sector list of a
year in NBS order (for files that carry no labels, e.g. a CEADs ``.mat``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

import numpy as np
import pandas as pd

from intercity import paths

#: The book's 41 sectors: code (the 2012/2015 NBS code), English and Chinese description.
_SECTORS: tuple[tuple[str, str, str], ...] = (
    ("01", "Agriculture, forestry, animal husbandry and fishery", "农林牧渔产品和服务"),
    ("02", "Mining and washing of coal", "煤炭采选产品"),
    ("03", "Exploitation of petroleum and natural gas", "石油和天然气开采产品"),
    ("04", "Mining and processing of metal ores", "金属矿采选产品"),
    ("05", "Mining and processing of nonmetal and other ores", "非金属矿和其他矿采选产品"),
    ("06", "Manufacture of foods and tobacco", "食品和烟草"),
    ("07", "Manufacture of textiles", "纺织品"),
    ("08", "Manufacture of wearing apparel, leather, fur, feather and related products", "纺织服装鞋帽皮革羽绒及其制品"),
    ("09", "Processing of timber and furniture", "木材加工品和家具"),
    ("10", "Manufacture of paper, printing, and articles for culture, education, sports", "造纸印刷和文教体育用品"),
    ("11", "Processing of petroleum, coking, and nuclear fuel", "石油、炼焦产品和核燃料加工品"),
    ("12", "Manufacture of chemical products", "化学产品"),
    ("13", "Manufacture of non-metallic mineral products", "非金属矿物制品"),
    ("14", "Smelting and processing of metals", "金属冶炼和压延加工品"),
    ("15", "Manufacture of metal products", "金属制品"),
    ("16", "Manufacture of general purpose machinery", "通用设备"),
    ("17", "Manufacture of special purpose machinery", "专用设备"),
    ("18", "Manufacture of transport equipment", "交通运输设备"),
    ("19", "Manufacture of electrical machinery and equipment", "电气机械和器材"),
    ("20", "Manufacture of communication equipment, computers and other electronic equipment", "通信设备、计算机和其他电子设备"),
    ("21", "Manufacture of instruments and meters", "仪器仪表"),
    ("22", "Other manufacturing and waste resources", "其他制造产品和废品废料"),
    ("24", "Repair of metal products, machinery and equipment", "金属制品、机械和设备修理服务"),
    ("25", "Production and supply of electric power and heat power", "电力、热力的生产和供应"),
    ("26", "Production and supply of gas", "燃气生产和供应"),
    ("27", "Production and supply of water", "水的生产和供应"),
    ("28", "Construction", "建筑"),
    ("29", "Wholesale and retail trades", "批发和零售"),
    ("30", "Transport, storage, and postal services", "交通运输、仓储和邮政"),
    ("31", "Accommodation and catering", "住宿和餐饮"),
    ("32", "Information transmission, software and information technology services", "信息传输、软件和信息技术服务"),
    ("33", "Finance", "金融"),
    ("34", "Real estate", "房地产"),
    ("35", "Leasing and commercial services", "租赁和商务服务"),
    ("36", "Scientific research and technical services", "科学研究和技术服务"),
    ("37", "Management of water conservancy, environment and public facilities", "水利、环境和公共设施管理"),
    ("38", "Resident, repair and other services", "居民服务、修理和其他服务"),
    ("39", "Education", "教育"),
    ("40", "Health care and social work", "卫生和社会工作"),
    ("41", "Culture, sports, and entertainment", "文化、体育和娱乐"),
    ("42", "Public administration, social security, and social organizations", "公共管理、社会保障和社会组织"),
)

#: The study's sector groups ("Heterogeneity" in the deck): book sector codes per group.
SECTOR_GROUPS: dict[str, tuple[str, ...]] = {
    "labor": ("01",),  # agriculture, forestry, livestock, fishery products and services
    "capital": ("25",),  # production and supply of electricity and heat
    "tech": ("32",),  # information transmission, software and IT services
}

#: The book's sector codes, in order (41; "23" is merged into "22").
SECTOR_CODES: tuple[str, ...] = tuple(code for code, _, _ in _SECTORS)
N_SECTORS: int = len(SECTOR_CODES)
#: Sectors whose products are mostly local: electricity and heat, gas, water, construction.
LOCAL_SECTORS: tuple[str, ...] = ("25", "26", "27", "28")
#: Book codes of the services sectors (wholesale and retail onwards).
SERVICE_SECTORS: tuple[str, ...] = tuple(c for c in SECTOR_CODES if int(c) >= 29)

#: The committed concordance file.
CONCORDANCE_FILE = paths.REFERENCE_DIR / "sector_concordance.csv"
#: The NBS lists in the concordance: table name -> (year, what it is).
TABLES: dict[str, tuple[int, str]] = {
    "nbs2012_139": (2012, "NBS 2012 IO table, 139 products"),
    "nbs2012_42": (2012, "NBS 2012 42-sector list (the same list as the 2015 extension table's)"),
    "nbs2015_42": (2015, "NBS 2015 extension IO table, 42 sectors (2012 classification)"),
    "nbs2017_42": (2017, "NBS 2017 IO table, 42 sectors (2017 classification)"),
    "nbs2017_149": (2017, "NBS 2017 IO table, 149 products"),
}
#: The 42-sector list of each year (the list CEADs city tables of that year follow).
SECTOR_LIST_42: dict[int, str] = {2012: "nbs2012_42", 2015: "nbs2015_42", 2017: "nbs2017_42"}
_COLUMNS = ("table", "year", "code", "description_en", "description_zh", "sector", "sector_en", "note")


class ConcordanceError(ValueError):
    """A sector label or the concordance file cannot be mapped to the book's scheme."""


def tradability(code: str) -> str:
    """How far a book sector's product travels: "local" (utilities, construction), "services"
    (codes 29-42) or "goods" (agriculture, mining, manufacturing)."""
    if code not in SECTOR_CODES:
        raise ConcordanceError(f"sector code {code!r} is not a book sector (have {SECTOR_CODES[0]}..{SECTOR_CODES[-1]})")
    return "local" if code in LOCAL_SECTORS else "services" if code in SERVICE_SECTORS else "goods"


def sector_table() -> pd.DataFrame:
    """One row per book sector: code, name_en, name_zh, group (labor/capital/tech or "")."""
    group_of = {c: g for g, codes in SECTOR_GROUPS.items() for c in codes}
    return pd.DataFrame(
        [(c, en, zh, group_of.get(c, "")) for c, en, zh in _SECTORS],
        columns=["code", "name_en", "name_zh", "group"],
    )


def normalise(label: object) -> str:
    """Matching key of a sector description: Unicode NFKC (full-width to half-width), case folded,
    every character that is not a letter or digit removed ("Scientific research, and technical
    services" and "scientific research and technical services" have the same key)."""
    text = unicodedata.normalize("NFKC", str(label)).casefold().replace("&", "and")
    return re.sub(r"[\W_]+", "", text)


@lru_cache(maxsize=None)
def _load() -> pd.DataFrame:
    path = CONCORDANCE_FILE
    if not path.is_file():
        raise ConcordanceError(f"{path}: the sector concordance file is missing")
    c = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [k for k in _COLUMNS if k not in c.columns]
    if missing:
        raise ConcordanceError(f"{path}: lacks column(s) {missing} (have {list(c.columns)})")
    c = c[list(_COLUMNS)].copy()
    for k, row in enumerate(c.itertuples(index=False), start=2):  # line 1 is the header
        where = f"{path}, line {k} ({row.table} code {row.code})"
        if row.table not in TABLES:
            raise ConcordanceError(f"{where}: unknown table {row.table!r} (have {sorted(TABLES)})")
        if str(TABLES[row.table][0]) != row.year:
            raise ConcordanceError(f"{where}: year {row.year} but {row.table} is of {TABLES[row.table][0]}")
        if row.sector not in SECTOR_CODES:
            raise ConcordanceError(f"{where}: book sector {row.sector!r} is not one of {SECTOR_CODES}")
        if row.sector_en != _SECTORS[SECTOR_CODES.index(row.sector)][1]:
            raise ConcordanceError(f"{where}: sector_en {row.sector_en!r} is not the name of book sector {row.sector}")
        if not row.description_zh or not row.description_en:
            raise ConcordanceError(f"{where}: an empty description")
    c["year"] = c["year"].astype(int)
    for table, rows in c.groupby("table"):
        if rows["code"].duplicated().any():
            raise ConcordanceError(f"{path}: {table} lists code(s) {sorted(set(rows['code'][rows['code'].duplicated()]))} twice")
        lacking = sorted(set(SECTOR_CODES) - set(rows["sector"]))
        if lacking:
            raise ConcordanceError(f"{path}: no row of {table} maps to book sector(s) {lacking}")
    _keys(c)  # every description of a year names one book sector
    return c


def _keys(c: pd.DataFrame) -> dict[int, dict[str, str]]:
    """Per year: normalised description (English or Chinese, of any of the year's lists, and the
    book's own descriptions) -> book sector. Raises if a description names two book sectors."""
    out: dict[int, dict[str, str]] = {}
    book = {normalise(t): code for code, en, zh in _SECTORS for t in (en, zh)}
    for year, rows in c.groupby("year"):
        keys: dict[str, tuple[str, str]] = {}
        for row in rows.itertuples(index=False):
            for text in (row.description_en, row.description_zh):
                key = normalise(text)
                seen = keys.get(key)
                if seen is not None and seen[0] != row.sector:
                    raise ConcordanceError(
                        f"{CONCORDANCE_FILE}: {year} description {text!r} maps to book sector {row.sector}"
                        f" ({row.table} {row.code}) and to {seen[0]} ({seen[1]})")
                keys[key] = (row.sector, f"{row.table} {row.code}")
        merged = {k: v[0] for k, v in keys.items()}
        for key, code in book.items():
            if merged.setdefault(key, code) != code:
                raise ConcordanceError(f"{CONCORDANCE_FILE}: the book's description of sector {code} is a {year}"
                                       f" description of book sector {merged[key]} ({keys[key][1]})")
        out[int(year)] = merged
    return out


@lru_cache(maxsize=None)
def _year_keys() -> dict[int, dict[str, str]]:
    return _keys(_load())


def concordance(year: int | None = None) -> pd.DataFrame:
    """The concordance rows (all years, or those of ``year``): columns table, year, code,
    description_en, description_zh (as in the NBS files, except where ``note`` says), sector (the
    book sector code), sector_en, note. Raises :class:`ConcordanceError` for a year without lists."""
    c = _load()
    if year is None:
        return c.copy()
    if int(year) not in set(c["year"]):
        raise ConcordanceError(f"no NBS sector list for year {year} (have {sorted(set(c['year']))})")
    return c[c["year"] == int(year)].reset_index(drop=True)


def nbs_sectors(year: int) -> pd.DataFrame:
    """NBS's 42-sector list of ``year`` (2012, 2015 or 2017), in NBS order: code, description_en,
    description_zh, sector (book code). The list a CEADs city table of that year follows."""
    if int(year) not in SECTOR_LIST_42:
        raise ConcordanceError(f"no NBS 42-sector list for year {year} (have {sorted(SECTOR_LIST_42)})")
    c = _load()
    rows = c[c["table"] == SECTOR_LIST_42[int(year)]]
    return rows[["code", "description_en", "description_zh", "sector"]].reset_index(drop=True)


def sector_of(label: object, year: int) -> str:
    """The book sector code of one sector description of ``year`` (English or Chinese, of any of
    the year's NBS lists, or the book's own description). Raises :class:`ConcordanceError`
    naming the label if it is not known."""
    return _map([label], year, "label")[0]


def _map(labels: list, year: int, what: str) -> list[str]:
    keys = _year_keys()
    if int(year) not in keys:
        raise ConcordanceError(f"no NBS sector list for year {year} (have {sorted(keys)})")
    table = keys[int(year)]
    out = []
    for k, label in enumerate(labels):
        code = table.get(normalise(label))
        if code is None:
            raise ConcordanceError(
                f"{what} {k} {str(label)!r} is not a sector description of NBS's {year} lists"
                f" ({', '.join(t for t, (y, _) in TABLES.items() if y == int(year))}) nor of the"
                f" book's scheme: see {CONCORDANCE_FILE.name}")
        out.append(code)
    return out


def aggregation_matrix(labels: Iterable[object], year: int, complete: bool = True,
                       what: str = "sector label") -> pd.DataFrame:
    """0/1 matrix (len(labels), N_SECTORS) mapping a table's sector labels to the book's sectors.

    ``labels``: the table's row (or column) labels, in order: sector descriptions, English or
    Chinese, of NBS's lists of ``year`` (:func:`concordance`) or the book's own descriptions;
    matched after :func:`normalise`, never by code number. Row k has a single 1, in the column of
    the book sector of label k; index = the labels, columns = :data:`SECTOR_CODES`. Aggregate a
    table with ``M.T @ Z @ M`` (flows), ``M.T @ f`` (a column vector) or ``x @ M`` (a row vector).
    Raises :class:`ConcordanceError` naming the first label (``what`` and position) that is not
    a known description, and, if ``complete``, naming the book sectors no label reaches.
    """
    labels = list(labels)
    codes = _map(labels, year, what)
    M = np.zeros((len(labels), N_SECTORS))
    M[np.arange(len(labels)), [SECTOR_CODES.index(c) for c in codes]] = 1.0
    if complete:
        lacking = [SECTOR_CODES[s] for s in np.flatnonzero(M.sum(axis=0) == 0)]
        if lacking:
            raise ConcordanceError(f"the {len(labels)} {what}s of {year} reach no row of book sector(s) {lacking}")
    return pd.DataFrame(M, index=pd.Index([str(v) for v in labels], name=what), columns=list(SECTOR_CODES))


def _ranges(codes: list[str]) -> str:
    """"001-005, 007" from a list of numeric code strings."""
    nums = sorted(int(c) for c in codes)
    width = max(len(c) for c in codes)
    out, start = [], nums[0]
    for a, b in zip(nums, nums[1:] + [None]):
        if b != a + 1:
            out.append(f"{start:0{width}d}" if start == a else f"{start:0{width}d}-{a:0{width}d}")
            start = b
    return ", ".join(out)


def concordance_table() -> pd.DataFrame:
    """The concordance as the book prints it: one row per book sector with the codes of every NBS
    list that map to it (2012 products, 2012/2015 sectors, 2017 sectors, 2017 products), the
    study's group, and a note where NBS merged or split sectors."""
    c = _load()
    out = sector_table().rename(columns={"code": "book code", "name_en": "book sector", "name_zh": "中文"})
    cols = {"nbs2012_139": "2012 products (139)", "nbs2015_42": "2012/2015 sectors (42)",
            "nbs2017_42": "2017 sectors (42)", "nbs2017_149": "2017 products (149)"}
    for table, col in cols.items():
        rows = c[c["table"] == table]
        out[col] = out["book code"].map(lambda s, r=rows: _ranges(r.loc[r["sector"] == s, "code"].tolist()))
    notes = {"22": "2012/2015 sectors 22 (other manufacturing) and 23 (waste resources), merged as in NBS 2017",
             "36": "NBS 2017 splits it into 35 (R&D) and 36 (technical services): merged back"}
    shifted = {s for s in SECTOR_CODES if c[(c["table"] == "nbs2017_42") & (c["sector"] == s)]["code"].tolist() != [s]}
    out["note"] = [notes.get(s, "2017 code one lower (after NBS's 2017 merge of 22 and 23)" if s in shifted else "") for s in out["book code"]]
    return out
