"""Run parameters: one validated, immutable set per build (a YAML file in ``params/``).

The schema is a pydantic model (:class:`Params`); :func:`load` reads a file and :func:`from_mapping`
validates a mapping (papermill's injected values, a test's dict). Any bad value stops with ONE
line, :class:`ParamsError`, naming the file, the parameter, the value and what is allowed. The
checks that a parameter set can be estimated at all (two periods at least; enough cities for
pair effects and city-clustered errors) happen here too, before any data stage runs.

Every notebook receives every parameter from the runner (papermill injects them) and turns its
namespace into a :class:`Params` with :func:`from_namespace`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import (BaseModel, ConfigDict, Field, StrictFloat, StrictInt, ValidationError, field_validator,
                      model_validator)

#: Data sources the build knows. ``synthetic`` needs nothing but the installed packages;
#: ``public`` reads the real public inputs of ``data/manifest.csv``; ``ceads`` reads the user's
#: CEADs city MRIO (parameter section ``ceads``) and takes every other variable from ``public``;
#: ``auto`` resolves to ``public`` when its files can be had (mirror or download) and to
#: ``synthetic`` otherwise.
DATA_SOURCES: tuple[str, ...] = ("synthetic", "public", "ceads", "auto")
#: Clustering conventions of the headline standard errors.
CLUSTERS: tuple[str, ...] = ("pair", "twoway")
#: Money units the transfer can be expressed in before its signed log, and their size in 10k yuan.
MONEY_UNITS: dict[str, float] = {"yuan": 1e-4, "10k yuan": 1.0, "million yuan": 100.0, "100 million yuan": 1e4}
#: Years for which MRIO tables exist (CEADs city tables; NBS national tables): period end points.
MRIO_YEARS: tuple[int, ...] = (2012, 2015, 2017)
#: Number of cities in the study's sample (273 x 272 = 74,256 ordered pairs).
STUDY_CITIES: int = 273
#: Fewest cities a build may have. With G cities, a city-clustered (two-way) variance has rank at
#: most G - 1 (Cameron and Miller 2015, sec. VI), so it cannot test a model with more coefficients
#: than that; the study's baseline models have 14 (connectivity, 12 controls, the period effect).
MIN_CITIES: int = 15
#: Fewest periods: pair fixed effects need each pair observed at least twice.
MIN_PERIODS: int = 2

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
#: File suffixes of a CEADs table: MATLAB, or a spreadsheet.
CEADS_SUFFIXES: tuple[str, ...] = (".mat", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")


class ParamsError(ValueError):
    """A parameter is missing, unknown or invalid; the one-line message names it and what is allowed."""


#: Per parameter, the sentence saying what is allowed (used in every error message).
ALLOWED: dict[str, str] = {
    "data_source": f"one of {list(DATA_SOURCES)}",
    "scale": (f"a number with 0 < scale <= 1 (share of the study's {STUDY_CITIES} cities), at least "
              f"{MIN_CITIES / STUDY_CITIES:.4f} ({MIN_CITIES} cities)"),
    "seed": "a non-negative integer",
    "periods": (f"a list of at least {MIN_PERIODS} [first, last] year pairs, consecutive (each starts where "
                f"the previous ends), first < last, every year one of the MRIO years {list(MRIO_YEARS)}"),
    "distance_tiers_km": "a list of at least two finite numbers (km), strictly increasing, starting at 0",
    "cluster": f"one of {list(CLUSTERS)}",
    "money_unit": f"one of {list(MONEY_UNITS)}",
    "hsr_measure": "one of ['stations', 'key_stations'] (public source: lines serving both cities counted on "
                   "full station lists, or on the line list's key stations only)",
    "name": "a name of letters, digits, '_', '.' or '-' (starting with a letter or digit, at most 64)",
    "ceads": ("with data_source 'ceads', a mapping: mrio (MRIO year -> .mat or spreadsheet file), layout (a JSON "
              "file or a mapping of layout keys), cities (a city-list file, or MRIO year -> file), unit (one of "
              f"{list(MONEY_UNITS)}), optional city_panel (a CSV file); paths relative to the project root"),
}


def _resolve(path: str) -> Path:
    """A parameter's path: absolute as given, else relative to the project root."""
    from intercity import paths

    p = Path(path).expanduser()
    return p if p.is_absolute() else paths.PROJECT_ROOT / p


