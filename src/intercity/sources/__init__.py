"""The data sources: one module per source, each returning a :class:`intercity.schema.StudyData`.

A source is a module with ``build(params, years) -> StudyData`` (``years``: every year of city and
pair data the parameters need, from the year before the first MRIO year to the last). Adding a
source is one module and one line of :data:`REGISTRY`. Sources import the contract
(:mod:`intercity.schema`), never the bundle stage that calls them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from intercity.params import Params
    from intercity.schema import StudyData

#: Source name -> module under ``intercity.sources`` providing ``build(params, years)``.
REGISTRY: dict[str, str] = {
    "synthetic": "synthetic",
    "public": "public",
    "ceads": "ceads",
}


def years_needed(params: "Params") -> list[int]:
    """Every year of city and pair data: from the year before the first MRIO year to the last."""
    return list(range(min(params.mrio_years) - 1, max(params.mrio_years) + 1))


def build(name: str, params: "Params") -> "StudyData":
    """The StudyData of source ``name`` for ``params`` (not validated, not cached)."""
    if name not in REGISTRY:
        raise ValueError(f"data_source {name!r} has no builder; known: {sorted(REGISTRY)}")
    module = import_module(f"intercity.sources.{REGISTRY[name]}")
    return module.build(params, years_needed(params))
