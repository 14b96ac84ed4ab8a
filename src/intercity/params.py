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
from pydantic import (BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr, ValidationError,
                      field_validator, model_validator)

from intercity.knobs import ALLOWED_TRUTH, ALLOWED_WORLD, TRUTH_KNOBS, Truth, World

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
#: A Dask scheduler address: protocol://host:port (e.g. tcp://10.0.0.5:8786).
_ADDRESS = re.compile(r"(tcp|tls|ws|wss|ucx|inproc)://[^\s/]+")

#: Inference methods of the design lab: CRV1 t tests clustered by pair (the study), by origin city,
#: two-way by origin and destination city; randomization inference (permuting connectivity paths
#: across pairs); the wild cluster bootstrap (HSR models only).
LAB_METHODS: tuple[str, ...] = ("pair", "origin", "twoway", "ri", "wild")
#: Model families of the design lab: the baseline (IT_direction, all pairs), the gradient models
#: (IT, down- and up-gradient pairs) and the distance-tier models (IT, each tier and gradient half).
LAB_FAMILIES: tuple[str, ...] = ("baseline", "gradient", "tier")
#: Knob settings of the default design lab: name -> {truth knob: multiplier of its ``knobs:`` value}.
LAB_SETTINGS: dict[str, dict[str, float]] = {
    "no_effect": {"hsr_trade_effect": 0.0, "info_trade_effect": 0.0},
    "default": {},
    "info_x2": {"info_trade_effect": 2.0},
    "hsr_x4": {"hsr_trade_effect": 4.0},
}


def _scale_cities(v: float) -> float:
    """Validate a share of the study's cities (``scale``, ``lab.scale``)."""
    v = float(v)
    if not (math.isfinite(v) and 0 < v <= 1):
        raise ValueError("outside 0 < scale <= 1")
    n = max(4, int(round(v * STUDY_CITIES)))
    if n < MIN_CITIES:
        raise ValueError(f"{n} cities, fewer than the {MIN_CITIES} that pair effects and city-clustered "
                         "errors need")
    return v


def _replications(v: int) -> int:
    """Permutations / bootstrap replications R: the 5% test is exact when 0.05 (R + 1) is an integer."""
    if v < 19 or (v + 1) % 20:
        raise ValueError("need R >= 19 with R + 1 a multiple of 20 (19, 99, 199, 999, ...)")
    return v


