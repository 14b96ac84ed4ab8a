"""The ``ceads`` data source: the user's copy of the CEADs city MRIO (and city panel), with every
other variable from the public source.

Parameters (the ``ceads:`` section of a parameter file, :class:`intercity.params.CEADsParams`):
the MRIO file of each year (``.mat`` or a spreadsheet), the layout declaration (a JSON file or a
mapping of :class:`Layout` keys), the city list in file order (one for every year, or one per
year), the money unit of the files, and optionally the user's ``city_panel``.

What comes from where (the book's data realism table and banner say the same)
-----------------------------------------------------------------------------
* **MRIO** (every year): the user's CEADs tables, read by the declared layout
  (:func:`intercity.sources.ceads.reader.read`; never guessed), converted from ``ceads.unit`` to
  the book's 10k yuan, imports handled as the layout declares (CEADs: non-competitive, ``Z`` and
  ``F`` domestic), and mapped from the file's sector list (NBS's 42-sector list of the table's
  year, whose codes mean different sectors in 2017) to the book's 41 sectors through the
  description-keyed concordance of :mod:`intercity.sectors` (:func:`book_sector_matrix`, the ONE
  place where a CEADs table's sector labels are mapped). Dense form (:class:`DenseMRIO`).
* **Cities.** The panel's cities are those of the public source (the study's universe of
  prefecture-level cities, less administrative changes and cities a public input lacks) that the
  MRIO of every year has, sampled to ``scale`` as for the other sources. Panel cities the MRIO
  lacks are dropped by the public source's city selection with a ledger row naming the MRIO
  file. MRIO cities not in the panel (autonomous prefectures, cities the public inputs lack,
  cities sampled out) stay in the Leontief system -- their demand still induces output in the
  panel's cities -- and each gets a ledger row (stage ``ceads``) saying why it is not in the panel.
* **City-year variables, HSR lines, search index**: the public source
  (:mod:`intercity.sources.public`), with the user's city panel, if given, replacing its imputed
  and proxy values (flagged ``user``; :mod:`intercity.sources.ceads.panel`).

Tables read once: each year's table, mapped to the book's sectors, is kept under
``<cache>/ceads-tables/<key>/`` as ``.npy`` arrays (``key``: the file's sha256, the layout, the
city list, the year and the reader's code), and the bundle holds it memory-mapped, so a full-size
build holds no more than one year's table in memory while reading, and a second build (another
scale, seed or public input) does not read the user's files again.

Errors name the parameter and the file (:class:`CEADSError`, one line).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from intercity import cachekey, paths
from intercity import sectors as sectors_mod
from intercity.mrio import DenseMRIO, MRIOError, release_pages
from intercity.mrio import validate as validate_mrio
from intercity.schema import CITY_YEAR_VARS, StudyData, ledger_frame
from intercity.sources.ceads.reader import (CEADS_CATEGORIES_ZH, FD_WORDS, NBS_CODES, UNITS, CEADSError,  # noqa: F401
                                            CEADsTable, CityCountError, Layout, Note, Report, load, load_mat, load_xlsx, read,
                                            read_city_list, read_years, reports_frame, resolve_cities)

if TYPE_CHECKING:
    from intercity.params import CEADsParams, Params

#: The reader's modules and data whose change invalidates the cached tables.
TABLE_MODULES: tuple[str, ...] = ("intercity.sources.ceads.reader", "intercity.sectors")
TABLE_DATA: tuple[str, ...] = ("data/reference/sector_concordance.csv",)


# --------------------------------------------------------------------------------------------
# parameters -> layout and city lists


def layout_for(cfg: "CEADsParams") -> Layout:
    """The :class:`Layout` of the ``ceads.layout`` parameter (a JSON file or a mapping), with the
    money unit of ``ceads.unit``. Raises :class:`CEADSError` naming the parameter and the file: an
    unknown key, a bad value, or a unit in the layout that differs from ``ceads.unit``."""
    where = "parameter 'ceads.layout'"
    if isinstance(cfg.layout, Mapping):
        raw, src = dict(cfg.layout), f"{where} (a mapping in the parameter file)"
    else:
        path = cfg.path(cfg.layout)
        src = f"{where} ({path})"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise CEADSError(f"{src}: not a readable JSON layout ({err})") from None
        if not isinstance(raw, dict):
            raise CEADSError(f"{src}: expected a JSON object of layout keys, got {type(raw).__name__}")
    declared = raw.get("unit")
    if declared is not None:
        from intercity.sources.ceads.reader import _unit_name

        if _unit_name(str(declared)) != cfg.unit:
            raise CEADSError(f"{src}: declares unit {declared!r} but parameter 'ceads.unit' is {cfg.unit!r}; "
                             "make them agree (or leave the unit out of the layout)")
    raw["unit"] = cfg.unit
    return Layout.from_mapping(raw, src)


def city_lists(cfg: "CEADsParams", years: list[int]) -> dict[int, tuple[str, ...] | None]:
    """The cities of each year's table in file order (adcodes), from ``ceads.cities``; None for a
    spreadsheet year without a list (its city label column names them). Raises
    :class:`CEADSError` naming the parameter and file, listing every name that matches nothing."""
    out: dict[int, tuple[str, ...] | None] = {}
    cache: dict[Path, tuple[str, ...]] = {}
    for y in years:
        p = cfg.city_list_path(y)
        if p is None:
            out[y] = None
            continue
        if p not in cache:
            try:
                cache[p] = read_city_list(p)
            except CEADSError as err:
                raise CEADSError(f"parameter '{cfg.city_list_name(y)}': {err}") from None
        out[y] = cache[p]
    return out


# --------------------------------------------------------------------------------------------
# sectors: the one place where a CEADs table's sector labels are mapped to the book's scheme


def book_sector_matrix(table: CEADsTable, year: int, layout: Layout, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """(M, labels): the 0/1 matrix (S_file, 41) mapping the table's sectors to the book's, and the
    labels it was built from.

    Labels are the table's sector descriptions (a spreadsheet's sector-name column, or the
    layout's ``sector_labels``); a table that carries only codes (every ``.mat`` without declared
    labels) is read as NBS's 42-sector list of ``year`` (:func:`intercity.sectors.nbs_sectors`),
    the list CEADs city tables follow, which requires the codes "01".."42". The labels then go
    through :func:`intercity.sectors.aggregation_matrix` (by description, never by code number:
    NBS's 2017 codes mean other sectors from 22 on). Raises :class:`CEADSError` naming ``where``.
    """
    labels = tuple(table.sector_labels)
    if labels == tuple(layout.sectors):  # codes only: the NBS list of the year, by code
        if tuple(layout.sectors) != NBS_CODES:
            raise CEADSError(f"{where}: the table's sectors carry no descriptions and are not NBS's 42 codes "
                             f"'01'..'42' (layout sectors {list(layout.sectors)[:3]}...): declare sector_labels "
                             "(descriptions) in the layout")
        labels = tuple(sectors_mod.nbs_sectors(year)["description_zh"])
    try:
        M = sectors_mod.aggregation_matrix(labels, year).to_numpy()
    except sectors_mod.ConcordanceError as err:
        raise CEADSError(f"{where}: sector labels: {err}") from None
    return M, labels


def aggregate_dense(Z: np.ndarray, F: np.ndarray, x: np.ndarray, n: int, M: np.ndarray,
                    write=None) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """A dense city x sector system mapped to other sectors by a 0/1 matrix ``M`` (S_in, S_out).

    ``Z`` (n*S_in)^2, ``F`` (n*S_in, n), ``x`` (n*S_in,) city-major -> the same on S_out sectors:
    ``Z_out = K' Z K``, ``F_out = K' F``, ``x_out = K' x`` with ``K = I_n (x) M`` (sums of the
    merged sectors' rows and columns). One city's rows at a time; with ``write`` (a callable
    taking each city's (S_out, n*S_out) block of rows, in order: e.g. a file's ``write`` of its
    bytes) ``Z_out`` is streamed out and None is returned for it, so the only full-size array in
    memory is ``Z``.
    """
    S_in, S_out = M.shape
    N_out = n * S_out
    Z_out = None if write is not None else np.empty((N_out, N_out))
    for i in range(n):
        blk = np.asarray(Z[i * S_in:(i + 1) * S_in, :]).reshape(S_in, n, S_in) @ M  # (S_in, n, S_out)
        rows = M.T @ blk.reshape(S_in, N_out)
        if write is None:
            Z_out[i * S_out:(i + 1) * S_out, :] = rows
        else:
            write(np.ascontiguousarray(rows))
    F_out = np.einsum("isj,st->itj", np.asarray(F).reshape(n, S_in, -1), M).reshape(N_out, -1)
    x_out = (np.asarray(x).reshape(n, S_in) @ M).reshape(N_out)
    return Z_out, F_out, x_out


# --------------------------------------------------------------------------------------------
# tables, read once and kept as .npy


def _table_dir() -> Path:
    return Path(paths.CACHE_DIR) / "ceads-tables"


def _table_key(file_sha: str, layout: Layout, cities: tuple[str, ...] | None, year: int) -> str:
    return cachekey.key("ceads-table", TABLE_MODULES, TABLE_DATA,
                        {"file": file_sha, "layout": layout.to_dict(), "cities": list(cities) if cities else None,
                         "year": year, "info": 2})


def _open_table(d: Path) -> tuple[DenseMRIO, dict[str, Any]]:
    info = json.loads((d / "table.json").read_text(encoding="utf-8"))
    arrays = {k: np.load(d / f"{k}.npy", mmap_mode="r") for k in ("Z", "F", "x")}
    m = DenseMRIO(cities=tuple(info["cities"]), sectors=tuple(info["sectors"]), **arrays)
    return m, info


def read_table(path: Path, cities: tuple[str, ...] | None, layout: Layout, year: int,
               file_sha: str, where: str) -> tuple[DenseMRIO, dict[str, Any]]:
    """One year's table on the book's sectors (memory-mapped) and what the reader said about it.

    Read from ``path`` by ``layout`` (:func:`read`), mapped to the book's sectors
    (:func:`book_sector_matrix`, :func:`aggregate_dense`), written to the table cache and opened
    from there; a second call with the same file, layout, cities and year opens the cache. The
    info holds: file, sha256, year, cities, sectors, the file's sector labels, categories, the
    reader's notes (file, kind, where, message), the sector mapping, and per city (file order) the
    value added (None if the file has none) and gross output, 10k yuan (for :func:`unit_check`). ``where`` names the
    parameter for messages.
    """
    key = _table_key(file_sha, layout, cities, year)
    d = _table_dir() / key
    if (d / "table.json").is_file():
        return _open_table(d)
    t = read(path, cities, layout, year=year)
    M, labels = book_sector_matrix(t, year, layout, where)
    n = t.mrio.n_cities
    tmp = d.with_name(f"{d.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    N = n * M.shape[1]
    with (tmp / "Z.npy").open("wb") as fh:  # streamed a city's rows at a time: no second full-size array
        np.lib.format.write_array_header_1_0(fh, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float64)),
                                                  "fortran_order": False, "shape": (N, N)})
        _, F_out, x_out = aggregate_dense(t.mrio.Z, t.mrio.F, t.mrio.x, n, M, write=lambda b: fh.write(b.tobytes()))
    np.save(tmp / "F.npy", F_out)
    np.save(tmp / "x.npy", x_out)
    merged = {sectors_mod.SECTOR_CODES[b]: [t.mrio.sectors[r] for r in np.flatnonzero(M[:, b])]
              for b in range(M.shape[1]) if M[:, b].sum() > 1}
    S_file = len(t.mrio.sectors)
    by_city = lambda v: None if v is None else [float(a) for a in np.asarray(v).reshape(n, S_file).sum(axis=1)]  # noqa: E731
    info = {"file": str(path), "sha256": file_sha, "year": year, "cities": list(t.mrio.cities),
            "sectors": list(sectors_mod.SECTOR_CODES), "file_sectors": list(t.mrio.sectors),
            "file_sector_labels": list(labels), "categories": list(t.categories),
            "merged_sectors": merged,
            "value_added_by_city": by_city(t.value_added), "output_by_city": by_city(t.mrio.x),
            "notes": t.report.frame().astype(str).to_dict("records")}
    (tmp / "table.json").write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    del t
    if (d / "table.json").is_file():  # another process wrote it meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        shutil.rmtree(d, ignore_errors=True)
        try:
            tmp.rename(d)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
    return _open_table(d)


def read_mrio(cfg: "CEADsParams", years: list[int], layout: Layout | None = None,
              log=None) -> tuple[dict[int, DenseMRIO], dict[int, dict[str, Any]]]:
    """Every MRIO year of the ``ceads`` parameters: {year: DenseMRIO on the book's sectors, 10k
    yuan, memory-mapped}, {year: info of :func:`read_table`}. Each table is validated
    (:func:`intercity.mrio.validate`); errors name the parameter and the file."""
    log = log or (lambda _m: None)
    missing = [f"'ceads.mrio.{y}' ({cfg.mrio_path(y)})" for y in years if not cfg.mrio_path(y).is_file()]
    if missing:
        raise CEADSError(f"parameter {'; '.join(missing)}: file not found")
    shas = {y: cachekey.file_sha256(cfg.mrio_path(y)) for y in years}
    first: dict[str, int] = {}
    for y in years:
        if shas[y] in first:
            y0 = first[shas[y]]
            raise CEADSError(f"parameters 'ceads.mrio.{y0}' ({cfg.mrio_path(y0)}) and 'ceads.mrio.{y}' "
                             f"({cfg.mrio_path(y)}) are the same table (sha256 {shas[y][:12]}...): give each year's own file")
        first[shas[y]] = y
    layout = layout or layout_for(cfg)
    lists = city_lists(cfg, years)
    out, infos = {}, {}
    for y in years:
        path = cfg.mrio_path(y)
        where = f"parameter 'ceads.mrio.{y}' ({path})"
        if lists[y] is None and path.suffix.lower() == ".mat":
            raise CEADSError(f"{where}: a .mat file names no cities; give the city list in file order "
                             "(parameter 'ceads.cities')")
        log(f"ceads: reading the {y} table {path.name} ...")
        try:
            m, info = read_table(path, lists[y], layout, y, shas[y], where)
        except CityCountError as err:
            raise CEADSError(f"parameter '{cfg.city_list_name(y)}' ({cfg.city_list_path(y)}): the city list has "
                             f"{err.n_list} cities while the {y} table ({path}) has rows for {err.n_table} "
                             f"({err.detail}); list the table's cities in file order") from None
        except CEADSError as err:
            msg = str(err)
            raise CEADSError(msg if msg.startswith("parameter") else f"parameter 'ceads.mrio.{y}': {msg}") from None
        try:
            validate_mrio(m, label=f"{path.name} ({y})")
        except MRIOError as err:
            raise CEADSError(f"{where}: {err}") from None
        release_pages(m.Z)  # one year resident at a time
        out[y], infos[y] = m, info
    return out, infos


# --------------------------------------------------------------------------------------------
# what the tables are: the fake, and a plausible money unit

#: The file ``python -m intercity data fake-ceads`` writes beside its tables (how it was made).
FAKE_FILE = "fake.json"


def fake_evidence(cfg: "CEADsParams", years: list[int], infos: Mapping[int, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Whether the tables are the FAKE ones written from the synthetic world in the CEADs layouts
    (:mod:`intercity.sources.ceads.fake`): a ``fake.json`` beside a year's table, or a
    ``fake_marker`` note of the reader (the spreadsheet's title says "合成数据，非 CEADs 原表").
    Returns None, or {"folders": the folders of the marked tables, "years": the marked years,
    "evidence": one sentence per finding, "made": the content of the first ``fake.json``}."""
    evidence: list[str] = []
    folders: list[str] = []
    marked: list[int] = []
    made: dict[str, Any] = {}
    for y in years:
        path = cfg.mrio_path(y)
        marker = path.parent / FAKE_FILE
        if marker.is_file():
            evidence.append(f"{y}: {FAKE_FILE} beside the table in {path.parent}")
            folders.append(str(path.parent))
            marked.append(y)
            if not made:
                try:
                    made = json.loads(marker.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError, json.JSONDecodeError):
                    made = {}
        for n in infos[y]["notes"]:
            if n.get("kind") == "fake_marker":
                evidence.append(f"{y}: {n['where']} of {path.name} marks the fake")
                folders.append(str(path.parent))
                marked.append(y)
    if not evidence:
        return None
    return {"folders": sorted(set(folders)), "years": sorted(set(marked)), "evidence": evidence,
            "made": made if isinstance(made, dict) else {}}


#: Plausible band of (the tables' value added) / (public city GDP) over the matched cities, after
#: unit conversion. Value added of a city table is its GDP by definition (CEADs builds the city
#: tables on city GDP), so the real ratio is near 1; the band is wide (a factor 20 either way) so
#: that differences of coverage, vintage or a proxy never trip it, while a wrong money unit (a
#: factor of 100 or 10,000 between yuan, 10k yuan, million yuan and 100 million yuan) does. The
#: fake tables are written from the synthetic world, whose output is calibrated to the study's
#: descriptive statistics, not to the public GDP of the same cities: its ratio on the public GDP,
#: measured at 41 cities (the default of ``data fake-ceads``, scale 1), is 0.585 (2012), 0.542
#: (2015) and 0.529 (2017), 0.29-0.41 on the 4- and 8-city fakes of the tests: inside the band.
UNIT_RATIO_BAND: tuple[float, float] = (1 / 20, 20.0)
#: Gross output / GDP of China's economy, used when a table has no value added: the national IO
#: tables of the mirror give 2.98 (2012), 3.06 (2015) and 2.74 (2017) (total output over total value
#: added, :func:`intercity.sources.national_io.national_table`).
TYPICAL_OUTPUT_TO_GDP: float = 2.9


def unit_check(infos: Mapping[int, Mapping[str, Any]], city_year: pd.DataFrame, unit: str,
               years: list[int]) -> dict[int, dict[str, Any]]:
    """The money unit checked against the public city GDP: per MRIO year, the ratio of the tables'
    value added (10k yuan, after converting from ``unit``) to the public GDP (``gdp_per_capita`` x
    ``population``: 10k yuan per person x 10k persons, x 1e4 -> 10k yuan) summed over the table's
    cities that are in ``city_year``; a table without value added uses gross output /
    :data:`TYPICAL_OUTPUT_TO_GDP`. Returns {year: {"ratio", "basis", "cities"}}.

    Raises :class:`CEADSError` (one line) naming the parameter 'ceads.unit', its value, the ratio
    found and the unit that brings the ratio nearest 1, when a year's ratio is outside
    :data:`UNIT_RATIO_BAND`."""
    lo, hi = UNIT_RATIO_BAND
    out: dict[int, dict[str, Any]] = {}
    for y in years:
        info = infos[y]
        cy = city_year[city_year["year"] == y]
        gdp = pd.Series((cy["gdp_per_capita"] * cy["population"] * 1e4).to_numpy(), index=cy["city_id"].astype(str))
        gdp = gdp[np.isfinite(gdp) & (gdp > 0)]
        va, xo = info.get("value_added_by_city"), info.get("output_by_city")
        if va is not None:
            values, basis = pd.Series(va, index=info["cities"]), "value added"
        elif xo is not None:
            values = pd.Series(xo, index=info["cities"]) / TYPICAL_OUTPUT_TO_GDP
            basis = f"gross output / {TYPICAL_OUTPUT_TO_GDP:g} (no value added in the file)"
        else:
            continue
        matched = [c for c in values.index if c in gdp.index]
        if not matched:
            continue
        ratio = float(values[matched].sum() / gdp[matched].sum())
        out[y] = {"ratio": ratio, "basis": basis, "cities": len(matched)}
        if not (lo <= ratio <= hi):
            if not (np.isfinite(ratio) and ratio > 0):
                raise CEADSError(f"parameter 'ceads.unit' is {unit!r}: the {y} table's {basis} over the {len(matched)} "
                                 f"cities matched to the public city GDP sums to {ratio:.3g} times their GDP, not a "
                                 "positive number; check the table")
            alt = {u: ratio * UNITS[u] / UNITS[unit] for u in UNITS}
            best = min(alt, key=lambda u: abs(np.log(alt[u])))
            raise CEADSError(f"parameter 'ceads.unit' is {unit!r}, but then the {y} table's {basis} over the "
                             f"{len(matched)} cities matched to the public city GDP is {ratio:.3g} times that GDP "
                             f"(plausible: {lo:g} to {hi:g}); with ceads.unit {best!r} it would be {alt[best]:.3g}: "
                             "give the tables' money unit")
    return out


# --------------------------------------------------------------------------------------------
# the reading report, for the user

#: Columns of the reading report (:func:`report_frame`).
REPORT_COLUMNS: tuple[str, ...] = ("year", "file", "kind", "where", "message")


def report_frame(data: StudyData) -> pd.DataFrame:
    """How the user's CEADs tables were read: one row per reader note (blank cells read as 0,
    columns and rows dropped and why, unit conversion, import treatment, balance checks, the
    fake's marker) and per year the unit check against the public GDP (:func:`unit_check`);
    columns :data:`REPORT_COLUMNS`. Empty for a bundle of another source."""
    frame = data.extras.get("ceads_report") if data.source == "ceads" else None
    if frame is None:
        return pd.DataFrame(columns=list(REPORT_COLUMNS))
    return frame[list(REPORT_COLUMNS)].reset_index(drop=True)


def _few(items: list[str], k: int = 3) -> str:
    return ", ".join(items[:k]) + (f" and {len(items) - k} more" if len(items) > k else "")


def report_lines(report: pd.DataFrame, where: str) -> list[str]:
    """One line per year of :func:`report_frame` saying what was irregular or changed (blank cells
    read as 0, columns or rows dropped, numbers stored as text, fields transposed or sparse, balance
    checks that fail, the unit converted, the fake), or that nothing was; each ends with
    "see ``where``" (the report's CSV)."""
    out = []
    for year, sub in report.groupby("year", sort=True):
        kinds = lambda k: sub[sub["kind"] == k]  # noqa: E731
        parts = []
        fake = kinds("fake_marker")
        if len(fake):
            parts.append(f"the FAKE tables ({fake['where'].iloc[0]} marks them)")
        blank = kinds("blank_cell")
        if len(blank):
            parts.append(f"{len(blank)} blank cell{'s' if len(blank) > 1 else ''} ({_few(list(blank['where']))}) read as 0")
        text = kinds("number_as_text")
        if len(text):
            parts.append("; ".join(text["message"]))
        for kind in ("dropped_column", "dropped_row"):  # where: "column H 'Import'", "row 9 '合计'"
            d = kinds(kind)
            if len(d):
                parts.append(f"{_few(list(d['where']))} dropped ({_few(list(dict.fromkeys(d['message'])), 2)})")
        for kind, what in (("subtotal_mismatch", "subtotal columns not matching any sum"),
                           ("transposed", "fields stored the other way round"), ("sparse", "sparse fields"),
                           ("ignored_field", "fields not read"), ("city_label", "city labels")):
            d = kinds(kind)
            if len(d):
                parts.append(f"{what}: {_few(list(d['where']))}")
        for kind, what in (("balance_row_summary", "row balance"), ("balance_column_summary", "column balance")):
            d = kinds(kind)
            if len(d):
                parts.append(f"{what} {d['where'].iloc[0]}")
        unit = kinds("unit")
        if len(unit):
            parts.append(unit["message"].iloc[0])
        check = kinds("unit_check")
        ratio = f"; {check['message'].iloc[0].split(': ', 1)[-1]}" if len(check) else ""
        name = Path(str(sub["file"].iloc[0])).name
        body = "; ".join(parts) if parts else "read as declared, nothing irregular"
        out.append(f"ceads {year} ({name}): {body}{ratio}; see {where}")
    return out


def data_step_lines(data: StudyData, set_name: str) -> list[str]:
    """What the data step prints about the user's tables (:func:`report_lines`, naming
    ``results/<set_name>/ceads_report.csv``, which the runner writes); [] for another source."""
    if data.source != "ceads":
        return []
    return report_lines(report_frame(data), f"results/{set_name}/ceads_report.csv")


# --------------------------------------------------------------------------------------------
# the source


#: What the banner and the data realism table say about the MRIO of this source.
MRIO_NOTE = ("The city MRIO is the user's copy of the CEADs city-level MRIO tables (Zheng et al. 2021 and "
             "later vintages), read by the declared layout, converted to 10k yuan and mapped to the "
             "book's 41 sectors by description.")


#: What the banner and the data realism table say when the tables are the fake (see :func:`fake_note`).
FAKE_MRIO_NOTE = ("The city MRIO tables are the FAKE CEADs tables: the synthetic world written in the CEADs layouts "
                  "by python -m intercity data fake-ceads, not CEADs' own tables; every transfer is the synthetic "
                  "world's, so no claim about China is testable on them.")


def fake_note(fake: Mapping[str, Any]) -> str:
    """:data:`FAKE_MRIO_NOTE` with the folder(s) the fake tables came from."""
    return f"{FAKE_MRIO_NOTE} Folder: {', '.join(fake['folders'])}."


def build(params: "Params", years: list[int], log=None) -> StudyData:
    """The CEADs StudyData for ``params`` (registry entry point; see :mod:`intercity.sources`).

    Order: layout, city lists and city panel are checked first (cheap, and where most mistakes
    are), then the tables are read, then the public source is assembled on the cities the MRIO of
    every year has. Raises :class:`CEADSError` (one line naming the parameter and file).
    """
    from intercity.sources import public
    from intercity.sources.ceads import panel as panel_mod

    cfg = params.ceads
    if cfg is None:
        raise CEADSError("data_source 'ceads' needs the parameter section 'ceads' (the MRIO files, layout, "
                         "city list and unit)")
    log = log or (lambda _m: None)
    mrio_years = list(params.mrio_years)
    layout = layout_for(cfg)
    city_panel = None
    if cfg.city_panel is not None:
        try:
            city_panel = panel_mod.read_city_panel(cfg.path(cfg.city_panel), years)
        except panel_mod.CityPanelError as err:
            raise CEADSError(f"parameter 'ceads.city_panel': {err}") from None
    mrio, infos = read_mrio(cfg, mrio_years, layout, log)
    cover = {y: set(m.cities) for y, m in mrio.items()}
    require = {f"CEADs MRIO {y} ({cfg.mrio_path(y).name})": cover[y] for y in mrio_years}
    base = public.assemble(None if params.scale == 1 else params.n_cities, params.seed, years, mrio_years=(),
                           hsr_measure=params.hsr_measure, provincial_constraint=False, require=require)
    ids = set(base.cities["city_id"])
    checks = unit_check(infos, base.city_year, cfg.unit, mrio_years)
    fake = fake_evidence(cfg, mrio_years, infos)
    ledger = [base.ledger, _outside_panel(mrio, ids, base.ledger)]
    city_year = base.city_year
    variables = dict(base.meta.get("variables", {}))
    panel_info: dict[str, Any] = {}
    extras = dict(base.extras)
    if city_panel is not None:
        city_year, counts = panel_mod.apply_city_panel(city_year, city_panel)
        for r in counts.itertuples(index=False):
            if r.replaced:
                variables[r.variable] = (f"user: {r.replaced} values from the city panel {city_panel.name} replace "
                                         f"the public source's imputed or proxy values; elsewhere "
                                         + variables.get(r.variable, "the public source"))
        panel_info = {"file": str(city_panel.path), "name": city_panel.name,
                      "sha256": cachekey.file_sha256(city_panel.path),
                      "variables": list(city_panel.variables), "use": counts.to_dict("records"),
                      "rows_for_cities_outside_the_panel": int(sum(city_panel.unused_cities.values()))}
        extras["city_panel_use"] = counts
    rows = [{"year": y, **n} for y, info in infos.items() for n in info["notes"]]
    for y in (fake or {}).get("years", []):
        if (cfg.mrio_path(y).parent / FAKE_FILE).is_file():
            rows.append({"year": y, "file": infos[y]["file"], "kind": "fake_marker",
                         "where": f"{FAKE_FILE} in {cfg.mrio_path(y).parent}",
                         "message": "written by python -m intercity data fake-ceads: the FAKE tables (the synthetic "
                                    "world in the CEADs layouts), not CEADs' own"})
    for y, c in checks.items():
        rows.append({"year": y, "file": infos[y]["file"], "kind": "unit_check",
                     "where": f"{c['basis']} vs public city GDP ({c['cities']} cities)",
                     "message": f"money unit {cfg.unit!r}: the tables' {c['basis']} is {c['ratio']:.3g} times the public "
                                f"GDP of the matched cities (plausible: {UNIT_RATIO_BAND[0]:g} to {UNIT_RATIO_BAND[1]:g})"})
    notes = pd.DataFrame(rows, columns=["year", "file", "kind", "where", "message"]).astype(str)
    extras["ceads_report"] = notes
    cov = {v: city_year[f"prov_{v}"].value_counts(normalize=True).round(4).to_dict() for v in CITY_YEAR_VARS}
    files = {str(y): {"file": infos[y]["file"], "name": Path(infos[y]["file"]).name,
                      "folder": str(Path(infos[y]["file"]).parent), "sha256": infos[y]["sha256"],
                      "cities": len(infos[y]["cities"]), "file_sectors": len(infos[y]["file_sectors"]),
                      "merged_sectors": infos[y]["merged_sectors"]} for y in mrio_years}
    meta = {**base.meta, "source": "ceads", "variables": variables, "provenance_shares": cov,
            "mrio": {"note": fake_note(fake) if fake else MRIO_NOTE, "files": files, "unit": cfg.unit,
                     "imports": layout.imports, "fake": fake,
                     "unit_check": {str(y): c for y, c in checks.items()},
                     "layout": "mapping in the parameter file" if isinstance(cfg.layout, Mapping)
                     else str(cfg.path(cfg.layout)),
                     "cities_outside_panel": len(set().union(*cover.values()) - ids)},
            "city_panel": panel_info}
    return StudyData(source="ceads", cities=base.cities, city_year=city_year, pair_year=base.pair_year,
                     mrio=mrio, ledger=pd.concat(ledger, ignore_index=True), extras=extras, meta=meta)


def _outside_panel(mrio: dict[int, DenseMRIO], panel_ids: set[str], public_ledger: pd.DataFrame) -> pd.DataFrame:
    """One ledger row per MRIO city not in the panel: why, and that it stays in the system."""
    from intercity.cities import city_universe
    from intercity.sources import names as names_mod

    years = sorted(mrio)
    have = {y: set(m.cities) for y, m in mrio.items()}
    universe = set(city_universe()["city_id"])
    names = dict(zip(names_mod.prefectures()["adcode"], names_mod.prefectures()["name"]))
    why_public = {}
    for r in public_ledger.itertuples(index=False):
        if r.kind == "city" and r.key and r.key not in why_public:
            why_public[r.key] = r.reason
    rows = []
    for c in sorted(set().union(*have.values()) - panel_ids):
        in_years = [y for y in years if c in have[y]]
        if c not in universe:
            why = "a prefecture-level unit outside the study's universe of cities (autonomous prefecture, prefecture or league)"
        elif len(in_years) < len(years):
            why = f"not in the MRIO of every year (only {', '.join(map(str, in_years))})"
        else:
            why = why_public.get(c, "not selected by the public source")
        rows.append(("ceads", "city", c, names.get(c, ""),
                     f"in the CEADs MRIO ({', '.join(map(str, in_years))}) but not in the panel: {why}; it stays in "
                     "the Leontief system (its demand still induces output in the panel's cities)"))
    return ledger_frame(rows)
