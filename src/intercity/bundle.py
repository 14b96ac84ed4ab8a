"""The bundle stage: the StudyData of a parameter set, from its source, cached on disk.

The contract (tables, columns, validation) is :mod:`intercity.schema`; the sources are the
registry :mod:`intercity.sources`. This module resolves ``auto``, builds through the registry,
validates, and caches.

Cache: ``<cache>/<source>-<key>/`` holding one parquet file per table, one ``.npz`` per MRIO year
and ``meta.json``. The key hashes the data parameters and the package's source code, so a change
of either rebuilds and a second build with the same inputs reads the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from intercity import paths, sources
from intercity.mrio import DenseMRIO, StructuredMRIO
from intercity.params import Params, digest
from intercity.schema import BundleError, SchemaError, StudyData, validate  # noqa: F401 (re-exported)

# --------------------------------------------------------------------------- cache

def _code_digest() -> str:
    """sha256 over the package's source files: a code change invalidates cached data."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        h.update(f.relative_to(root).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _inputs_digest(source: str) -> str:
    """sha256 of the input files' manifest for file-based sources (its rows carry each file's
    sha256), so new input files give a new cache key; empty for the synthetic world."""
    if source != "public":
        return ""
    from intercity.sources import fetch

    return hashlib.sha256(fetch.MANIFEST.read_bytes()).hexdigest()[:16]


def cache_key(params: Params, source: str | None = None) -> str:
    """Directory name of the cached bundle for these parameters, inputs and this code."""
    source = source or params.data_source
    key = {**params.data_key(), "data_source": source}
    return f"{source}-{digest({'data': key, 'code': _code_digest(), 'inputs': _inputs_digest(source)})}"


def cache_path(params: Params, source: str, cache_dir: Path | None = None) -> Path:
    """The folder holding the cached bundle (and the results derived from it) for ``source``."""
    return Path(cache_dir or paths.CACHE_DIR) / cache_key(params, source)


def resolve_source(params: Params) -> tuple[str, str]:
    """The concrete source for ``params`` and a sentence saying how it was chosen.

    ``auto`` fetches the public files (copy from the mirror, else download; every file
    checksum-verified) and resolves to ``public`` when that succeeds, else to ``synthetic``.
    """
    if params.data_source != "auto":
        return params.data_source, ""
    from intercity.sources import fetch

    try:
        fetch.fetch()
    except Exception as err:  # any failure to have the files means: fall back, and say why
        return "synthetic", (f"data_source 'auto' fell back to the synthetic world: the public "
                             f"input files could not be had ({err})")
    return "public", "data_source 'auto' resolved to the public source: every input file was found and verified"


def _save_mrio(path: Path, m: StructuredMRIO | DenseMRIO) -> None:
    if isinstance(m, StructuredMRIO):
        np.savez(path, form="structured", cities=np.array(m.cities), sectors=np.array(m.sectors),
                 a_nat=m.a_nat, shares=m.shares, final_demand=m.final_demand)
    else:
        np.savez(path, form="dense", cities=np.array(m.cities), sectors=np.array(m.sectors),
                 Z=m.Z, F=m.F, x=m.x)


def _load_mrio(path: Path) -> StructuredMRIO | DenseMRIO:
    with np.load(path, allow_pickle=False) as z:
        common = {"cities": tuple(str(c) for c in z["cities"]), "sectors": tuple(str(s) for s in z["sectors"])}
        if str(z["form"]) == "structured":
            return StructuredMRIO(a_nat=z["a_nat"], shares=z["shares"], final_demand=z["final_demand"], **common)
        return DenseMRIO(Z=z["Z"], F=z["F"], x=z["x"], **common)


def save(b: StudyData, directory: Path) -> None:
    """Write the bundle to ``directory`` (replaced atomically via a temporary sibling)."""
    tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in ("cities", "city_year", "pair_year", "ledger"):
        getattr(b, name).to_parquet(tmp / f"{name}.parquet", index=False)
    for name, frame in b.extras.items():
        frame.to_parquet(tmp / f"extra_{name}.parquet", index=False)
    for year, m in b.mrio.items():
        _save_mrio(tmp / f"mrio_{year}.npz", m)
    (tmp / "meta.json").write_text(json.dumps({"source": b.source, "meta": b.meta,
                                               "mrio_years": sorted(b.mrio), "extras": sorted(b.extras)},
                                              indent=2, sort_keys=True, default=str))
    if (directory / "meta.json").is_file():  # another process cached the same bundle meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
        return
    shutil.rmtree(directory, ignore_errors=True)  # a partial directory from an interrupted run
    try:
        tmp.rename(directory)
    except OSError:  # another process cached the same bundle meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def load_cached(directory: Path) -> StudyData:
    """Read a bundle written by :func:`save`."""
    info = json.loads((directory / "meta.json").read_text())
    tables = {name: pd.read_parquet(directory / f"{name}.parquet")
              for name in ("cities", "city_year", "pair_year", "ledger")}
    extras = {name: pd.read_parquet(directory / f"extra_{name}.parquet") for name in info["extras"]}
    mrio = {int(y): _load_mrio(directory / f"mrio_{y}.npz") for y in info["mrio_years"]}
    return StudyData(source=info["source"], mrio=mrio, extras=extras, meta=info["meta"], **tables)


def build(params: Params, source: str | None = None) -> StudyData:
    """Build the bundle from its source (no cache) and validate it; ``source`` overrides
    ``params.data_source`` (used once ``auto`` is resolved)."""
    return validate(sources.build(source or params.data_source, params))


def load(params: Params, cache_dir: Path | None = None, refresh: bool = False) -> StudyData:
    """The bundle for ``params``: from the cache when present, else built and cached.

    ``auto`` is resolved first (:func:`resolve_source`); the bundle's ``meta["resolution"]``
    says what was chosen and why, and the book shows it.
    """
    source, note = resolve_source(params)
    directory = cache_path(params, source, cache_dir)
    if directory.joinpath("meta.json").is_file() and not refresh:
        b = load_cached(directory)
    else:
        b = build(params, source)
        save(b, directory)
    b.meta["resolution"] = note
    return b
