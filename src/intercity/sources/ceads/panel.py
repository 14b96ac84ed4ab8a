"""The user's own city panel: a CSV from a documented template, one row per city and year.

A CEADs holder often has a city panel from the yearbooks (patents, fixed and liquid assets,
enrolment, trade, spending) that the public source lacks. ``python -m intercity data template
--out FILE`` writes the template (:func:`write_template`); the parameter ``ceads.city_panel`` names
the filled-in file; :func:`read_city_panel` reads it and :func:`apply_city_panel` puts its values
into the bundle's ``city_year`` table.

The file
--------
UTF-8 CSV. Lines starting with ``#`` at the top are comments (the template describes every column
and its unit there: :data:`VARIABLE_UNITS`). Then a header row and one row per city and year.

* ``city_id`` (6-digit adcode) and/or ``name_zh`` (a name: full, short or an alias, matched through
  the alias table :func:`intercity.sources.names.to_adcode`); with both, they must name the same
  city. ``name_en`` may be present (ignored).
* ``year``: a year of the build's city data (the year before the first MRIO year to the last).
* any of the yearbook variables :data:`intercity.schema.CITY_YEAR_VARS`, in the units of
  :data:`VARIABLE_UNITS` (the book's). An empty cell means "no value": the public value stays.

Bad rows stop the build with ONE line naming the file, the line (1-based, comments counted), the
column and the value: an unknown column, a city that is no prefecture-level unit, a year outside
the data years, a value that is not a number or is negative, a value outside the range its unit
allows (:data:`VARIABLE_RANGES`: e.g. urbanization 58.3 in a column of fractions), the same
city and year twice. A city
that is a prefecture-level unit but not in the build's panel is not an error (its rows are counted
and not used: :attr:`CityPanel.unused_cities`).

What the values do
------------------
They replace the public source's ``imputed`` and ``proxy`` values of the same city, year and
variable, and those values are flagged ``user`` in the provenance (``prov_<variable>``) and so in
the book's data realism table; ``observed`` and ``interpolated`` public values are kept (the
public file is the reference there; the count of user values not used is returned). This is the
rule of the data-source contract (DESIGN: "its values override imputed and proxy values").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from intercity.schema import CITY_YEAR_VARS, PROVENANCE

#: Unit and definition of every variable of the city panel (the book's units, those of the
#: synthetic and public sources; the study's definitions where its slides give them).
VARIABLE_UNITS: dict[str, str] = {
    "gdp_per_capita": "10k yuan per person: regional GDP / resident population",
    "population": "10k persons: resident (permanent) population, year end",
    "urbanization": ("fraction: urban population / resident population, year end (above 1 where more people are "
                     "registered urban than reside: the study's maximum is 1.217)"),
    "fdi_gdp": "fraction: foreign direct investment actually used (converted to yuan) / GDP",
    "college_per_pop": "fraction: college and university students enrolled / resident population",
    "trade_gdp": "fraction: (imports + exports) / GDP",
    "gov_exp_gdp": "fraction: general public budget expenditure / GDP",
    "employment": "10k persons: employed workers (on-the-job staff), year end",
    "fixed_assets": "10k yuan: net fixed asset balance",
    "liquid_assets": "10k yuan: liquid (circulating) asset balance",
    "patents": "count: patent applications",
}
#: Allowed ranges (inclusive) of the variables whose unit makes a bound certain. College students
#: enrolled are fewer than the resident population: 0-1. The urbanization rate of the yearbooks
#: (urban population, often registered, over resident population) exceeds 1 in cities people leave
#: (the study's own maximum is 1.217, ``data/reference/descriptive_stats.csv``), so its bound is 2:
#: still far below any percentage (no prefecture-level city is below 2% urban). Ratios to GDP are not
#: bounded here (trade / GDP exceeds 1 in export cities; FDI and budget spending may too), and
#: counts and money only by the check that they are not negative. A value above its range is
#: most often a percentage given for a fraction (58.3 for 0.583).
VARIABLE_RANGES: dict[str, tuple[float, float]] = {"urbanization": (0.0, 2.0), "college_per_pop": (0.0, 1.0)}
#: Label columns the reader accepts besides ``year``.
LABEL_COLUMNS: tuple[str, ...] = ("city_id", "name_zh", "name_en")
#: Provenance values the user's values replace.
REPLACED: tuple[str, ...] = ("imputed", "proxy")

assert set(VARIABLE_UNITS) == set(CITY_YEAR_VARS) and set(VARIABLE_RANGES) <= set(VARIABLE_UNITS)
assert set(REPLACED) <= set(PROVENANCE)


class CityPanelError(ValueError):
    """The city panel file cannot be used; the one-line message names the file, line and column."""


def header_comment(years: Sequence[int]) -> list[str]:
    """The comment lines of the template: what the file is, the columns and their units."""
    lines = ["# intercity city panel (parameter ceads.city_panel): one row per city and year.",
             f"# Years: {min(years)}-{max(years)}. Cities: city_id (6-digit adcode) and/or name_zh "
             "(matched through the alias table).",
             "# An empty cell means no value (the public source's value stays). Your values replace the "
             "public source's imputed and proxy values and are flagged 'user'.",
             "# Columns and units:"]
    lines += [f"#   {v}: {u}" for v, u in VARIABLE_UNITS.items()]
    return lines


def write(path: Path | str, frame: pd.DataFrame, years: Sequence[int]) -> Path:
    """Write a city panel ``frame`` (columns city_id, name_zh, year and variables) with the
    template's header comment. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = [c for c in ("city_id", "name_zh", "year") if c in frame.columns]
    cols += [v for v in CITY_YEAR_VARS if v in frame.columns]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write("\n".join(header_comment(years)) + "\n")
        frame[cols].to_csv(fh, index=False, lineterminator="\n")
    return path


