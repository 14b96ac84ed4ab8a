"""Reader of a user's own copy of the CEADs city MRIO, by a DECLARED layout (never guessed).

The CEADs city-level MRIO tables (2012: Zheng et al. 2021, "Entropy-based Chinese city-level MRIO
table framework", Economic Systems Research, doi:10.1080/09535314.2021.1932764; 2015 and 2017 by
the same group; 309-313 cities x 42 sectors) are not redistributable and not in the mirror: a
user supplies them. They are distributed as a MATLAB struct ``MRIO`` (fields ``Z``, ``F``, ``VA``,
``IM``, ``Export``) or as spreadsheets laid out like the CEADs provincial tables.

Imports (how the table records them, and what this loader does)
---------------------------------------------------------------
The CEADs MRIO tables are *non-competitive*: following the structure of Mi et al. (2018, Scientific
Data 5:180155, Table 5; the CEADs 2012 MRIO behind Mi et al. 2017, Nature Communications 8:1712),
``Z`` and the final demand ``F`` hold DOMESTIC products only; imports are a separate ROW (imports
used by each column of ``Z``, and by each final-demand column), exports a column, and a balancing
column "Others" may follow. The balances are::

    row (city i, sector s):    x = Z 1 + F 1 + Export + Other
    column (city j, sector r): x = 1'Z + IM + VA          (IM, VA summed over their rows)

With ``Layout.imports = "row"`` (the default, CEADs) ``Z`` and ``F`` are used as they are and the
IM row(s) enter the column balance only. Tables that instead record *competitive* imports (a
column of imports by row product, as NBS's national tables do) are declared with
``imports = "column"``: the import column ``M`` is removed from every use of the row's product in
proportion to its total domestic use (:func:`intercity.mrio.remove_imports_proportional`, the
proportional import assumption), the row balance is ``x = Z 1 + F 1 + Export + Other - M`` and the
column balance ``x = 1'Z + VA``. The method is chosen by the declared layout, never from the file.
(The city tables' own layout documentation was not at hand when this was written: the
non-competitive form is the one documented for the CEADs 2012 MRIO above, and it matches the city
``.mat`` struct's separate ``IM`` field. A holder whose copy differs declares it.)

Layouts
-------
``.mat``: struct ``Layout.struct`` (``MRIO``) with fields named in ``Layout.mat_fields``: ``Z``
(N x N, N = cities x sectors, city-major rows ``k = i*S + s``), ``F`` (N x n*K: K final-demand
categories per demanding city, city-major blocks unless ``fd_order = "category-major"``), optional
``Export`` and ``Other`` (N x k columns, summed), ``VA`` (k x N rows, summed), ``IM`` or ``Import``
(row mode: k x N, or k x (N + n*K) with the imports used by final demand after the first N;
column mode: N x 1), ``X`` (N gross output, checked). Any field may be a scipy sparse matrix. A
vector stored the other way round (1 x N for N x 1) is accepted and reported. MATLAB v7.3 (HDF5)
files are refused: save with ``save(file, 'MRIO', '-v7')``.

``.xlsx``: ``header_rows`` header rows; then one row per (city, sector), city-major, then optional
trailing rows (imports, value added, total input). Leading LABEL columns are found by their
header text (``city_headers``, ``sector_code_headers``, ``sector_name_headers``, in any order);
then N intermediate-use columns; then columns each recognised by a header cell: a declared
final-demand category (``fd_categories``), total output (``total_headers``), a subtotal
(``subtotal_words``: checked against the sums it can be -- Z 1, F 1, a city's final-demand block
-- and dropped, never counted), Export, Import, Other; with ``fd_categories`` not
declared, the final-demand vocabulary ``FD_WORDS`` is used. A column recognised as nothing is
refused, naming it. Final-demand columns come in n city blocks of the same K categories. Blank
cells are zeros and reported by cell (``blank = "zero"``) or refused (``blank = "refuse"``).
Spreadsheets are read with python-calamine (``engine = "calamine"``) or openpyxl (streaming).

Units: ``Layout.unit`` (yuan, 10k yuan, million yuan, 100 million yuan, or 元/万元/百万元/亿元) is
converted to the book's 10k yuan. Negative final demand (inventory drawdowns) is data: kept.
Sectors: the file's sector codes are checked against ``Layout.sectors``; the sector LABELS
(descriptions from a sector-name column, else ``Layout.sector_labels``, else the codes) are
returned with the table (``CEADsTable.sector_labels``) for the description-keyed concordance of
:mod:`intercity.sectors`: NBS's 42-sector list changed in 2017, so codes are never mapped here.
Cities: a city list in file order (:func:`read_city_list`; names or adcodes matched through the
alias table :func:`intercity.sources.names.match_names`).

Every error is a :class:`CEADSError` whose one-line message names the file, the sheet or field
and the cell, row or column at fault.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from intercity.mrio import DenseMRIO, MRIOError, remove_imports_proportional

__all__ = ["CEADSError", "Layout", "Note", "Report", "CEADsTable", "UNITS", "read", "read_years",
           "read_city_list", "resolve_cities", "reports_frame", "load", "load_mat", "load_xlsx"]

#: The codes of NBS's 42-sector lists ("01".."42"; the same codes in 2012, 2015 and 2017, with
#: different meanings from 22 on: see :mod:`intercity.sectors`), the sectors of a CEADs city table.
NBS_CODES: tuple[str, ...] = tuple(f"{k:02d}" for k in range(1, 43))

#: Money units a table may be declared in -> factor to the book's 10k yuan (万元).
UNITS: dict[str, float] = {"yuan": 1e-4, "10k yuan": 1.0, "million yuan": 100.0, "100 million yuan": 1e4}
_UNIT_ALIASES = {"元": "yuan", "万元": "10k yuan", "百万元": "million yuan", "亿元": "100 million yuan",
                 "10k_yuan": "10k yuan", "10000 yuan": "10k yuan", "million_yuan": "million yuan",
                 "100m yuan": "100 million yuan", "100_million_yuan": "100 million yuan"}

#: Final-demand vocabulary used when ``Layout.fd_categories`` is not declared (NBS/CEADs names).
FD_WORDS: tuple[str, ...] = ("consumption", "消费", "capital formation", "资本形成", "inventor", "存货",
                             "final demand", "final use", "最终使用", "最终需求")
#: The five CEADs/NBS final-demand categories (Chinese, as the fake writer lists them).
CEADS_CATEGORIES_ZH: tuple[str, ...] = ("农村居民消费", "城镇居民消费", "政府消费", "固定资本形成总额", "存货增加")


#: Words in a spreadsheet's title (its header rows) that mark the FAKE tables written from the
#: synthetic world by ``python -m intercity data fake-ceads`` (:mod:`intercity.sources.ceads.fake`):
#: the reader reports them as a ``fake_marker`` note, and the source records the build as fake.
FAKE_MARKERS: tuple[str, ...] = ("合成数据", "非 CEADs 原表", "synthetic data, not the CEADs")


class CEADSError(ValueError):
    """A CEADs file or declaration cannot be read; the one-line message names file, place and problem."""


class CityCountError(CEADSError):
    """The city list given has ``n_list`` cities while the table has rows for ``n_table`` (``detail``:
    the field or rows that say so). The source rephrases it naming the city-list parameter and file."""

    def __init__(self, msg: str, n_list: int, n_table: int, detail: str):
        super().__init__(msg)
        self.n_list, self.n_table, self.detail = n_list, n_table, detail


def _norm(v: object) -> str:
    """Header text for matching: NFKC, lower case, single spaces; None/NaN -> ''."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    s = unicodedata.normalize("NFKC", str(v)).replace("_x000D_", " ")
    return re.sub(r"\s+", " ", s).strip().lower()