class CEADsParams(BaseModel):
    """The ``ceads`` section: the user's CEADs city MRIO files (see :mod:`intercity.sources.ceads`).

    mrio: {MRIO year: file} (.mat struct MRIO, or a spreadsheet), one per MRIO year of the periods.
    layout: the layout declaration, a JSON file (as ``python -m intercity data fake-ceads`` writes
        it) or a mapping of :class:`intercity.sources.ceads.Layout` keys.
    cities: the cities of the tables in file order (names or adcodes; a .csv or a text file), one
        file for every year or {MRIO year: file}; a spreadsheet year may go without (its city label
        column names them), a .mat year may not.
    unit: money unit of the files, converted to the book's 10k yuan.
    city_panel: optional CSV of the user's city panel (template: ``python -m intercity data template``).

    Relative paths are relative to the project root (the folder holding ``params/``). Files must
    exist (checked here, so a missing file stops before any data stage).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    mrio: dict[int, str]
    layout: str | dict[str, Any]
    cities: str | dict[int, str] | None = None
    unit: Literal["yuan", "10k yuan", "million yuan", "100 million yuan"]
    city_panel: str | None = None

    @model_validator(mode="after")
    def _files(self) -> "CEADsParams":
        for y, f in sorted(self.mrio.items()):
            p = _resolve(f)
            if p.suffix.lower() not in CEADS_SUFFIXES:
                raise ValueError(f"mrio.{y} = {f!r}: not a .mat or spreadsheet file ({', '.join(CEADS_SUFFIXES)})")
            if not p.is_file():
                raise ValueError(f"mrio.{y} = {f!r}: file not found ({p})")
        if isinstance(self.layout, str):
            p = _resolve(self.layout)
            if not p.is_file():
                raise ValueError(f"layout = {self.layout!r}: file not found ({p})")
        lists = self.cities if isinstance(self.cities, dict) else {}
        extra = sorted(set(lists) - set(self.mrio))
        if extra:
            raise ValueError(f"cities.{extra[0]}: a city list for a year without an MRIO file (mrio has "
                             f"{sorted(self.mrio)})")
        for label, f in ([("cities", self.cities)] if isinstance(self.cities, str) else
                         [(f"cities.{y}", v) for y, v in sorted(lists.items())]) + [("city_panel", self.city_panel)]:
            if f is not None and not _resolve(f).is_file():
                raise ValueError(f"{label} = {f!r}: file not found ({_resolve(f)})")
        for y, f in sorted(self.mrio.items()):
            if _resolve(f).suffix.lower() == ".mat" and self.city_list_path(y) is None:
                raise ValueError(f"cities: the .mat file of {y} names no cities; give the city list in file order")
        return self

    def path(self, value: str) -> Path:
        """A path of this section resolved (absolute, or relative to the project root)."""
        return _resolve(value)

    def mrio_path(self, year: int) -> Path:
        return _resolve(self.mrio[year])

    def city_list_path(self, year: int) -> Path | None:
        """The city list of ``year``'s table, or None (a spreadsheet naming its cities)."""
        if isinstance(self.cities, dict):
            return _resolve(self.cities[year]) if year in self.cities else None
        return _resolve(self.cities) if self.cities is not None else None

    def city_list_name(self, year: int) -> str:
        return f"ceads.cities.{year}" if isinstance(self.cities, dict) else "ceads.cities"

    def files(self) -> dict[str, Path]:
        """{parameter name: path} of every user file the bundle reads (hashed into its cache key)."""
        out = {f"ceads.mrio.{y}": self.mrio_path(y) for y in sorted(self.mrio)}
        if isinstance(self.layout, str):
            out["ceads.layout"] = _resolve(self.layout)
        if isinstance(self.cities, dict):
            out.update({f"ceads.cities.{y}": _resolve(f) for y, f in sorted(self.cities.items())})
        elif self.cities is not None:
            out["ceads.cities"] = _resolve(self.cities)
        if self.city_panel is not None:
            out["ceads.city_panel"] = _resolve(self.city_panel)
        return out

    def data_key(self) -> dict[str, Any]:
        """What of this section, beside the files' bytes, determines the bundle: the unit, an inline
        layout, and which file plays which part."""
        return {"unit": self.unit, "layout": self.layout if isinstance(self.layout, dict) else "file",
                "parts": sorted(self.files())}


