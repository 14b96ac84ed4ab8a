"""Run parameters: one validated, immutable set per build (from a YAML file in ``params/``).

Every notebook receives the same parameters from the runner (papermill injects them) and turns
them into a :class:`Params` with :func:`from_mapping`, which rejects unknown, missing or invalid
values with a message naming the parameter and the allowed values.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

#: Data sources the build knows. ``synthetic`` needs nothing but the installed packages;
#: ``public`` reads the real public inputs of ``data/manifest.csv``; ``auto`` resolves to
#: ``public`` when those files can be had (mirror or download) and to ``synthetic`` otherwise.
DATA_SOURCES: tuple[str, ...] = ("synthetic", "public", "auto")
#: Clustering conventions for standard errors.
CLUSTERS: tuple[str, ...] = ("pair", "twoway")
#: Number of cities in the study's sample (273 x 272 = 74,256 ordered pairs).
STUDY_CITIES: int = 273


class ParamsError(ValueError):
    """A parameter is missing, unknown or invalid; the message names it and what is allowed."""


@dataclass(frozen=True)
class Params:
    """Parameters of one build.

    data_source: where the StudyData bundle comes from (see DATA_SOURCES).
    scale: share of the study's 273 cities to keep, 0 < scale <= 1 (1 = full scale).
    seed: seed of every random draw of the synthetic world (non-negative integer).
    periods: the study's periods as (first year, last year), MRIO years at both ends.
    distance_tiers_km: edges of the great-circle distance tiers, km, strictly increasing from 0.
    cluster: standard-error clustering ("pair" as the study, "twoway" by origin and destination).
    name: label of the parameter set (e.g. "default", "ci"), shown in the book.
    """

    data_source: str
    scale: float
    seed: int
    periods: tuple[tuple[int, int], ...] = ((2012, 2015), (2015, 2017))
    distance_tiers_km: tuple[float, ...] = (0.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
    cluster: str = "pair"
    name: str = "custom"
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

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

    def data_key(self) -> dict[str, Any]:
        """The parameters that determine the StudyData bundle (hashed into its cache key)."""
        return {"data_source": self.data_source, "n_cities": self.n_cities, "seed": self.seed,
                "years": list(range(min(self.mrio_years) - 1, max(self.mrio_years) + 1))}

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("extra")
        d["periods"] = [list(p) for p in self.periods]
        d["distance_tiers_km"] = list(self.distance_tiers_km)
        return d


_REQUIRED = ("data_source", "scale", "seed")
_OPTIONAL = ("periods", "distance_tiers_km", "cluster", "name")


def _fail(name: str, value: Any, allowed: str) -> None:
    raise ParamsError(f"parameter '{name}' = {value!r} is invalid: allowed {allowed}")


def from_mapping(values: Mapping[str, Any], source: str = "parameters") -> Params:
    """Validate a mapping of parameters (from YAML or papermill) into :class:`Params`.

    ``source`` names where the values came from (a file name) for error messages.
    """
    if not isinstance(values, Mapping):
        raise ParamsError(f"{source}: expected a mapping of parameter names to values")
    unknown = sorted(set(values) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ParamsError(f"{source}: unknown parameter(s) {unknown}; "
                          f"allowed: {sorted(_REQUIRED + _OPTIONAL)}")
    for name in _REQUIRED:
        if name not in values or values[name] is None:
            raise ParamsError(f"{source}: parameter '{name}' is missing")
    ds = values["data_source"]
    if ds not in DATA_SOURCES:
        _fail("data_source", ds, f"one of {list(DATA_SOURCES)}")
    scale = values["scale"]
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= 1:
        _fail("scale", scale, "a number with 0 < scale <= 1 (share of the study's 273 cities)")
    seed = values["seed"]
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        _fail("seed", seed, "a non-negative integer")
    kw: dict[str, Any] = {"data_source": ds, "scale": float(scale), "seed": int(seed)}
    if "periods" in values:
        per = values["periods"]
        try:
            periods = tuple((int(a), int(b)) for a, b in per)
        except (TypeError, ValueError):
            periods = ()
        if not periods or any(a >= b for a, b in periods) or any(
                periods[k][1] != periods[k + 1][0] for k in range(len(periods) - 1)):
            _fail("periods", per, "a list of [first, last] year pairs, consecutive, first < last")
        kw["periods"] = periods
    if "distance_tiers_km" in values:
        tiers = values["distance_tiers_km"]
        try:
            edges = tuple(float(t) for t in tiers)
        except (TypeError, ValueError):
            edges = ()
        if len(edges) < 2 or edges[0] != 0 or any(b <= a for a, b in zip(edges, edges[1:])):
            _fail("distance_tiers_km", tiers, "a strictly increasing list of km edges starting at 0")
        kw["distance_tiers_km"] = edges
    if "cluster" in values:
        if values["cluster"] not in CLUSTERS:
            _fail("cluster", values["cluster"], f"one of {list(CLUSTERS)}")
        kw["cluster"] = values["cluster"]
    if "name" in values:
        kw["name"] = str(values["name"])
    return Params(**kw)


def load(path: str | Path) -> Params:
    """Read and validate a parameter file (YAML)."""
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"parameter file not found: {path}")
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ParamsError(f"{path}: not valid YAML: {err}") from err
    values = dict(values or {})
    values.setdefault("name", path.stem)
    return from_mapping(values, source=str(path))


def digest(obj: Any) -> str:
    """Stable short sha256 of a JSON-serialisable object (used in cache keys)."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