def _col_letter(c: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 26 -> AA)."""
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell(r: int, c: int) -> str:
    return f"{_col_letter(c)}{r + 1}"


def _unit_name(unit: str) -> str | None:
    u = _norm(unit)
    if u in UNITS:
        return u
    return _UNIT_ALIASES.get(u, _UNIT_ALIASES.get(str(unit).strip()))


@dataclass(frozen=True)
class Layout:
    """Declared layout of a CEADs table (one per set of files; see the module docstring).

    Attributes
    ----------
    sectors : sector codes in file order (default the 42 NBS codes "01".."42").
    sector_labels : sector descriptions in file order, used when the file has no sector-name
        column (e.g. every ``.mat``); None = the codes.
    fd_categories : names of the K final-demand categories of each city, in order (xlsx: matched
        to header cells; .mat: K = its length). None: xlsx uses ``FD_WORDS``, .mat takes
        K = F columns / cities.
    fd_order : "city-major" (city 1's K categories, then city 2's, ...) or "category-major".
    unit : money unit of the file (see ``UNITS``), converted to 10k yuan.
    imports : "row" (non-competitive, CEADs: IM rows, Z and F domestic) or "column" (competitive:
        an import column removed proportionally).
    import_sign : "positive" or "negative" (the import column holds imports with a minus sign,
        as in NBS's tables); column mode only.
    blank : "zero" (blank cells read as 0 and reported by cell) or "refuse".
    balance : "report" (mismatched row/column balances become report notes) or "refuse".
    balance_rtol : relative tolerance of the balance checks.
    sheet : xlsx sheet name or 0-based index.
    engine : spreadsheet reader: "calamine" (fast; holds the sheet in memory) or "openpyxl"
        (streaming, low memory, about 15x slower).
    header_rows : number of header rows above the first (city, sector) row.
    column_city_row : 1-based header row naming the city over every Z and final-demand column
        (checked against the row labels), or None.
    city_headers, sector_code_headers, sector_name_headers, ignored_label_headers : header texts
        (exact, case-insensitive) of the leading label columns.
    total_headers, subtotal_words, export_words, import_words, other_words : header vocabulary of
        the columns after Z (total: exact; the others: contained in the header cell).
    import_row_words, va_row_words, total_input_words : labels of the trailing rows.
    struct : name of the .mat struct (None: the fields are top-level variables).
    mat_fields : role -> accepted field names (Z, F, VA, IM, Export, Other, X).
    """

    sectors: tuple[str, ...] = NBS_CODES
    sector_labels: tuple[str, ...] | None = None
    fd_categories: tuple[str, ...] | None = None
    fd_order: str = "city-major"
    unit: str = "10k yuan"
    imports: str = "row"
    import_sign: str = "positive"
    blank: str = "zero"
    balance: str = "report"
    balance_rtol: float = 1e-6
    sheet: str | int = 0
    engine: str = "calamine"
    header_rows: int = 4
    column_city_row: int | None = None
    city_headers: tuple[str, ...] = ("city", "city name", "cities", "region", "城市", "城市名称", "地区", "城市名")
    sector_code_headers: tuple[str, ...] = ("sector code", "code", "sector id", "部门代码", "代码", "编码", "行业代码")
    sector_name_headers: tuple[str, ...] = ("sector", "sector name", "sectors", "industry", "description",
                                            "部门", "部门名称", "行业", "行业名称")
    ignored_label_headers: tuple[str, ...] = ("province", "省份", "省", "no", "no.", "序号", "adcode", "city code",
                                              "城市代码")
    total_headers: tuple[str, ...] = ("total output", "gross output", "总产出")
    subtotal_words: tuple[str, ...] = ("subtotal", "total", "合计", "小计", "总计")
    export_words: tuple[str, ...] = ("export", "出口")
    import_words: tuple[str, ...] = ("import", "进口")
    other_words: tuple[str, ...] = ("other", "others", "其他", "误差", "error", "discrepancy")
    import_row_words: tuple[str, ...] = ("import", "进口")
    va_row_words: tuple[str, ...] = ("value added", "增加值", "compensation", "劳动者报酬", "net taxes", "生产税净额",
                                     "depreciation", "固定资产折旧", "operating surplus", "营业盈余")
    total_input_words: tuple[str, ...] = ("total input", "总投入")
    struct: str | None = "MRIO"
    mat_fields: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {
        "Z": ("Z",), "F": ("F",), "VA": ("VA",), "IM": ("IM", "Import"), "Export": ("Export", "EX"),
        "Other": ("Other", "Others"), "X": ("X", "x", "TotalOutput")})

    _CHOICES = {"fd_order": ("city-major", "category-major"), "imports": ("row", "column"),
                "import_sign": ("positive", "negative"), "blank": ("zero", "refuse"),
                "balance": ("report", "refuse"), "engine": ("calamine", "openpyxl")}

    def __post_init__(self) -> None:
        for name in ("sectors", "sector_labels", "fd_categories", "city_headers", "sector_code_headers",
                     "sector_name_headers", "ignored_label_headers", "total_headers", "subtotal_words",
                     "export_words", "import_words", "other_words", "import_row_words", "va_row_words",
                     "total_input_words"):
            v = getattr(self, name)
            if v is not None:
                if isinstance(v, str):
                    raise CEADSError(f"layout: '{name}' must be a list, got the string {v!r}")
                object.__setattr__(self, name, tuple(str(x) for x in v))
        for name, allowed in self._CHOICES.items():
            if getattr(self, name) not in allowed:
                raise CEADSError(f"layout: {name}={getattr(self, name)!r} is not one of {list(allowed)}")
        if _unit_name(self.unit) is None:
            raise CEADSError(f"layout: unit={self.unit!r} is not one of {list(UNITS)} (or 元, 万元, 百万元, 亿元)")
        if not self.sectors:
            raise CEADSError("layout: 'sectors' is empty")
        if len(set(self.sectors)) != len(self.sectors):
            raise CEADSError(f"layout: duplicate sector codes in 'sectors': {sorted({s for s in self.sectors if self.sectors.count(s) > 1})}")
        if self.sector_labels is not None and len(self.sector_labels) != len(self.sectors):
            raise CEADSError(f"layout: {len(self.sector_labels)} sector_labels for {len(self.sectors)} sectors")
        if self.fd_categories is not None and not self.fd_categories:
            raise CEADSError("layout: 'fd_categories' is empty (omit it or name at least one category)")
        if not isinstance(self.header_rows, int) or self.header_rows < 0:
            raise CEADSError(f"layout: header_rows={self.header_rows!r} must be a non-negative integer")
        if self.column_city_row is not None and not 1 <= self.column_city_row <= self.header_rows:
            raise CEADSError(f"layout: column_city_row={self.column_city_row} must be between 1 and header_rows={self.header_rows}")
        if not self.balance_rtol > 0:
            raise CEADSError(f"layout: balance_rtol={self.balance_rtol!r} must be positive")
        fields = dict(self.mat_fields)
        for role in ("Z", "F"):
            if role not in fields:
                raise CEADSError(f"layout: mat_fields lacks the required role '{role}'")
        object.__setattr__(self, "mat_fields", {k: tuple(v) if not isinstance(v, str) else (v,)
                                                for k, v in fields.items()})

    @property
    def unit_factor(self) -> float:
        """Factor converting the file's unit to 10k yuan."""
        return UNITS[_unit_name(self.unit)]

    def to_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        return {k: (list(v) if isinstance(v, tuple) else {a: list(b) for a, b in v.items()} if isinstance(v, Mapping) else v)
                for k, v in d.items()}

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any], source: str = "layout") -> "Layout":
        """Build from a mapping (e.g. parsed JSON/YAML); unknown keys are refused, naming them."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise CEADSError(f"{source}: unknown layout key(s) {unknown}; allowed: {sorted(names)}")
        try:
            return cls(**dict(d))
        except CEADSError as err:
            raise CEADSError(f"{source}: {err}") from None

    @classmethod
    def load(cls, path: Path | str) -> "Layout":
        """Read a layout declaration from a JSON file (as written by :meth:`save`)."""
        path = Path(path)
        if not path.is_file():
            raise CEADSError(f"{path}: layout file not found")
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise CEADSError(f"{path}: not valid JSON ({err})") from None
        return cls.from_mapping(d, str(path))

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")


@dataclass(frozen=True)
class Note:
    """One report line: ``kind`` (e.g. blank_cell, dropped_column, balance_row), ``where`` (a cell,
    column, field or city/sector) and ``message``."""

    kind: str
    where: str
    message: str


@dataclass
class Report:
    """What the loader did with a file: blank cells, conversions, dropped columns/rows/fields,
    import treatment, balance checks. ``frame()`` gives one row per note."""

    path: str
    notes: list[Note] = field(default_factory=list)

    def add(self, kind: str, where: str, message: str) -> None:
        self.notes.append(Note(kind, where, message))

    def of(self, kind: str) -> list[Note]:
        return [n for n in self.notes if n.kind == kind]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([(self.path, n.kind, n.where, n.message) for n in self.notes],
                            columns=["file", "kind", "where", "message"])


@dataclass(frozen=True)
class CEADsTable:
    """One year's table as read.

    mrio : DenseMRIO in 10k yuan (Z domestic N x N, F domestic final demand N x n summed over
        categories per demanding city, x gross output N).
    sector_labels : S sector descriptions as in the file (or declared), for the concordance.
    categories : K final-demand category names (xlsx headers; .mat: declared or "category k").
    F_categories : (N, n, K) domestic final demand by demanding city and category, 10k yuan.
    exports, other : (N,) export and balancing ("Others") columns, 10k yuan (zeros if absent).
    value_added : (N,) value added by column, 10k yuan, or None if the file has none.
    imports : (N,) intermediate imports by column (row mode) or imports by row (column mode),
        10k yuan, or None.
    report : the loader's :class:`Report`.
    """

    mrio: DenseMRIO
    sector_labels: tuple[str, ...]
    categories: tuple[str, ...]
    F_categories: np.ndarray
    exports: np.ndarray
    other: np.ndarray
    value_added: np.ndarray | None
    imports: np.ndarray | None
    report: Report


# --------------------------------------------------------------------------------------------
# cities


def _is_adcode(v: str) -> bool:
    return bool(re.fullmatch(r"\d{6}", v))


def resolve_cities(values: Sequence[object], source: str, extra: Mapping[str, str] | None = None
                   ) -> tuple[str, ...]:
    """Names or 6-digit adcodes -> adcodes, in order.

    Names go through the alias table (:func:`intercity.sources.names.to_adcode`, as
    :func:`~intercity.sources.names.match_names`), then the unique pinyin names of
    :func:`intercity.cities.city_universe` ("Beijing", "Shijiazhuang"); adcodes must be
    prefecture-level units or municipalities. Raises :class:`CEADSError` with ONE message
    listing every value that matches nothing (with its position), or every duplicate.
    """
    from intercity.sources import names as names_mod

    vals = [names_mod.clean(v) for v in values]
    if not vals:
        raise CEADSError(f"{source}: the city list is empty")
    known = set(names_mod.prefectures()["adcode"])
    out: list[str | None] = []
    for v in vals:
        if _is_adcode(v):
            out.append(v if v in known else None)
        else:
            code = names_mod.to_adcode(v, dict(extra) if extra else None)
            out.append(code if code is not None else _pinyin_names().get(v.lower()))
    bad = [f"#{k + 1} '{v}'" for k, (v, c) in enumerate(zip(vals, out)) if c is None]
    if bad:
        raise CEADSError(f"{source}: {len(bad)} of {len(vals)} cities match no prefecture-level unit or "
                         f"adcode (alias table of intercity.sources.names): {', '.join(bad)}")
    seen: dict[str, int] = {}
    dups = []
    for k, c in enumerate(out):
        if c in seen:
            dups.append(f"#{seen[c] + 1} '{vals[seen[c]]}' and #{k + 1} '{vals[k]}' are both {c}")
        seen.setdefault(c, k)
    if dups:
        raise CEADSError(f"{source}: duplicate cities in the list: {'; '.join(dups)}")
    return tuple(out)  # type: ignore[arg-type]


_CITY_LIST_COLUMNS = ("adcode", "city_id", "code", "name", "name_zh", "city", "城市", "城市名称", "名称")


def read_city_list(path: Path | str, column: str | None = None,
                   extra: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The cities of a CEADs table in file order, as adcodes, from a city-list file.

    ``.csv``: a header row; the column ``column``, else the only column, else the first of
    ``adcode, city_id, code, name, name_zh, city, 城市, 城市名称, 名称``. Any other suffix: a
    text file, one name or adcode a line (blank lines and lines starting with ``#`` skipped).
    Values are names (``北京市``, ``黔南布依族苗族自治州``, short forms and aliases) or adcodes,
    matched by :func:`resolve_cities`; every unmatched name is listed in ONE error.
    """
    path = Path(path)
    if not path.is_file():
        raise CEADSError(f"{path}: city list not found")
    if path.suffix.lower() == ".csv":
        try:
            df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError) as err:
            raise CEADSError(f"{path}: not a UTF-8 CSV ({str(err).splitlines()[0]})") from None
        cols = list(df.columns)
        if column is not None:
            if column not in cols:
                raise CEADSError(f"{path}: no column '{column}' (columns: {cols})")
            col = column
        elif len(cols) == 1:
            col = cols[0]
        else:
            low = {_norm(c): c for c in cols}
            hit = [low[c] for c in _CITY_LIST_COLUMNS if c in low]
            if not hit:
                raise CEADSError(f"{path}: which column holds the cities? none of {list(_CITY_LIST_COLUMNS)} "
                                 f"among {cols}; pass column=")
            col = hit[0]
        values = [v for v in df[col].tolist()]
        blank = [str(k + 2) for k, v in enumerate(values) if not str(v).strip()]
        if blank:
            raise CEADSError(f"{path}: column '{col}' is blank on line(s) {', '.join(blank)}")
        return resolve_cities(values, f"{path}, column '{col}'", extra)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as err:
        raise CEADSError(f"{path}: not UTF-8 text ({err})") from None
    values = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return resolve_cities(values, str(path), extra)