class Params(BaseModel):
    """Parameters of one build.

    data_source: where the StudyData bundle comes from (see DATA_SOURCES).
    scale: share of the study's 273 cities to keep, 0 < scale <= 1 (1 = full scale).
    seed: seed of every random draw (non-negative integer).
    periods: the study's periods as (first year, last year), MRIO years at both ends.
    distance_tiers_km: edges of the great-circle distance tiers, km, strictly increasing from 0.
    cluster: headline standard errors: "pair" (the study) or "twoway" (origin and destination city).
    money_unit: unit of the transfer T before IT = sign(T) ln(1 + |T|) (the deck's: 10k yuan).
    hsr_measure: how the public source counts HSR lines serving both cities: "stations" (full
        station lists, default) or "key_stations" (the line list's key stations; for comparison).
    name: label of the parameter set (e.g. "default", "ci"): names results/<name> and the book.
    ceads: the user's CEADs files (:class:`CEADsParams`); required by, and only with, data_source "ceads".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    data_source: Literal["synthetic", "public", "ceads", "auto"]
    scale: StrictFloat | StrictInt
    seed: StrictInt = Field(ge=0)
    periods: tuple[tuple[StrictInt, StrictInt], ...] = ((2012, 2015), (2015, 2017))
    distance_tiers_km: tuple[StrictFloat | StrictInt, ...] = (0.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
    cluster: Literal["pair", "twoway"] = "pair"
    money_unit: Literal["yuan", "10k yuan", "million yuan", "100 million yuan"] = "10k yuan"
    hsr_measure: Literal["stations", "key_stations"] = "stations"
    name: str = "custom"
    ceads: CEADsParams | None = None

    @model_validator(mode="after")
    def _source_section(self) -> "Params":
        if self.data_source == "ceads":
            if self.ceads is None:
                raise ValueError("data_source 'ceads' needs the parameter section 'ceads' (mrio, layout, cities, unit)")
            missing = [y for y in self.mrio_years if y not in self.ceads.mrio]
            if missing:
                raise ValueError(f"parameter 'ceads.mrio' has no file for MRIO year {missing[0]} (the periods need "
                                 f"{', '.join(map(str, self.mrio_years))}; it has {', '.join(map(str, sorted(self.ceads.mrio)))})")
        elif self.ceads is not None:
            raise ValueError(f"parameter 'ceads' is given but data_source is {self.data_source!r}: set data_source: "
                             "ceads, or remove the section")
        return self

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        v = float(v)
        if not (math.isfinite(v) and 0 < v <= 1):
            raise ValueError("outside 0 < scale <= 1")
        n = max(4, int(round(v * STUDY_CITIES)))
        if n < MIN_CITIES:
            raise ValueError(f"{n} cities, fewer than the {MIN_CITIES} that pair effects and city-clustered "
                             "errors need")
        return v

    @field_validator("periods")
    @classmethod
    def _periods(cls, v: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        if len(v) < MIN_PERIODS:
            raise ValueError(f"{len(v)} period(s): pair fixed effects need at least {MIN_PERIODS}")
        bad = [f"{a}-{b}" for a, b in v if a >= b]
        if bad:
            raise ValueError(f"period {bad[0]} does not end after it starts")
        gaps = [f"{v[k][1]} then {v[k + 1][0]}" for k in range(len(v) - 1) if v[k][1] != v[k + 1][0]]
        if gaps:
            raise ValueError(f"periods are not consecutive ({gaps[0]})")
        off = [y for p in v for y in p if y not in MRIO_YEARS]
        if off:
            raise ValueError(f"{off[0]} is not an MRIO year")
        return v

    @field_validator("distance_tiers_km")
    @classmethod
    def _tiers(cls, v: tuple[float, ...]) -> tuple[float, ...]:
        edges = tuple(float(t) for t in v)
        if len(edges) < 2 or not all(math.isfinite(e) for e in edges) or edges[0] != 0 or any(
                b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("not increasing finite edges from 0")
        return edges

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.fullmatch(v) or ".." in v:
            raise ValueError("not a plain name")
        return v

    @property
    def n_cities(self) -> int:
        """Number of cities kept: round(scale x 273), at least 4."""
        return max(4, int(round(self.scale * STUDY_CITIES)))

    @property
    def mrio_years(self) -> tuple[int, ...]:
        """The MRIO years: every end point of the periods, ascending."""
        return tuple(sorted({y for p in self.periods for y in p}))

    @property
    def period_labels(self) -> tuple[str, ...]:
        return tuple(f"{a}-{b}" for a, b in self.periods)

    @property
    def money_factor(self) -> float:
        """Size of one ``money_unit`` in 10k yuan (divide a value in 10k yuan by it)."""
        return MONEY_UNITS[self.money_unit]

    def data_key(self) -> dict[str, Any]:
        """The parameters that determine the StudyData bundle (hashed into its cache key)."""
        key = {"data_source": self.data_source, "n_cities": self.n_cities, "seed": self.seed,
               "years": list(range(min(self.mrio_years) - 1, max(self.mrio_years) + 1)),
               "hsr_measure": self.hsr_measure}
        if self.ceads is not None:  # the files' bytes enter through intercity.bundle.stage_inputs
            key["ceads"] = self.ceads.data_key()
            key["mrio_years"] = list(self.mrio_years)
        return key

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly values (lists for tuples), as papermill injects them."""
        return json.loads(self.model_dump_json())


FIELDS: tuple[str, ...] = tuple(Params.model_fields)
_REQUIRED = tuple(k for k, f in Params.model_fields.items() if f.is_required())