class Lab(BaseModel):
    """The design lab (:mod:`intercity.lab`): Monte Carlo over synthetic worlds.

    draws: worlds per knob setting (>= 2). Draw d of every setting uses world seed ``seed + d``
        (common random numbers: settings differ only in their knobs).
    scale: share of the study's 273 cities in each world (as ``scale``).
    seed: seed of the first world (non-negative integer).
    settings: knob grid, name -> {truth knob: multiplier of its value under ``knobs:``}
        (an empty mapping = the ``knobs:`` values). Default: no_effect (both trade effects 0),
        default, info_x2 (information effect x2), hsr_x4 (HSR effect x4).
    families: model families estimated (baseline, gradient, tier).
    methods: inference methods (pair, origin, twoway, ri, wild); ``wild`` applies to HSR models.
    permutations: randomization-inference permutations R (R + 1 a multiple of 20).
    bootstrap: wild cluster bootstrap replications (R + 1 a multiple of 20).
    wild_cluster: clustering of the wild cluster bootstrap: "origin" (city) or "pair".
    treated_share: share of pairs whose connectivity the counterfactual raises (0 < share <= 0.5).
    raise_hsr_lines: HSR lines added to a treated pair in each raised year (integer >= 1).
    raise_info_log: rise of ln(1 + search index) of a treated pair in each raised year (> 0).
    workers: Dask LocalCluster worker processes (1 thread each); 0 = a plain loop in this process.
        Ignored when ``scheduler`` names an existing cluster.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    draws: StrictInt = Field(default=12, ge=2)
    scale: StrictFloat | StrictInt = 0.2
    seed: StrictInt = Field(default=1, ge=0)
    settings: dict[StrictStr, dict[StrictStr, StrictFloat | StrictInt]] = Field(
        default_factory=lambda: {k: dict(v) for k, v in LAB_SETTINGS.items()})
    families: tuple[Literal["baseline", "gradient", "tier"], ...] = LAB_FAMILIES
    methods: tuple[Literal["pair", "origin", "twoway", "ri", "wild"], ...] = LAB_METHODS
    permutations: StrictInt = 199
    bootstrap: StrictInt = 199
    wild_cluster: Literal["origin", "pair"] = "origin"
    treated_share: StrictFloat | StrictInt = 0.1
    raise_hsr_lines: StrictInt = Field(default=1, ge=1)
    raise_info_log: StrictFloat | StrictInt = 1.0
    workers: StrictInt = Field(default=1, ge=0)

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        return _scale_cities(v)

    @field_validator("permutations", "bootstrap")
    @classmethod
    def _reps(cls, v: int) -> int:
        return _replications(v)

    @field_validator("settings")
    @classmethod
    def _settings(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        if not v:
            raise ValueError("no knob setting")
        for name, knobs in v.items():
            if not _NAME.fullmatch(name):
                raise ValueError(f"setting name {name!r} is not a plain name")
            bad = [k for k in knobs if k not in TRUTH_KNOBS]
            if bad:
                raise ValueError(f"setting {name!r}: {bad[0]!r} is not a truth knob")
            if not all(math.isfinite(float(x)) for x in knobs.values()):
                raise ValueError(f"setting {name!r}: a multiplier is not finite")
        return {name: {k: float(x) for k, x in knobs.items()} for name, knobs in v.items()}

    @field_validator("families", "methods")
    @classmethod
    def _nonempty(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError("empty or repeated")
        return v

    @field_validator("treated_share")
    @classmethod
    def _share(cls, v: float) -> float:
        v = float(v)
        if not (math.isfinite(v) and 0 < v <= 0.5):
            raise ValueError("outside 0 < share <= 0.5")
        return v

    @field_validator("raise_info_log")
    @classmethod
    def _raise(cls, v: float) -> float:
        v = float(v)
        if not (math.isfinite(v) and v > 0):
            raise ValueError("not a positive number")
        return v

    @property
    def n_cities(self) -> int:
        return max(4, int(round(self.scale * STUDY_CITIES)))


#: What each field of the ``lab:`` section allows (error messages).
ALLOWED_LAB: dict[str, str] = {
    "draws": "an integer >= 2 (worlds per knob setting)",
    "scale": f"a number with 0 < scale <= 1, at least {MIN_CITIES / STUDY_CITIES:.4f} ({MIN_CITIES} cities)",
    "seed": "a non-negative integer",
    "settings": (f"a non-empty mapping of setting names (letters, digits, '_', '.', '-') to mappings of truth "
                 f"knobs {list(TRUTH_KNOBS)} to finite multipliers"),
    "families": f"a non-empty list without repeats of {list(LAB_FAMILIES)}",
    "methods": f"a non-empty list without repeats of {list(LAB_METHODS)}",
    "permutations": "an integer R >= 19 with R + 1 a multiple of 20 (19, 99, 199, 999, ...)",
    "bootstrap": "an integer R >= 19 with R + 1 a multiple of 20 (19, 99, 199, 999, ...)",
    "wild_cluster": "one of ['origin', 'pair']",
    "treated_share": "a number with 0 < share <= 0.5",
    "raise_hsr_lines": "an integer >= 1",
    "raise_info_log": "a positive number",
    "workers": "an integer >= 0 (0 = no Dask, a plain loop)",
}




#: The choices of the multiverse (:mod:`intercity.choices`): dimension -> its values, the study's
#: value first. ``sources`` is resolved at run time ("available": every source whose inputs can be had).
MULTIVERSE_CHOICES: dict[str, tuple[str, ...]] = {
    "transforms": ("slog_10k", "slog_yuan", "slog_100m", "ihs", "direction", "ppml"),
    "inference": ("pair", "origin", "twoway", "dyadic"),
    "controls": ("study", "none", "study_distance"),
    "gradients": ("gdp_per_capita", "population", "gdp"),
    "period_values": ("average", "end_year"),
    "samples": ("all", "no_municipalities", "no_gradient_flips"),
    "tier_sets": ("study", "shifted"),
}
#: Data-source values of the multiverse: "available" (every source whose inputs can be had), the
#: build's own ("configured"), or a source by name.
MULTIVERSE_SOURCES: tuple[str, ...] = ("available", "configured", "synthetic", "public", "ceads")


def _tier_edges(v) -> tuple[float, ...]:
    edges = tuple(float(t) for t in v)
    if len(edges) < 2 or not all(math.isfinite(e) for e in edges) or edges[0] != 0 or any(
            b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError("not increasing finite edges from 0")
    return edges


class Multiverse(BaseModel):
    """The multiverse (:mod:`intercity.multiverse`): which values of each choice are crossed.

    Every dimension lists the values to cross; its first value is the study's and must be present
    (see :data:`MULTIVERSE_CHOICES` for the values known and :mod:`intercity.choices` for what each
    means). sources: "available" (synthetic, and public and ceads when their inputs can be had),
    "configured" (the build's data source) or source names. shifted_tiers_km: the edges of the
    alternative distance tiers (six edges: five tiers, matched to the study's by position).
    ppml: which specifications the PPML transform (pyfixest ``fepois``, slow) is crossed with:
    "study" (every other fitted choice at the study's value), "all" (the full grid) or "none".
    permutations: R of the specification-curve permutation test (R + 1 a multiple of 20), seeded
    by ``seed`` (significance at each claim check's own level). curve_points:
    most specifications drawn in one curve figure (every one enters the shares and the test).
    workers: Dask LocalCluster worker processes (1 thread each); 0 = a plain loop in this process.
    Ignored when ``scheduler`` names an existing cluster.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    sources: tuple[Literal["available", "configured", "synthetic", "public", "ceads"], ...] = ("available",)
    transforms: tuple[Literal["slog_10k", "slog_yuan", "slog_100m", "ihs", "direction", "ppml"], ...] = \
        MULTIVERSE_CHOICES["transforms"]
    inference: tuple[Literal["pair", "origin", "twoway", "dyadic"], ...] = MULTIVERSE_CHOICES["inference"]
    controls: tuple[Literal["study", "none", "study_distance"], ...] = MULTIVERSE_CHOICES["controls"]
    gradients: tuple[Literal["gdp_per_capita", "population", "gdp"], ...] = MULTIVERSE_CHOICES["gradients"]
    period_values: tuple[Literal["average", "end_year"], ...] = MULTIVERSE_CHOICES["period_values"]
    samples: tuple[Literal["all", "no_municipalities", "no_gradient_flips"], ...] = MULTIVERSE_CHOICES["samples"]
    tier_sets: tuple[Literal["study", "shifted"], ...] = MULTIVERSE_CHOICES["tier_sets"]
    shifted_tiers_km: tuple[StrictFloat | StrictInt, ...] = (0.0, 250.0, 625.0, 1250.0, 2500.0, 4000.0)
    ppml: Literal["study", "all", "none"] = "study"
    permutations: StrictInt = 39
    seed: StrictInt = Field(default=1, ge=0)
    curve_points: StrictInt = Field(default=200, ge=50)
    workers: StrictInt = Field(default=1, ge=0)

    @field_validator("sources", "transforms", "inference", "controls", "gradients", "period_values", "samples",
                     "tier_sets")
    @classmethod
    def _values(cls, v: tuple[str, ...], info) -> tuple[str, ...]:
        if not v or len(set(v)) != len(v):
            raise ValueError("empty or repeated")
        study = MULTIVERSE_CHOICES.get(info.field_name, ("",))[0]
        if info.field_name != "sources" and study not in v:
            raise ValueError(f"the study's value {study!r} is missing")
        return v

    @field_validator("shifted_tiers_km")
    @classmethod
    def _shifted(cls, v) -> tuple[float, ...]:
        edges = _tier_edges(v)
        if len(edges) != 6:
            raise ValueError(f"{len(edges) - 1} tiers, not the study's 5")
        return edges

    @field_validator("permutations")
    @classmethod
    def _reps(cls, v: int) -> int:
        return _replications(v)


#: What each field of the ``multiverse:`` section allows (error messages).
ALLOWED_MULTIVERSE: dict[str, str] = {
    "sources": f"a non-empty list without repeats of {list(MULTIVERSE_SOURCES)}",
    **{k: f"a non-empty list without repeats of {list(v)}, including the study's {v[0]!r}"
       for k, v in MULTIVERSE_CHOICES.items()},
    "shifted_tiers_km": "six finite numbers (km), strictly increasing from 0 (five tiers, as the study's)",
    "ppml": "one of ['study', 'all', 'none']",
    "permutations": "an integer R >= 19 with R + 1 a multiple of 20 (19, 99, 199, 999, ...)",
    "seed": "a non-negative integer",
    "curve_points": "an integer >= 50",
    "workers": "an integer >= 0 (0 = no Dask, a plain loop)",
}


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
    "knobs": ALLOWED_TRUTH,
    "world": ALLOWED_WORLD,
    "lab": f"a mapping with any of {sorted(ALLOWED_LAB)}",
    "multiverse": f"a mapping with any of {sorted(ALLOWED_MULTIVERSE)}",
    "scheduler": "null (a Dask LocalCluster on this machine) or a scheduler address protocol://host:port",
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
    knobs: the synthetic world's planted effects (:class:`intercity.knobs.Truth`).
    world: the synthetic world's shape constants (:class:`intercity.knobs.World`).
    lab: the design lab's Monte Carlo (:class:`Lab`).
    multiverse: the multiverse's choices and its permutation test (:class:`Multiverse`).
    scheduler: address of an existing Dask scheduler for the sweeps (design lab, multiverse); null
        = a LocalCluster on this machine.
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
    knobs: Truth = Truth()
    world: World = World()
    lab: Lab = Field(default_factory=Lab)
    multiverse: Multiverse = Field(default_factory=Multiverse)
    scheduler: StrictStr | None = None

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
        return _scale_cities(v)

    @field_validator("scheduler")
    @classmethod
    def _scheduler(cls, v: str | None) -> str | None:
        if v is not None and not _ADDRESS.fullmatch(v):
            raise ValueError("not an address protocol://host:port")
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
        return _tier_edges(v)

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
    def cities_kept(self) -> tuple[str, str]:
        """(value, meaning) of the cities this set keeps, in words for the parameter tables: on the
        synthetic source, or below scale 1, :attr:`n_cities`; on the public and CEADs sources at
        scale 1, every city their inputs cover (not round(scale x 273): the public source covers
        more cities than the study's 273), counted in the build box of every page."""
        if self.data_source == "synthetic":
            return str(self.n_cities), f"round(scale x {STUDY_CITIES}), at least 4"
        if self.scale < 1:
            return (str(self.n_cities), f"round(scale x {STUDY_CITIES}), at least 4, sampled from the cities the "
                    f"{self.data_source} source's inputs cover")
        if self.data_source == "auto":
            return (f"every city the public inputs cover ({self.n_cities} if auto falls back to synthetic)",
                    f"at scale 1 the public source keeps every city its inputs cover (the build box of each page "
                    f"counts them; the study has {STUDY_CITIES}); the synthetic source keeps round(scale x "
                    f"{STUDY_CITIES})")
        return ("every city the inputs cover",
                f"at scale 1 the {self.data_source} source keeps every city its inputs cover (the build box of "
                f"each page counts them; the study has {STUDY_CITIES}); round(scale x {STUDY_CITIES}) applies to "
                "the synthetic source and to smaller scales")

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

    def data_key(self, source: str | None = None) -> dict[str, Any]:
        """The parameters that determine the StudyData bundle of ``source`` (default
        ``data_source``), hashed into its cache key: the synthetic world's also depends on its truth
        knobs and shape constants (``knobs:``, ``world:``); other sources ignore them."""
        key = {"data_source": self.data_source, "n_cities": self.n_cities, "seed": self.seed,
               "years": list(range(min(self.mrio_years) - 1, max(self.mrio_years) + 1)),
               "hsr_measure": self.hsr_measure}
        if self.ceads is not None:  # the files' bytes enter through intercity.bundle.stage_inputs
            key["ceads"] = self.ceads.data_key()
            key["mrio_years"] = list(self.mrio_years)
        if (source or self.data_source) in ("synthetic", "auto"):
            key["knobs"] = self.knobs.model_dump()
            key["world"] = self.world.model_dump()
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


#: Sections of nested parameters: name -> (model, what each of its fields allows).
_SECTIONS: dict[str, tuple[type[BaseModel], dict[str, str]]] = {
    "knobs": (Truth, {k: ALLOWED_TRUTH.split(", each ", 1)[1] for k in Truth.model_fields}),
    "world": (World, {k: ALLOWED_WORLD.split(", each ", 1)[1] for k in World.model_fields}),
    "lab": (Lab, ALLOWED_LAB),
    "multiverse": (Multiverse, ALLOWED_MULTIVERSE),
}


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
    if name in _SECTIONS and len(loc) > 1:  # knobs.x, world.x, lab.x, multiverse.x
        model, section_allowed = _SECTIONS[name]
        sub = str(loc[1])
        section = values.get(name)
        value = section.get(sub, first.get("input")) if isinstance(section, Mapping) else first.get("input")
        if first["type"] == "extra_forbidden":
            return f"{source}: unknown parameter '{name}.{sub}'; allowed: {sorted(f'{name}.{k}' for k in model.model_fields)}"
        why = f" ({msg})" if first["type"] == "value_error" else ""
        return f"{source}: parameter '{name}.{sub}' = {value!r} is invalid{why}: allowed {section_allowed.get(sub, msg)}"
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


class DuplicateKeyError(yaml.YAMLError):
    """A key given twice in one mapping of a YAML file (YAML says keys are unique; PyYAML keeps the last)."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key repeated in one mapping (PyYAML silently keeps the
    last value): raises :class:`DuplicateKeyError` naming the key and both lines (1-based)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    hash(key)
                except TypeError:
                    continue  # the base class reports unhashable keys
                line = key_node.start_mark.line + 1
                if key in seen:
                    raise DuplicateKeyError(f"key {key!r} given twice in one mapping (line {seen[key]} and line "
                                            f"{line}); keep one")
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, UniqueKeyLoader.construct_mapping)


def load(path: str | Path) -> Params:
    """Read and validate a parameter file (YAML); the set's name defaults to the file's stem.
    Raises :class:`ParamsError` (one line naming the file): not valid YAML (line, column), a key
    given twice in one mapping (key and lines), not a mapping, or a parameter that does not validate."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"parameter file not found: {path}")
    try:
        values = yaml.load(path.read_text(encoding="utf-8"), Loader=UniqueKeyLoader)
    except DuplicateKeyError as err:
        raise ParamsError(f"{path}: {err}") from None
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