def _cities_arg(cities: Sequence[str] | Path | str | None, path: Path) -> tuple[str, ...] | None:
    if cities is None:
        return None
    if isinstance(cities, Path) or (isinstance(cities, str) and not _is_adcode(cities)):
        return read_city_list(cities)
    if isinstance(cities, str):
        cities = [cities]
    return resolve_cities(list(cities), f"{path}: argument 'cities'")


# --------------------------------------------------------------------------------------------
# shared steps


class _Ctx:
    """File, city and sector names for messages."""

    def __init__(self, path: Path, cities: tuple[str, ...], layout: Layout, report: Report, year=None):
        self.path, self.cities, self.layout, self.report = path, cities, layout, report
        self.S = len(layout.sectors)
        self.n = len(cities)
        self.N = self.n * self.S
        self.pre = f"{path}" + (f" ({year})" if year is not None else "")

    def fail(self, msg: str) -> None:
        raise CEADSError(" ".join(f"{self.pre}: {msg}".split("\n")))

    def where(self, k: int) -> str:
        return f"city {self.cities[k // self.S]} sector {self.layout.sectors[k % self.S]}"


def _fd_by_city(ctx: _Ctx, F: np.ndarray, K: int) -> np.ndarray:
    """(N, n*K) -> (N, n, K) in the declared order."""
    if ctx.layout.fd_order == "city-major":
        return F.reshape(F.shape[0], ctx.n, K)
    return F.reshape(F.shape[0], K, ctx.n).transpose(0, 2, 1)


def _finish(ctx: _Ctx, Z: np.ndarray, Fk: np.ndarray, E: np.ndarray, O: np.ndarray,
            M: np.ndarray | None, IM: np.ndarray | None, VA: np.ndarray | None, X: np.ndarray | None,
            X_input: np.ndarray | None, sector_labels: tuple[str, ...], categories: tuple[str, ...]
            ) -> CEADsTable:
    """Convert units, remove imports (column mode), check balances, build the table."""
    lay, rep = ctx.layout, ctx.report
    f = lay.unit_factor
    if f != 1.0:
        Z, Fk, E, O = Z * f, Fk * f, E * f, O * f
        M = None if M is None else M * f
        IM = None if IM is None else IM * f
        VA = None if VA is None else VA * f
        X = None if X is None else X * f
        X_input = None if X_input is None else X_input * f
        rep.add("unit", "all values", f"converted from {_unit_name(lay.unit)} to 10k yuan (x {f:g})")
    N, n, K = Fk.shape
    Z_file = Z
    if lay.imports == "column":
        if M is None:
            ctx.fail("layout declares imports='column' (competitive) but the file has no import column "
                     "(xlsx header with " + "/".join(lay.import_words) + "; .mat field " + "/".join(lay.mat_fields.get("IM", ())) + ")")
        if lay.import_sign == "negative":
            M = -M
        x_row = Z.sum(axis=1) + Fk.sum(axis=(1, 2)) + E + O - M
        try:
            Z, F2 = remove_imports_proportional(Z, Fk.reshape(N, n * K), M,
                                                sectors=[ctx.where(k) for k in range(N)])
        except MRIOError as err:
            ctx.fail(f"import column: {err}")
        Fk = F2.reshape(N, n, K)
        rep.add("imports", "import column", "competitive imports removed by the proportional import assumption "
                f"(intercity.mrio.remove_imports_proportional): {float(M.sum()):.6g} (10k yuan) in total")
    else:
        x_row = Z.sum(axis=1) + Fk.sum(axis=(1, 2)) + E + O
        rep.add("imports", "Z, F", "non-competitive table: Z and F are domestic; imports are the IM row(s)"
                + (" (used in the column balance)" if IM is not None else " (none in the file)"))
    neg = int((Fk < 0).sum())
    if neg:
        rep.add("negative_final_demand", "F", f"{neg} negative final-demand entries kept (inventory drawdowns are data)")
    tol = lay.balance_rtol
    scale = max(float(np.abs(x_row).max(initial=0.0)), 1e-300)

    def compare(kind: str, a: np.ndarray, b: np.ndarray, what: str) -> None:
        diff = np.abs(a - b)
        bad = np.flatnonzero(diff > tol * np.maximum(np.abs(a), np.abs(b)) + 1e-9 * tol * scale)
        if not bad.size:
            rep.add(kind, "all rows" if kind == "balance_row" else "all columns", f"{what}: balanced within rtol {tol:g}")
            return
        for k in bad:
            rep.add(kind, ctx.where(int(k)), f"{what}: {a[k]:.10g} vs {b[k]:.10g} (10k yuan)")
        k = int(bad[np.argmax(diff[bad])])
        rel = diff[bad] / np.maximum(np.maximum(np.abs(a[bad]), np.abs(b[bad])), 1e-300)
        msg = (f"{what} does not balance for {bad.size} of {a.size} (city, sector); largest at {ctx.where(k)}: "
               f"{a[k]:.10g} vs {b[k]:.10g} (10k yuan); off by up to {100 * float(rel.max()):.3g}%")
        if lay.balance == "refuse":
            ctx.fail(msg)
        rep.add(kind + "_summary", f"off by up to {100 * float(rel.max()):.3g}% in {bad.size} "
                f"{'rows' if kind == 'balance_row' else 'columns'}", msg)

    if X is not None:
        compare("balance_row", X, x_row, "row balance: stated gross output vs Z 1 + F 1 + Export + Other"
                + (" - Import" if lay.imports == "column" else ""))
        x = X
    else:
        x = x_row
        rep.add("gross_output", "x", "gross output = row totals (Z 1 + F 1 + Export + Other"
                + (" - Import" if lay.imports == "column" else "") + "); the file states none")
    if X_input is not None:
        compare("balance_column", X_input, x, "column balance: stated total input vs gross output")
    if VA is not None:
        col = Z_file.sum(axis=0) + VA + (IM if (IM is not None and lay.imports == "row") else 0.0)
        compare("balance_column", x, col, "column balance: gross output vs 1'Z + VA" + (" + IM" if (IM is not None and lay.imports == "row") else ""))
    else:
        rep.add("balance_column", "", "no value added in the file: column balance not checked")
    mrio = DenseMRIO(cities=ctx.cities, sectors=lay.sectors, Z=Z, F=Fk.sum(axis=2), x=x)
    return CEADsTable(mrio=mrio, sector_labels=sector_labels, categories=categories, F_categories=Fk,
                      exports=E, other=O, value_added=VA, imports=M if lay.imports == "column" else IM,
                      report=rep)