#: Per parameter of the ``ceads`` section, what is allowed (used in error messages).
CEADS_ALLOWED: dict[str, str] = {
    "mrio": "a mapping of MRIO year -> file (.mat or spreadsheet), e.g. {2012: data/ceads/city_mrio_2012.mat}",
    "layout": "a JSON layout file (as fake-ceads writes it) or a mapping of layout keys",
    "cities": "a city-list file (names or adcodes in file order), or a mapping of MRIO year -> file",
    "unit": f"one of {list(MONEY_UNITS)}",
    "city_panel": "a CSV file from the template of `python -m intercity data template`",
}
CEADS_FIELDS: tuple[str, ...] = tuple(CEADS_ALLOWED)


def _message(err: ValidationError, values: Mapping[str, Any], source: str) -> str:
    """One line for the first error of a pydantic ValidationError."""
    first = err.errors()[0]
    loc = first.get("loc") or ()
    msg = str(first.get("msg", "")).removeprefix("Value error, ")
    if not loc or (first["type"] == "value_error" and msg.startswith("parameter '")):
        return f"{source}: {msg}"  # a rule across parameters, or one that names its parameter
    name = str(loc[0])
    if name == "ceads" and len(loc) > 1:
        sub = str(loc[1])
        dotted = f"ceads.{sub}" + (f".{loc[2]}" if sub in ("mrio", "cities") and len(loc) > 2
                                   and str(loc[2]).isdigit() else "")
        if first["type"] == "extra_forbidden":
            return f"{source}: unknown parameter '{dotted}'; allowed: {list(CEADS_FIELDS)}"
        if first["type"] == "missing":
            return f"{source}: parameter '{dotted}' is missing ({CEADS_ALLOWED.get(sub, '')})"
        return (f"{source}: parameter '{dotted}' = {first.get('input')!r} is invalid: allowed "
                f"{CEADS_ALLOWED.get(sub, msg)}")
    if name == "ceads" and first["type"] == "value_error":  # a CEADsParams rule: "<sub> = ...: why"
        head, _, rest = msg.partition(" ")
        return f"{source}: parameter 'ceads.{head.rstrip(':')}'{':' if head.endswith(':') else ''} {rest}"
    if first["type"] == "extra_forbidden":
        return f"{source}: unknown parameter '{name}'; allowed: {sorted(FIELDS)}"
    if first["type"] == "missing":
        return f"{source}: parameter '{name}' is missing ({ALLOWED.get(name, '')})"
    why = f" ({msg})" if first["type"] == "value_error" else ""
    return (f"{source}: parameter '{name}' = {values.get(name, first.get('input'))!r} is invalid{why}: "
            f"allowed {ALLOWED.get(name, first.get('msg', ''))}")


def from_mapping(values: Mapping[str, Any], source: str = "parameters") -> Params:
    """Validate a mapping of parameters (from YAML or papermill) into :class:`Params`.

    ``source`` names where the values came from (a file name) for error messages. Raises
    :class:`ParamsError` with one line naming the source, the parameter, the value and what is allowed.
    """
    if not isinstance(values, Mapping):
        raise ParamsError(f"{source}: expected a mapping of parameter names to values, got {type(values).__name__}")
    for name in _REQUIRED:
        if name not in values or values[name] is None:
            raise ParamsError(f"{source}: parameter '{name}' is missing ({ALLOWED[name]})")
    nulls = [k for k, v in values.items() if v is None and k in FIELDS and Params.model_fields[k].default is not None]
    if nulls:
        raise ParamsError(f"{source}: parameter '{nulls[0]}' is empty (null): allowed {ALLOWED[nulls[0]]}")
    try:
        return Params.model_validate(dict(values))
    except ValidationError as err:
        raise ParamsError(_message(err, values, source)) from None


def from_namespace(namespace: Mapping[str, Any], source: str = "notebook parameters") -> Params:
    """:class:`Params` from a namespace holding the parameters as variables (a notebook's
    ``globals()`` after papermill injected them): every known parameter present is used."""
    return from_mapping({k: namespace[k] for k in FIELDS if k in namespace}, source)


def load(path: str | Path) -> Params:
    """Read and validate a parameter file (YAML); the set's name defaults to the file's stem."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"parameter file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        raise ParamsError(f"{path}: not valid YAML{at}: {getattr(err, 'problem', None) or err}") from None
    if values is None:
        values = {}
    if not isinstance(values, Mapping):
        raise ParamsError(f"{path}: expected a mapping of parameter names to values, got {type(values).__name__}")
    values = dict(values)
    values.setdefault("name", path.stem)
    return from_mapping(values, source=str(path))


def digest(obj: Any) -> str:
    """Stable short sha256 of a JSON-serialisable object (used in cache keys)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