def write_template(path: Path | str, years: Iterable[int] = range(2011, 2018),
                   cities: pd.DataFrame | None = None) -> Path:
    """The template: every city of ``cities`` (default the study's universe,
    :func:`intercity.cities.city_universe`) x ``years``, labels filled, values empty."""
    from intercity.cities import city_universe

    years = sorted(int(y) for y in years)
    cities = city_universe() if cities is None else cities
    frame = pd.DataFrame({"city_id": np.repeat(cities["city_id"].to_numpy(), len(years)),
                          "name_zh": np.repeat(cities["name_zh"].to_numpy(), len(years)),
                          "year": np.tile(years, len(cities))})
    for v in CITY_YEAR_VARS:
        frame[v] = ""
    return write(path, frame, years)


@dataclass
class CityPanel:
    """A read city panel: ``values`` long (city_id, year, variable, value, line), the file, and
    what was in it."""

    path: Path
    values: pd.DataFrame
    variables: tuple[str, ...]
    unused_cities: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name


def _comment_lines(path: Path) -> int:
    n = 0
    with path.open(encoding="utf-8-sig") as fh:
        for line in fh:
            if line.lstrip().startswith("#"):
                n += 1
            else:
                break
    return n


def read_city_panel(path: Path | str, years: Sequence[int]) -> CityPanel:
    """Read and check a city panel file (module docstring); raises :class:`CityPanelError` with
    one line naming the file, line, column and value of the first bad cell."""
    from intercity.sources import names as names_mod

    path = Path(path)
    if not path.is_file():
        raise CityPanelError(f"{path}: city panel not found")
    skip = _comment_lines(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skiprows=skip, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise CityPanelError(f"{path}: not a UTF-8 CSV with a header row ({str(err).splitlines()[0]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    line = lambda k: skip + 2 + k  # noqa: E731  (header on line skip + 1)
    allowed = ["year", *LABEL_COLUMNS, *CITY_YEAR_VARS]
    unknown = [c for c in df.columns if c not in allowed]
    if unknown:
        raise CityPanelError(f"{path}, line {skip + 1}: unknown column {unknown[0]!r}; allowed: {allowed} "
                             "(see the template: python -m intercity data template)")
    dup = [c for c in df.columns if list(df.columns).count(c) > 1]
    if dup:
        raise CityPanelError(f"{path}, line {skip + 1}: column {dup[0]!r} appears twice")
    if "year" not in df.columns or not ({"city_id", "name_zh"} & set(df.columns)):
        raise CityPanelError(f"{path}, line {skip + 1}: needs a 'year' column and a 'city_id' or 'name_zh' column "
                             f"(has {list(df.columns)})")
    variables = tuple(v for v in CITY_YEAR_VARS if v in df.columns)
    if not variables:
        raise CityPanelError(f"{path}, line {skip + 1}: no variable column; allowed: {list(CITY_YEAR_VARS)}")
    known = set(names_mod.prefectures()["adcode"])
    ids: list[str] = []
    for k, row in enumerate(df.itertuples(index=False)):
        r = row._asdict()
        cid = str(r.get("city_id", "")).strip()
        name = str(r.get("name_zh", "")).strip()
        if cid:
            if not (len(cid) == 6 and cid.isdigit() and cid in known):
                raise CityPanelError(f"{path}, line {line(k)}, column 'city_id': {cid!r} is not the 6-digit adcode "
                                     "of a prefecture-level unit")
            if name:
                code = names_mod.to_adcode(name)
                if code != cid:
                    raise CityPanelError(f"{path}, line {line(k)}, column 'name_zh': {name!r} is "
                                         f"{code or 'no prefecture-level unit'}, but city_id says {cid}")
        elif name:
            cid = names_mod.to_adcode(name) or ""
            if not cid:
                raise CityPanelError(f"{path}, line {line(k)}, column 'name_zh': {name!r} matches no prefecture-level "
                                     f"unit ({names_mod.why_unmatched(name)})")
        else:
            raise CityPanelError(f"{path}, line {line(k)}: no city (city_id and name_zh are empty)")
        ids.append(cid)
    year_txt = df["year"].astype(str).str.strip()
    year_num = pd.to_numeric(year_txt, errors="coerce")
    ok_years = set(int(y) for y in years)
    for k, (t, y) in enumerate(zip(year_txt, year_num)):
        if pd.isna(y) or float(y) != int(y) or int(y) not in ok_years:
            raise CityPanelError(f"{path}, line {line(k)}, column 'year': {t!r} is not one of the data years "
                                 f"{min(ok_years)}-{max(ok_years)}")
    frame = pd.DataFrame({"city_id": ids, "year": year_num.astype(int).to_numpy(), "line": [line(k) for k in range(len(df))]})
    seen = frame.duplicated(["city_id", "year"], keep=False)
    if seen.any():
        d = frame[seen].sort_values("line")
        first = d.iloc[0]
        other = d[(d["city_id"] == first["city_id"]) & (d["year"] == first["year"])]["line"].tolist()
        raise CityPanelError(f"{path}, lines {', '.join(map(str, other))}: city {first['city_id']} year {first['year']} "
                             "appears more than once")
    rows = []
    for v in variables:
        txt = df[v].astype(str).str.strip()
        num = pd.to_numeric(txt.str.replace(",", "", regex=False), errors="coerce")
        bad = (txt != "") & (num.isna() | ~np.isfinite(num.fillna(0.0)))
        if bad.any():
            k = int(np.flatnonzero(bad.to_numpy())[0])
            raise CityPanelError(f"{path}, line {line(k)}, column {v!r}: {txt.iloc[k]!r} is not a number "
                                 f"({VARIABLE_UNITS[v]}; leave the cell empty for no value)")
        neg = (txt != "") & (num < 0)
        if neg.any():
            k = int(np.flatnonzero(neg.to_numpy())[0])
            raise CityPanelError(f"{path}, line {line(k)}, column {v!r}: {txt.iloc[k]!r} is negative "
                                 f"({VARIABLE_UNITS[v]}; must be >= 0)")
        if v in VARIABLE_RANGES:
            lo, hi = VARIABLE_RANGES[v]
            out = (txt != "") & ((num < lo) | (num > hi))
            if out.any():
                k = int(np.flatnonzero(out.to_numpy())[0])
                hint = " (a percentage? give the fraction: divide by 100)" if hi < num.iloc[k] <= 100 else ""
                raise CityPanelError(f"{path}, line {line(k)}, column {v!r}: {txt.iloc[k]!r} is outside the allowed "
                                     f"range {lo:g}-{hi:g} ({VARIABLE_UNITS[v]}){hint}")
        have = (txt != "").to_numpy()
        rows.append(pd.DataFrame({"city_id": frame["city_id"][have], "year": frame["year"][have], "variable": v,
                                  "value": num[have].astype(float), "line": frame["line"][have]}))
    values = pd.concat(rows, ignore_index=True)
    return CityPanel(path=path, values=values, variables=variables)


def apply_city_panel(city_year: pd.DataFrame, panel: CityPanel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Put the panel's values into ``city_year`` where the value there is imputed or a proxy.

    Returns (the new city_year, one row per variable: variable, user values in the file for the
    build's cities, replaced, kept because the public value is observed or interpolated). Rows of
    cities not in ``city_year`` are counted in ``panel.unused_cities`` (city -> rows).
    """
    out = city_year.copy()
    have = set(out["city_id"])
    vals = panel.values
    outside = vals[~vals["city_id"].isin(have)]
    panel.unused_cities = outside.groupby("city_id")["line"].nunique().to_dict()
    vals = vals[vals["city_id"].isin(have)]
    pos = pd.Series(np.arange(len(out)), index=pd.MultiIndex.from_frame(out[["city_id", "year"]]))
    counts = []
    for v in panel.variables:
        sub = vals[vals["variable"] == v]
        idx = pos.reindex(pd.MultiIndex.from_frame(sub[["city_id", "year"]])).to_numpy()
        prov_col = f"prov_{v}"
        prov = out[prov_col].astype(str).to_numpy()
        replace = np.isin(prov[idx], REPLACED)
        target = idx[replace]
        values = out[v].to_numpy(dtype=float).copy()
        values[target] = sub["value"].to_numpy()[replace]
        out[v] = values
        new_prov = prov.astype(object)
        new_prov[target] = "user"
        out[prov_col] = pd.Categorical(new_prov, categories=PROVENANCE)
        counts.append({"variable": v, "in file": int(len(sub)), "replaced": int(replace.sum()),
                       "kept (public value observed or interpolated)": int((~replace).sum())})
    return out, pd.DataFrame(counts)