# --------------------------------------------------------------------------------------------
# .mat


def _mat_get(ctx: _Ctx, rec: Any, names_present: Sequence[str], role: str, required: bool) -> tuple[str | None, Any]:
    cands = ctx.layout.mat_fields.get(role, ())
    hit = [c for c in cands if c in names_present]
    if len(hit) > 1:
        ctx.fail(f"fields {hit} of {ctx.layout.struct or 'the file'} both play the role '{role}': "
                 f"keep one or declare mat_fields['{role}']")
    if not hit:
        if required:
            ctx.fail(f"{ctx.layout.struct or 'the file'} lacks field {'/'.join(cands)} (has {list(names_present)})")
        return None, None
    return hit[0], rec[hit[0]]


def _mat_array(ctx: _Ctx, name: str, v: Any) -> np.ndarray:
    import scipy.sparse

    fld = f"{ctx.layout.struct}.{name}" if ctx.layout.struct else name
    if scipy.sparse.issparse(v):
        v = v.toarray()
        ctx.report.add("sparse", fld, "stored as a sparse matrix: read densely")
    a = np.asarray(v)
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        ctx.fail(f"field {fld} is not a numeric matrix (MATLAB class gives numpy dtype {a.dtype})")
    if np.iscomplexobj(a):
        ctx.fail(f"field {fld} is complex")
    a = np.asarray(a, dtype=np.float64)  # no copy when already float64 (a full-size Z is 1.4 GB)
    if a.ndim == 0:
        a = a.reshape(1, 1)
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2:
        ctx.fail(f"field {fld} has {a.ndim} dimensions, shape {a.shape}; expected a matrix")
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        ctx.fail(f"field {fld} holds a non-finite value ({a[r, c]}) at row {r + 1}, column {c + 1} "
                 f"(1-based, MATLAB order)")
    return a


def _as_columns(ctx: _Ctx, fld: str, a: np.ndarray, N: int) -> np.ndarray:
    """An N x k matrix of columns (Export, Other, column-mode imports) -> (N,) row sums."""
    if a.shape[0] == N:
        return a.sum(axis=1)
    if a.shape[1] == N and a.shape[0] == 1:
        ctx.report.add("transposed", fld, f"stored as 1 x {N}: read as a column")
        return a[0]
    ctx.fail(f"field {fld} has shape {a.shape}; expected {N} rows (one per city and sector)")
    raise AssertionError


def _as_rows(ctx: _Ctx, fld: str, a: np.ndarray, N: int, extra: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """A k x N (or k x (N + extra)) matrix of rows (VA, IM) -> ((N,) column sums, final part or None)."""
    if a.shape[1] == N:
        return a.sum(axis=0), None
    if extra and a.shape[1] == N + extra:
        return a[:, :N].sum(axis=0), a[:, N:].sum(axis=0)
    if a.shape[0] == N and a.shape[1] == 1 and N > 1:
        hint = ("imports by using column (non-competitive); declare imports='column' for an import column"
                if "IM" in fld or "mport" in fld else f"k x {N}")
        ctx.fail(f"field {fld} has shape {a.shape}: a column, but the layout declares it as rows ({hint})")
    if a.shape[0] == N and a.shape[1] != N:
        ctx.report.add("transposed", fld, f"stored as {a.shape[0]} x {a.shape[1]}: read as {a.shape[1]} rows")
        return a.sum(axis=1), None
    ctx.fail(f"field {fld} has shape {a.shape}; expected k x {N}" + (f" or k x {N + extra}" if extra else ""))
    raise AssertionError


def load_mat(path: Path | str, cities: Sequence[str] | Path | str, layout: Layout | None = None,
             year: int | None = None) -> CEADsTable:
    """Read a CEADs ``.mat`` (struct ``MRIO``; see the module docstring) into a :class:`CEADsTable`."""
    import scipy.io

    path = Path(path)
    lay = layout or Layout()
    if not path.is_file():
        raise CEADSError(f"{path}{f' ({year})' if year is not None else ''}: file not found")
    cities_t = _cities_arg(cities, path)
    if cities_t is None:
        raise CEADSError(f"{path}: a .mat file names no cities: give the city list (file order)")
    rep = Report(str(path))
    ctx = _Ctx(path, cities_t, lay, rep, year)
    try:
        major, _ = scipy.io.matlab.matfile_version(str(path))
    except Exception as err:  # noqa: BLE001 - scipy raises several types for non-MAT files
        ctx.fail(f"not a MATLAB .mat file ({type(err).__name__}: {err})")
    if major == 2:
        ctx.fail("MATLAB v7.3 (HDF5) file: not readable without h5py; save it again in MATLAB with "
                 "save(file, 'MRIO', '-v7') (v7 holds variables up to 2 GB, enough for 313 x 42 sectors)")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=False, struct_as_record=True)
    except Exception as err:  # noqa: BLE001
        ctx.fail(f"scipy cannot read this MATLAB file ({type(err).__name__}: {err}); save it with -v7")
    variables = sorted(k for k in mat if not k.startswith("__"))
    if lay.struct is None:
        rec: Any = mat
        present = variables
        ignored = [v for v in variables if v not in {c for cs in lay.mat_fields.values() for c in cs}]
    else:
        if lay.struct not in mat:
            ctx.fail(f"no struct '{lay.struct}' (variables: {variables}); declare Layout.struct")
        s = mat[lay.struct]
        if s.dtype.names is None:
            ctx.fail(f"variable '{lay.struct}' is not a struct (a {s.dtype} array of shape {s.shape})")
        if s.size != 1:
            ctx.fail(f"struct '{lay.struct}' is a {s.shape} struct array; expected a single struct")
        rec = {k: s[k].reshape(-1)[0] for k in s.dtype.names}
        present = list(s.dtype.names)
        ignored = [v for v in present if v not in {c for cs in lay.mat_fields.values() for c in cs}]
        others = [v for v in variables if v != lay.struct]
        if others:
            rep.add("ignored_field", ", ".join(others), "variables outside the struct are not read")
    for v in ignored:
        rep.add("ignored_field", f"{lay.struct}.{v}" if lay.struct else v, "not a declared field: not read")
    st = f"{lay.struct}." if lay.struct else ""
    N, n, S = ctx.N, ctx.n, ctx.S
    zname, zv = _mat_get(ctx, rec, present, "Z", True)
    Z = _mat_array(ctx, zname, zv)
    if Z.shape != (N, N):
        if Z.shape[0] == Z.shape[1] and Z.shape[0] % S == 0 and Z.shape[0]:
            m = Z.shape[0] // S
            detail = f"field {st}{zname} has shape {Z.shape} = {m} cities x {S} sectors"
            raise CityCountError(f"{ctx.pre}: the city list has {n} cities while the table has rows for {m} ({detail})",
                                 n, m, detail)
        ctx.fail(f"field {st}{zname} has shape {Z.shape}; expected {N} x {N} ({n} cities x {S} sectors)")
    fname, fv = _mat_get(ctx, rec, present, "F", True)
    F = _mat_array(ctx, fname, fv)
    if F.shape[0] != N:
        if F.shape[1] == N:
            rep.add("transposed", f"{st}{fname}", f"stored as {F.shape}: read transposed")
            F = F.T
        else:
            ctx.fail(f"field {st}{fname} has shape {F.shape}; expected {N} rows ({n} cities x {S} sectors)")
    if lay.fd_categories is not None:
        K = len(lay.fd_categories)
        if F.shape[1] != n * K:
            ctx.fail(f"field {st}{fname} has {F.shape[1]} columns; expected {n} cities x {K} declared "
                     f"final-demand categories = {n * K}")
        categories = lay.fd_categories
    else:
        if F.shape[1] % n:
            ctx.fail(f"field {st}{fname} has {F.shape[1]} columns, not a multiple of the {n} cities "
                     "(K final-demand categories per city)")
        K = F.shape[1] // n
        categories = tuple(f"category {k + 1}" for k in range(K))
        rep.add("categories", f"{st}{fname}", f"{K} final-demand categor{'y' if K == 1 else 'ies'} per city "
                f"({lay.fd_order}), summed per demanding city")
    Fk = _fd_by_city(ctx, F, K)
    E = np.zeros(N)
    O = np.zeros(N)
    for role in ("Export", "Other"):
        nm, v = _mat_get(ctx, rec, present, role, False)
        if nm is not None:
            vec = _as_columns(ctx, f"{st}{nm}", _mat_array(ctx, nm, v), N)
            if role == "Export":
                E = vec
            else:
                O = vec
    M = IM = None
    nm, v = _mat_get(ctx, rec, present, "IM", False)
    if nm is not None:
        a = _mat_array(ctx, nm, v)
        if lay.imports == "column":
            if a.shape[0] == N and a.shape[1] == 1 or a.shape == (1, N):
                M = _as_columns(ctx, f"{st}{nm}", a, N)
            else:
                ctx.fail(f"field {st}{nm} has shape {a.shape}; the layout declares imports='column' "
                         f"(competitive), which needs one import column of {N} rows")
        else:
            IM, IMf = _as_rows(ctx, f"{st}{nm}", a, N, extra=F.shape[1])
            if IMf is not None:
                rep.add("imports_final", f"{st}{nm}", f"imports used by final demand: {float(IMf.sum()):.6g} "
                        "(file unit); not part of the domestic F")
    VA = None
    nm, v = _mat_get(ctx, rec, present, "VA", False)
    if nm is not None:
        VA, _ = _as_rows(ctx, f"{st}{nm}", _mat_array(ctx, nm, v), N)
    X = None
    nm, v = _mat_get(ctx, rec, present, "X", False)
    if nm is not None:
        X = _as_columns(ctx, f"{st}{nm}", _mat_array(ctx, nm, v), N)
    labels = lay.sector_labels or lay.sectors
    if lay.sector_labels is None:
        rep.add("sector_labels", "layout", "no sector descriptions declared: labels are the codes")
    return _finish(ctx, Z, Fk, E, O, M, IM, VA, X, None, tuple(labels), tuple(categories))


# --------------------------------------------------------------------------------------------
# .xlsx


def _open_rows(ctx: _Ctx) -> tuple[str, Iterable[Sequence[Any]]]:
    """(sheet name, rows from A1 on as lists of cell values) of the declared sheet.

    ``Layout.engine = "calamine"`` (python-calamine, the Rust calamine reader pandas also uses:
    about 1 s per million cells; the sheet is held in memory) or ``"openpyxl"`` (read-only
    streaming: low memory, about 15x slower).
    """
    lay = ctx.layout
    if lay.engine == "calamine":
        from python_calamine import CalamineWorkbook

        try:
            wb = CalamineWorkbook.from_path(str(ctx.path))
        except Exception as err:  # noqa: BLE001 - calamine raises several error types
            ctx.fail(f"not a workbook calamine can read ({type(err).__name__}: {err})")
        names = list(wb.sheet_names)
        name = _sheet_name(ctx, names)
        sheet = wb.get_sheet_by_name(name)
        return name, sheet.to_python(skip_empty_area=False)
    import openpyxl

    try:
        wb = openpyxl.load_workbook(ctx.path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - zipfile/openpyxl raise several types
        ctx.fail(f"not an .xlsx workbook openpyxl can read ({type(err).__name__}: {err})")
    name = _sheet_name(ctx, list(wb.sheetnames))
    ws = wb[name]
    ws.reset_dimensions()

    def rows():
        try:
            yield from ws.iter_rows(values_only=True)
        finally:
            wb.close()
    return name, rows()


def _sheet_name(ctx: _Ctx, names: list[str]) -> str:
    sheet = ctx.layout.sheet
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            ctx.fail(f"no sheet number {sheet} (0-based; sheets: {names})")
        return names[sheet]
    if sheet not in names:
        ctx.fail(f"no sheet '{sheet}' (sheets: {names})")
    return sheet


def _role_of_label(text_cells: list[str], lay: Layout) -> str | None:
    for role, heads in (("city", lay.city_headers), ("code", lay.sector_code_headers),
                        ("name", lay.sector_name_headers), ("ignored", lay.ignored_label_headers)):
        vocab = {_norm(h) for h in heads}
        if any(t in vocab for t in text_cells):
            return role
    return None


_ROLE_ORDER = ("fd_declared", "total", "subtotal", "export", "import", "other", "fd_vocab")


def _column_role(cells: list[str], lay: Layout) -> tuple[str | None, str]:
    """Role of a column after Z from its header cells, by precedence; returns (role, matching text)."""
    declared = {_norm(c) for c in (lay.fd_categories or ())}
    found: dict[str, str] = {}
    for t in cells:
        if not t:
            continue
        if t in declared:
            found.setdefault("fd_declared", t)
        if t in {_norm(h) for h in lay.total_headers}:
            found.setdefault("total", t)
        for role, words in (("subtotal", lay.subtotal_words), ("export", lay.export_words),
                            ("import", lay.import_words), ("other", lay.other_words)):
            if any(_norm(w) in t for w in words):
                found.setdefault(role, t)
        if lay.fd_categories is None and any(_norm(w) in t for w in FD_WORDS):
            found.setdefault("fd_vocab", t)
    for role in _ROLE_ORDER:
        if role in found:
            return role, found[role]
    return None, ""


def _row_role(cells: Sequence[object], lay: Layout) -> str | None:
    """Role of a row after the (city, sector) rows from its label cells."""
    text = " ".join(t for t in (_norm(c) for c in cells) if t)
    if not text:
        return "blank"
    if any(_norm(w) in text for w in lay.total_input_words):
        return "total_input"
    if any(_norm(w) in text for w in lay.subtotal_words):
        return "subtotal"
    if any(_norm(w) in text for w in lay.import_row_words):
        return "import"
    if any(_norm(w) in text for w in lay.va_row_words):
        return "va"
    return None


def _sector_code(v: object) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, (int, np.integer)) or (isinstance(v, float) and float(v).is_integer()):
        return f"{int(v):02d}"
    s = _norm(v)
    return f"{int(s):02d}" if s.isdigit() and len(s) < 2 else s


def _is_blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


class _Sheet:
    """A sheet read row by row: header cells, label cells, and the numeric part as float64 with
    a blank mask; cells that are neither numbers nor blank are kept by position for messages."""

    def __init__(self, ctx: _Ctx, name: str, rows: Iterable[Sequence[Any]]):
        self.ctx, self.name = ctx, name
        h = ctx.layout.header_rows
        it = iter(rows)
        self.head: list[list[Any]] = []
        for _ in range(h):
            try:
                self.head.append(list(next(it)))
            except StopIteration:
                self.fail(None, None, f"the sheet has {len(self.head)} rows, fewer than the {h} declared header rows")
        self.h = h
        self._it = it

    # -- header and labels --------------------------------------------------------------------
    def header_cells(self, c: int) -> list[str]:
        return [_norm(r[c]) if c < len(r) else "" for r in self.head]

    def header_text(self, c: int) -> str:
        return " / ".join(str(r[c]).strip() for r in self.head if c < len(r) and not _is_blank(r[c]))

    def read_body(self, L: int) -> None:
        """Read every row after the header: label cells (first L) and numbers (the rest)."""
        self.L = L
        labels, vals, blanks = [], [], []
        self.text: dict[tuple[int, int], Any] = {}
        self.as_text: set[tuple[int, int]] = set()
        r = self.h
        for row in self._it:
            row = list(row)
            labels.append(row[:L] + [None] * (L - len(row[:L])))
            v, b = self._convert(row[L:], r)
            vals.append(v)
            blanks.append(b)
            r += 1
        # drop trailing rows without a label or a value
        text_rows = {rr for rr, _ in self.text}
        while vals and all(_is_blank(x) for x in labels[-1]) and self.h + len(vals) - 1 not in text_rows \
                and (blanks[-1].all() if blanks[-1] is not None else len(vals[-1]) == 0):
            labels.pop(), vals.pop(), blanks.pop()
        width = max([len(v) for v in vals] + [max((len(r) for r in self.head), default=0) - L, 0])
        self.W = L + width
        self.R = len(vals)
        self.labels = labels
        self.vals = np.zeros((self.R, width))
        self.blank = np.ones((self.R, width), dtype=bool)
        for i, (v, b) in enumerate(zip(vals, blanks)):
            self.vals[i, : len(v)] = v
            self.blank[i, : len(v)] = False if b is None else b
        self.nrows = self.h + self.R

    def _convert(self, cells: list[Any], r: int) -> tuple[np.ndarray, np.ndarray | None]:
        try:
            v = np.asarray(cells, dtype=np.float64)
            if np.isfinite(v).all():
                return v, None
        except (TypeError, ValueError):
            pass
        v = np.zeros(len(cells))
        b = np.zeros(len(cells), dtype=bool)
        for j, x in enumerate(cells):
            if _is_blank(x):
                b[j] = True
            elif isinstance(x, bool):
                self.text[(r, self.L + j)] = x
            elif isinstance(x, (int, float, np.integer, np.floating)):
                if np.isfinite(x):
                    v[j] = float(x)
                else:
                    self.text[(r, self.L + j)] = x
            elif isinstance(x, str):
                try:
                    v[j] = float(x.strip().replace(",", ""))
                    self.as_text.add((r, self.L + j))
                    if not np.isfinite(v[j]):
                        self.text[(r, self.L + j)] = x
                except ValueError:
                    self.text[(r, self.L + j)] = x
            else:
                self.text[(r, self.L + j)] = x
        return v, b

    def label(self, r: int, c: int) -> Any:
        return self.labels[r - self.h][c]

    def label_row(self, r: int) -> list[Any]:
        return self.labels[r - self.h]

    def row_has_values(self, r: int) -> bool:
        return bool((~self.blank[r - self.h]).any()) or any(rr == r for rr, _ in self.text)

    def column_blank(self, r0: int, r1: int, c: int) -> bool:
        return bool(self.blank[r0 - self.h: r1 - self.h, c - self.L].all()) and not any(
            cc == c and r0 <= rr < r1 for rr, cc in self.text)

    # -- messages -----------------------------------------------------------------------------
    def at(self, r: int, c: int) -> str:
        return f"sheet '{self.name}', cell {_cell(r, c)}"

    def fail(self, r: int | None, c: int | None, msg: str) -> None:
        if r is None and c is None:
            self.ctx.fail(f"sheet '{self.name}': {msg}")
        elif r is None:
            self.ctx.fail(f"sheet '{self.name}', column {_col_letter(c)}: {msg}")
        elif c is None:
            self.ctx.fail(f"sheet '{self.name}', row {r + 1}: {msg}")
        else:
            self.ctx.fail(f"{self.at(r, c)}: {msg}")

    # -- numbers ------------------------------------------------------------------------------
    def numbers(self, r0: int, r1: int, cols: Sequence[int], what: str) -> np.ndarray:
        """Rows r0..r1-1 (absolute, 0-based) x cols as float64 (a view when cols are contiguous);
        blanks -> 0 (reported by cell) or refused; text refused, naming the cell."""
        cols = list(cols)
        if r1 <= r0 or not cols:
            return np.zeros((max(r1 - r0, 0), len(cols)))
        rs = slice(r0 - self.h, r1 - self.h)
        j0 = cols[0] - self.L
        contiguous = cols == list(range(cols[0], cols[0] + len(cols)))
        cs = slice(j0, j0 + len(cols)) if contiguous else [c - self.L for c in cols]
        colset = set(cols)
        bad = sorted((rc for rc in self.text if r0 <= rc[0] < r1 and rc[1] in colset))
        if bad:
            (r, c) = bad[0]
            v = self.text[(r, c)]
            more = f" ({len(bad)} such cells; the first)" if len(bad) > 1 else ""
            self.fail(r, c, f"{what} holds {v!r}, not a number{more}")
        blk = self.vals[rs, cs]
        bmask = self.blank[rs, cs]
        if bmask.any():
            where = np.argwhere(bmask)
            if self.ctx.layout.blank == "refuse":
                i, j = where[0]
                self.fail(r0 + int(i), cols[int(j)], f"blank cell in {what} ({len(where)} blank cells in all); "
                          "the layout declares blank='refuse' (write 0, or declare blank='zero')")
            for i, j in where:
                self.ctx.report.add("blank_cell", f"sheet '{self.name}'!{_cell(r0 + int(i), cols[int(j)])}",
                                    f"blank cell in {what}: read as 0")
        nt = sum(1 for rc in self.as_text if r0 <= rc[0] < r1 and rc[1] in colset)
        if nt:
            self.ctx.report.add("number_as_text", f"sheet '{self.name}'", f"{nt} numbers stored as text in {what}: read as numbers")
        return blk


def load_xlsx(path: Path | str, cities: Sequence[str] | Path | str | None, layout: Layout | None = None,
              year: int | None = None) -> CEADsTable:
    """Read a CEADs-layout spreadsheet (see the module docstring) into a :class:`CEADsTable`.

    ``cities``: adcodes or names in file order, a city-list file, or None to take them from the
    city label column (one name per block of S rows, matched through the alias table).
    """
    path = Path(path)
    lay = layout or Layout()
    if not path.is_file():
        raise CEADSError(f"{path}{f' ({year})' if year is not None else ''}: file not found")
    cities_t = _cities_arg(cities, path)
    rep = Report(str(path))
    ctx = _Ctx(path, cities_t or ("?",), lay, rep, year)
    name, rows = _open_rows(ctx)
    sh = _Sheet(ctx, name, rows)
    h, S = lay.header_rows, len(lay.sectors)
    for r, row in enumerate(sh.head):  # the title: the fake's says what it is
        for c, v in enumerate(row[:8]):
            if not _is_blank(v) and any(_norm(w) in _norm(v) for w in FAKE_MARKERS):
                rep.add("fake_marker", f"sheet '{name}'!{_cell(r, c)}",
                        f"the title says {str(v).strip()!r}: the FAKE tables (the synthetic world written in the CEADs "
                        "layouts by python -m intercity data fake-ceads), not CEADs' own")
    width0 = max((len(r) for r in sh.head), default=0)

    # label columns: the leading columns whose header names a label
    labels: dict[str, int] = {}
    c = 0
    while c < width0:
        role = _role_of_label(sh.header_cells(c), lay)
        if role is None:
            break
        if role != "ignored":
            if role in labels:
                sh.fail(None, c, f"a second '{role}' label column (the first is column {_col_letter(labels[role])})")
            labels[role] = c
        c += 1
    L = c
    if not labels:
        sh.fail(None, 0, f"no label column found by header in rows 1-{h} (column A says {sh.header_text(0)!r}); "
                f"label headers allowed: city {list(lay.city_headers)}, sector code {list(lay.sector_code_headers)}, "
                f"sector name {list(lay.sector_name_headers)}")
    rep.add("label_columns", ", ".join(f"{_col_letter(v)}={k}" for k, v in labels.items()),
            f"label columns found by header; intermediate use starts at column {_col_letter(L)}")
    sh.read_body(L)
    body0 = h
    if sh.R == 0:
        sh.fail(None, None, f"no data rows after the {h} declared header rows")

    # cities from the row labels, if not given
    if cities_t is None:
        if "city" not in labels:
            sh.fail(None, None, "no city list given and no city label column to read the cities from")
        names_in_file: list[str] = []
        for r in range(body0, sh.nrows, S):  # the first row of each city block
            if _row_role(sh.label_row(r), lay) is not None:
                break  # blank, imports, value added, total input or subtotal: the city rows ended
            names_in_file.append(str(sh.label(r, labels["city"])))
        cities_t = resolve_cities(names_in_file, f"{path}, sheet '{name}', column {_col_letter(labels['city'])}")
        ctx = _Ctx(path, cities_t, lay, rep, year)
        sh.ctx = ctx
    elif "city" in labels:  # a city list was given: the table's own city blocks must be as many
        m = _count_city_blocks(sh, labels["city"], body0, lay)
        if m != len(cities_t):
            detail = (f"sheet '{name}', column {_col_letter(labels['city'])}: {m} blocks of {S} rows, one city each, "
                      f"from row {body0 + 1}")
            raise CityCountError(f"{ctx.pre}: the city list has {len(cities_t)} cities while the table has rows for "
                                 f"{m} ({detail})", len(cities_t), m, detail)
    n, N = ctx.n, ctx.N
    if sh.R < N:
        sh.fail(None, None, f"{sh.R} rows after the {h} header rows; expected at least {N} ({n} cities x {S} sectors)")
    if sh.W < L + N:
        sh.fail(None, None, f"{sh.W - L} columns after the label columns; expected {N} intermediate-use columns "
                f"({n} cities x {S} sectors) and then final demand")
    _check_row_labels(sh, labels, body0, lay, ctx)
    sector_labels = _sector_labels(sh, labels, body0, lay, ctx)

    # columns after Z, each recognised by its header
    z_cols = range(L, L + N)
    roles: dict[str, list[int]] = {k: [] for k in ("fd", "total", "subtotal", "export", "import", "other")}
    fd_names: list[str] = []
    for c in range(L + N, sh.W):
        role, text = _column_role(sh.header_cells(c), lay)
        if role is None:
            if not sh.header_text(c) and sh.column_blank(body0, body0 + N, c):
                continue
            if not sh.header_text(c):
                sh.fail(None, c, f"a column without a header holds values; expected {N} intermediate-use columns "
                        f"({n} cities x {S} sectors) from column {_col_letter(L)}, then headed columns: does the "
                        f"file hold more than the {n} listed cities?")
            allowed = (f"a declared final-demand category {list(lay.fd_categories)}" if lay.fd_categories
                       else f"a final-demand header containing one of {list(FD_WORDS)}")
            sh.fail(None, c, f"header {sh.header_text(c) or '(empty)'!r} is not recognised: expected {allowed}, "
                    f"total output {list(lay.total_headers)}, a subtotal ({'/'.join(lay.subtotal_words)}), "
                    f"export ({'/'.join(lay.export_words)}), import ({'/'.join(lay.import_words)}) or other "
                    f"({'/'.join(lay.other_words)})")
        if role in ("fd_declared", "fd_vocab"):
            roles["fd"].append(c)
            fd_names.append(text)
        else:
            roles[role].append(c)
    for role in ("subtotal",) + (("import",) if lay.imports == "row" else ()):
        for c in roles[role]:
            why = ("a subtotal or total of other columns: not counted" if role == "subtotal"
                   else "imports in a non-competitive table (imports are the IM rows): a memo column, not final demand")
            rep.add("dropped_column", f"column {_col_letter(c)} {sh.header_text(c)!r}", why)
    if len(roles["total"]) > 1:
        sh.fail(None, roles["total"][1], f"a second total-output column (the first is {_col_letter(roles['total'][0])})")
    if lay.imports == "column" and len(roles["import"]) != 1:
        sh.fail(None, None, f"the layout declares imports='column' (competitive): expected one import column, found "
                f"{len(roles['import'])} ({', '.join(_col_letter(c) for c in roles['import']) or 'none'})")
    fd = roles["fd"]
    if not fd:
        sh.fail(None, None, "no final-demand column recognised after the intermediate-use columns")
    if len(fd) % n:
        sh.fail(None, fd[-1], f"{len(fd)} final-demand columns, not a multiple of the {n} cities")
    K = len(fd) // n
    block = ([fd_names[k * K:(k + 1) * K] for k in range(n)] if lay.fd_order == "city-major"
             else [fd_names[k::n] for k in range(n)])
    categories = tuple(block[0])
    if lay.fd_categories is not None and [_norm(x) for x in lay.fd_categories] != list(categories):
        sh.fail(None, fd[0], f"final-demand categories {list(categories)} (city 1) differ from the declared "
                f"{list(lay.fd_categories)}")
    for i, b in enumerate(block):
        if b != block[0]:
            pos = fd[i * K] if lay.fd_order == "city-major" else fd[i]
            sh.fail(None, pos, f"final-demand block of city #{i + 1} ({cities_t[i]}) has categories {b}; city 1 has "
                    f"{block[0]} ({lay.fd_order})")
    if lay.fd_categories is not None:
        categories = lay.fd_categories
    if lay.column_city_row is not None:
        _check_column_cities(sh, labels, body0, lay, ctx, list(z_cols), fd, K)

    Z = sh.numbers(body0, body0 + N, z_cols, "intermediate use (Z)")
    F = sh.numbers(body0, body0 + N, fd, "final demand")
    E = sh.numbers(body0, body0 + N, roles["export"], "exports").sum(axis=1)
    O = sh.numbers(body0, body0 + N, roles["other"], "other (balancing) column").sum(axis=1)
    M = sh.numbers(body0, body0 + N, roles["import"], "imports").sum(axis=1) if lay.imports == "column" else None
    X = sh.numbers(body0, body0 + N, roles["total"], "total output")[:, 0].copy() if roles["total"] else None
    if roles["subtotal"]:
        _check_subtotals(sh, ctx, roles["subtotal"], body0, Z, F, fd, E, O)
    Fk = _fd_by_city(ctx, F, K)

    # trailing rows: imports, value added, total input
    IM = VA = X_in = None
    for r in range(body0 + N, sh.nrows):
        lab = sh.label_row(r)
        role = _row_role(lab, lay)
        text = " / ".join(str(v).strip() for v in lab if not _is_blank(v))
        if role is None:
            sh.fail(r, None, f"label {text!r} after the {N} (city, sector) rows is not a declared trailing row "
                    f"(imports {list(lay.import_row_words)}, value added {list(lay.va_row_words)}, total input "
                    f"{list(lay.total_input_words)}, subtotals); does the file hold more than the {n} listed cities?")
        if role == "blank":
            if sh.row_has_values(r):
                sh.fail(r, None, "a row without a label holds values")
            continue
        if role == "subtotal":
            rep.add("dropped_row", f"row {r + 1} {text!r}", "a subtotal or total row: not counted")
            continue
        vals = sh.numbers(r, r + 1, z_cols, f"the {role.replace('_', ' ')} row {text!r}")[0].copy()
        if role == "import":
            if lay.imports == "row":
                IM = vals if IM is None else IM + vals
            else:
                rep.add("dropped_row", f"row {r + 1} {text!r}", "import row in a table declared imports='column': memo, not read")
        elif role == "va":
            VA = vals if VA is None else VA + vals
        else:
            if X_in is not None:
                sh.fail(r, None, "a second total-input row")
            X_in = vals
    return _finish(ctx, Z, Fk, E, O, M, IM, VA, X, X_in, sector_labels, tuple(categories))


def _count_city_blocks(sh: "_Sheet", col: int, body0: int, lay: Layout) -> int:
    """How many whole city blocks the city label column holds from ``body0``: blocks of S rows
    (S = the layout's sectors) whose labels are one city (blank labels continue it), none of them a
    trailing row (imports, value added, total input, subtotal) or blank; counting stops at the
    first row that does not start such a block."""
    S = len(lay.sectors)
    count, r = 0, body0
    while r + S <= sh.nrows:
        first = sh.label(r, col)
        if _is_blank(first):
            break
        ok = True
        for k in range(r, r + S):
            v = sh.label(k, col)
            if _row_role(sh.label_row(k), lay) is not None or not (_is_blank(v) or _norm(v) == _norm(first)):
                ok = False
                break
        if not ok:
            break
        count, r = count + 1, r + S
    return count


def _check_subtotals(sh: _Sheet, ctx: _Ctx, cols: list[int], body0: int, Z: np.ndarray, F: np.ndarray,
                     fd: list[int], E: np.ndarray, O: np.ndarray) -> None:
    """Check every subtotal column (dropped, never counted) against the sums it can be.

    Candidates, per (city, sector) row: intermediate use ``Z 1``; final demand ``F 1``; ``Z 1 + F 1``;
    ``Z 1 + F 1 + Export + Other``; and, for a column right after final-demand columns (a per-city
    subtotal), the sum of the final-demand columns between it and the previous column that is not
    final demand. A match within ``balance_rtol`` is reported (``subtotal_checked``); no match is
    reported as ``subtotal_mismatch`` naming the column and the closest candidate, or refused with
    ``balance = "refuse"``: a column headed like a subtotal that sums nothing may be data.
    """
    lay, rep = ctx.layout, ctx.report
    vals = sh.numbers(body0, body0 + ctx.N, cols, "subtotal column")
    zs, fs = Z.sum(axis=1), F.sum(axis=1)
    common = {"intermediate use (Z 1)": zs, "final demand (F 1)": fs, "Z 1 + F 1": zs + fs,
              "Z 1 + F 1 + Export + Other": zs + fs + E + O}
    pos = {c: k for k, c in enumerate(fd)}
    scale = max(float(np.abs(zs + fs).max(initial=0.0)), 1e-300)
    for j, c in enumerate(cols):
        v = vals[:, j]
        cands = dict(common)
        run, p = [], c - 1
        while p in pos:
            run.append(pos[p])
            p -= 1
        if run:
            cands[f"the {len(run)} final-demand column(s) before it ({_col_letter(c - len(run))}-{_col_letter(c - 1)})"] = F[:, run].sum(axis=1)
        gaps = {name: float(np.max(np.abs(v - t) - lay.balance_rtol * np.maximum(np.abs(v), np.abs(t)), initial=0.0))
                for name, t in cands.items()}
        where = f"column {_col_letter(c)} {sh.header_text(c)!r}"
        hit = [name for name, g in gaps.items() if g <= 1e-9 * lay.balance_rtol * scale]
        if hit:
            rep.add("subtotal_checked", where, f"a subtotal equal to {hit[-1]}: not counted")
            continue
        best = min(gaps, key=gaps.get)
        msg = (f"a column headed as a subtotal equals none of the sums it could be ({', '.join(cands)}); "
               f"closest: {best}, off by up to {gaps[best]:.6g} (in the file's unit): is it data?")
        if lay.balance == "refuse":
            sh.fail(None, c, msg)
        rep.add("subtotal_mismatch", where, msg + " Not counted.")


def _city_matches(label: object, adcode: str) -> bool | None:
    """Does a row/column city label name this adcode? None if the label cannot be resolved."""
    from intercity.sources import names as names_mod

    s = names_mod.clean(label)
    if _is_adcode(s):
        return s == adcode
    code = names_mod.to_adcode(s)
    if code is not None:
        return code == adcode
    en = _pinyin_names()
    if s.lower() in en:
        return en[s.lower()] == adcode
    return None


_PINYIN: dict[str, str] | None = None


def _pinyin_names() -> dict[str, str]:
    """Lower-case unique pinyin city names (``beijing``) -> adcode."""
    from intercity.cities import city_universe

    global _PINYIN
    if _PINYIN is None:
        u = city_universe()
        counts = u["name_en"].str.lower().value_counts()
        _PINYIN = {e.lower(): c for e, c in zip(u["name_en"], u["city_id"]) if counts[e.lower()] == 1}
    return _PINYIN


def _check_row_labels(sh: _Sheet, labels: dict[str, int], body0: int, lay: Layout, ctx: _Ctx) -> None:
    """City labels constant within each block of S rows and naming the listed city; sector codes
    equal to the declared ones in every block."""
    S, n = ctx.S, ctx.n
    if "city" in labels:
        c = labels["city"]
        unresolved = []
        for i in range(n):
            first = None
            for s in range(S):
                r = body0 + i * S + s
                v = sh.label(r, c)
                if v is None or not str(v).strip():
                    if s == 0:
                        sh.fail(r, c, f"blank city label at the first row of city block {i + 1} ({ctx.cities[i]})")
                    continue  # merged cell
                if first is None:
                    first = v
                    ok = _city_matches(v, ctx.cities[i])
                    if ok is False:
                        sh.fail(r, c, f"city label {v!r} is not city #{i + 1} of the city list ({ctx.cities[i]}): "
                                "the list must be in file order")
                    if ok is None:
                        unresolved.append(f"{_cell(r, c)} {v!r}")
                elif _norm(v) != _norm(first):
                    sh.fail(r, c, f"city label {v!r} inside the block of {first!r} (rows {body0 + i * S + 1}-"
                            f"{body0 + (i + 1) * S}): {S} sectors per city expected")
        if unresolved:
            ctx.report.add("city_label", f"sheet '{sh.name}'", f"{len(unresolved)} city labels could not be resolved "
                           f"to an adcode and were not checked against the list: {', '.join(unresolved[:10])}")
    if "code" in labels:
        c = labels["code"]
        for k in range(n * S):
            r = body0 + k
            got = _sector_code(sh.label(r, c))
            want = lay.sectors[k % S]
            if got != _sector_code(want):
                sh.fail(r, c, f"sector code {sh.label(r, c)!r} where the declared sector list has {want!r} "
                        f"(sector {k % S + 1} of {S}, city {ctx.cities[k // S]})")


def _sector_labels(sh: _Sheet, labels: dict[str, int], body0: int, lay: Layout, ctx: _Ctx) -> tuple[str, ...]:
    S = ctx.S
    if "name" in labels:
        c = labels["name"]
        first = []
        for s in range(S):
            v = sh.label(body0 + s, c)
            if v is None or not str(v).strip():
                sh.fail(body0 + s, c, "blank sector name")
            first.append(str(v).strip())
        for k in range(S, ctx.N):
            v = sh.label(body0 + k, c)
            if v is not None and str(v).strip() and _norm(v) != _norm(first[k % S]):
                sh.fail(body0 + k, c, f"sector name {v!r} differs from {first[k % S]!r} of the first city block")
        return tuple(first)
    if lay.sector_labels is not None:
        return lay.sector_labels
    ctx.report.add("sector_labels", f"sheet '{sh.name}'", "no sector-name column and none declared: labels are the codes")
    return lay.sectors


def _same_city(a: object, b: object) -> bool:
    """Two city labels name the same city: equal text, or the same adcode once resolved."""
    if _norm(a) == _norm(b):
        return True
    from intercity.sources import names as names_mod

    ca, cb = (names_mod.to_adcode(v) or _pinyin_names().get(_norm(v)) for v in (a, b))
    return ca is not None and ca == cb


def _check_column_cities(sh: _Sheet, labels: dict[str, int], body0: int, lay: Layout, ctx: _Ctx,
                         z_cols: list[int], fd: list[int], K: int) -> None:
    """The declared header row names the right city over every Z and final-demand column."""
    hr = lay.column_city_row - 1
    row_city = [sh.label(body0 + i * ctx.S, labels["city"]) if "city" in labels else ctx.cities[i]
                for i in range(ctx.n)]
    last = None
    for j, c in enumerate(z_cols):
        i = j // ctx.S
        v = sh.head[hr][c] if c < len(sh.head[hr]) else None
        last = v if v is not None and str(v).strip() else (last if j % ctx.S else None)
        if last is None or not _same_city(last, row_city[i]):
            sh.fail(hr, c, f"column city {last!r} over intermediate use of city #{i + 1}, whose rows say {row_city[i]!r}")
    last = None
    for j, c in enumerate(fd):
        i = j // K if lay.fd_order == "city-major" else j % ctx.n
        v = sh.head[hr][c] if c < len(sh.head[hr]) else None
        last = v if v is not None and str(v).strip() else last
        if last is None or not _same_city(last, row_city[i]):
            sh.fail(hr, c, f"column city {last!r} over final demand of city #{i + 1}, whose rows say {row_city[i]!r}")


# --------------------------------------------------------------------------------------------
# entry points


def read(path: Path | str, cities: Sequence[str] | Path | str | None, layout: Layout | None = None,
         year: int | None = None) -> CEADsTable:
    """Read one CEADs table (``.mat`` or ``.xlsx``, by suffix) by its declared ``layout``.

    ``cities``: the cities in file order as adcodes or names, or the path of a city-list file
    (:func:`read_city_list`); for ``.xlsx`` None reads them from the city label column.
    Returns a :class:`CEADsTable` (DenseMRIO in 10k yuan plus the report). Raises
    :class:`CEADSError` naming the file and the field, sheet, cell, row or column.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".mat":
        return load_mat(p, cities, layout, year)
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return load_xlsx(p, cities, layout, year)
    raise CEADSError(f"{p}: unknown format '{p.suffix}' (expected .mat, or a spreadsheet: .xlsx, .xlsm, .xls, .xlsb, .ods)")


def read_years(files: Mapping[int, Path | str], cities: Sequence[str] | Path | str | None,
               layout: Layout | None = None) -> dict[int, CEADsTable]:
    """Read one table per year; every missing file is named in ONE error before anything is read.

    ``cities`` is shared by all years (CEADs city sets differ between vintages: give one list per
    year by calling :func:`read` per year instead). Returns {year: CEADsTable}.
    """
    missing = [f"{y}: {Path(p)}" for y, p in sorted(files.items()) if not Path(p).is_file()]
    if missing:
        raise CEADSError(f"CEADs table file(s) not found: {'; '.join(missing)}")
    if isinstance(cities, (str, Path)) and not (isinstance(cities, str) and _is_adcode(cities)):
        cities = read_city_list(cities)
    return {int(y): read(p, cities, layout, year=int(y)) for y, p in sorted(files.items())}


def load(path: Path | str, cities: Sequence[str] | Path | str | None, sectors: Sequence[str] = NBS_CODES,
         layout: Layout | None = None) -> DenseMRIO:
    """The DenseMRIO of :func:`read` (10k yuan); ``sectors`` overrides ``layout.sectors``.

    Kept for the earlier signature ``load(path, cities, sectors)``; use :func:`read` to get the
    report (blank cells, conversions, balance checks) and the sector labels.
    """
    lay = layout or Layout()
    if tuple(sectors) != tuple(lay.sectors):
        lay = dataclasses.replace(lay, sectors=tuple(sectors))
    return read(path, cities, lay).mrio


def reports_frame(tables: Iterable[CEADsTable]) -> pd.DataFrame:
    """The reports of several tables in one frame: file, kind, where, message (for the ledger/book)."""
    frames = [t.report.frame() for t in tables]
    return pd.concat(frames, ignore_index=True) if frames else Report("").frame()
