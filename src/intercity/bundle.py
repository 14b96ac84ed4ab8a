"""The bundle stage: the StudyData of a parameter set, from its source, cached on disk.

The contract (tables, columns, validation) is :mod:`intercity.schema`; the sources are the
registry :mod:`intercity.sources`. This module resolves ``auto``, builds through the registry,
validates, and caches.

Cache: ``<cache>/<source>-<key>/`` holding one parquet file per table, per MRIO year one ``.npz``
(structured) or a folder of ``.npy`` arrays read memory-mapped (dense: a full-size CEADs year is
1.3 GB; hard-linked to the CEADs source's table cache when possible), and ``meta.json``. The key
(:func:`cache_key`) hashes the data parameters, the code the source runs, the data files it reads
and the user's own files (``ceads``), so a change of any of them rebuilds, a change elsewhere (a
caption) does not, and a second build with the same inputs reads the cache.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from intercity import cachekey, paths, sources
from intercity.mrio import DenseMRIO, StructuredMRIO, release_pages
from intercity.params import Params
from intercity.schema import BundleError, SchemaError, StudyData, validate  # noqa: F401 (re-exported)

# --------------------------------------------------------------------------- cache

#: Project data files every bundle reads (the study's descriptive statistics calibrate the
#: synthetic world and give the public source's imputed medians).
BUNDLE_DATA: tuple[str, ...] = ("data/reference/descriptive_stats.csv",)
#: Extra data files per source (the manifest carries the sha256 of every public input file; the
#: public HSR network also reads the city boundaries and the cited section opening dates; the
#: sector concordance maps the national and CEADs tables to the book's sectors).
_PUBLIC_DATA: tuple[str, ...] = ("data/manifest.csv", "data/derived/city_boundaries.json",
                                 "data/derived/hsr_opening_dates.csv", "data/reference/sector_concordance.csv")
SOURCE_DATA: dict[str, tuple[str, ...]] = {"public": _PUBLIC_DATA,
                                           "ceads": _PUBLIC_DATA}  # ceads: every other variable is public's
#: Sources that read the public input files of the data manifest.
READS_PUBLIC: tuple[str, ...] = ("public", "ceads")


def user_files(source: str, params: Params | None) -> dict[str, Path]:
    """{parameter name: path} of the user's own files the bundle of ``source`` reads (the CEADs
    tables, layout, city lists and city panel of the ``ceads`` section); empty for other sources."""
    if source == "ceads" and params is not None and params.ceads is not None:
        return params.ceads.files()
    return {}


def stage_inputs(source: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(package modules, project data files) the bundle stage of ``source`` reads (see
    :mod:`intercity.cachekey`); the user's own files of a parameter set are :func:`user_files`."""
    if source not in sources.REGISTRY:
        raise BundleError(f"data_source {source!r} has no builder; known: {sorted(sources.REGISTRY)}")
    return (("intercity.bundle", f"intercity.sources.{sources.REGISTRY[source]}"),
            BUNDLE_DATA + SOURCE_DATA.get(source, ()))


def cache_key(params: Params, source: str | None = None) -> str:
    """Directory name of the cached bundle: the source, and a hash of the data parameters, the code
    the source runs (its modules and their imports), the data files it reads and the bytes of the
    user's files (``ceads``: every table, the layout, the city lists and the city panel, by sha256)."""
    source = source or params.data_source
    modules, data = stage_inputs(source)
    named = user_files(source, params)
    return (f"{source}-{cachekey.key('bundle', modules, data, {**params.data_key(source), 'data_source': source}, named_files=named)}")


def cache_path(params: Params, source: str, cache_dir: Path | None = None) -> Path:
    """The folder holding the cached bundle (and the results derived from it) for ``source``."""
    return Path(cache_dir or paths.CACHE_DIR) / cache_key(params, source)


def fetch_inputs(source: str, params: Params | None = None) -> pd.DataFrame:
    """The input files a file-based source reads, put in place and sha256-verified against the data
    manifest (copied from the mirror or downloaded, see :func:`intercity.sources.fetch.fetch`),
    and the user's own files (``ceads``, with ``params``: action "user file"): columns path,
    sha256, action. Empty for the synthetic world. Raises FetchError naming a file."""
    rows = []
    if source in READS_PUBLIC:
        from intercity.sources import fetch

        done = fetch.fetch()
        sums = {e.path: e.sha256 for e in fetch.read_manifest()}
        rows += [(p, sums[p], a) for p, a in done.items()]
    rows += [(str(p), cachekey.file_sha256(p), f"user file ({name})") for name, p in user_files(source, params).items()]
    return pd.DataFrame(rows, columns=["path", "sha256", "action"])


def resolve_source(params: Params) -> tuple[str, str]:
    """The concrete source for ``params`` and a sentence saying how it was chosen.

    ``auto`` fetches the public files (copy from the mirror, else download; every file
    checksum-verified) and resolves to ``public`` when that succeeds, else to ``synthetic``.
    """
    if params.data_source != "auto":
        return params.data_source, ""
    try:
        fetch_inputs("public")
    except Exception as err:  # any failure to have the files means: fall back, and say why
        return "synthetic", (f"data_source 'auto' fell back to the synthetic world: the public "
                             f"input files could not be had ({err})")
    return "public", "data_source 'auto' resolved to the public source: every input file was found and verified"


def _backing_npy(arr: np.ndarray) -> Path | None:
    """The ``.npy`` file an array is the whole content of (memory-mapped by ``np.load``), or None."""
    b = arr
    while b is not None:
        if isinstance(b, np.memmap) and getattr(b, "filename", None):
            same = (b.shape == arr.shape and b.dtype == arr.dtype
                    and b.__array_interface__["data"][0] == arr.__array_interface__["data"][0]
                    and b.flags.c_contiguous and arr.flags.c_contiguous)
            p = Path(b.filename)
            return p if same and p.suffix == ".npy" else None
        b = getattr(b, "base", None)
    return None


def _save_array(path: Path, arr: np.ndarray) -> None:
    """``np.save``, or a hard link to the ``.npy`` file the array is mapped from (a CEADs table kept
    by :mod:`intercity.sources.ceads`: one copy on disk however many bundles use it)."""
    src = _backing_npy(arr)
    if src is not None:
        try:
            os.link(src, path)
            return
        except OSError:  # another file system, or links not allowed: copy
            pass
    np.save(path, arr)
    release_pages(arr)


def _save_mrio(path: Path, m: StructuredMRIO | DenseMRIO) -> None:
    """Structured: one ``.npz``. Dense: a folder of ``.npy`` arrays (read memory-mapped: a full-size
    CEADs year is 1.3 GB) and ``ids.json``."""
    if isinstance(m, StructuredMRIO):
        np.savez(path.with_suffix(".npz"), form="structured", cities=np.array(m.cities), sectors=np.array(m.sectors),
                 a_nat=m.a_nat, shares=m.shares, final_demand=m.final_demand)
        return
    path.mkdir()
    for name in ("Z", "F", "x"):
        _save_array(path / f"{name}.npy", getattr(m, name))
    (path / "ids.json").write_text(json.dumps({"form": "dense", "cities": list(m.cities), "sectors": list(m.sectors)}))


def _load_mrio(path: Path) -> StructuredMRIO | DenseMRIO:
    if path.is_dir():
        ids = json.loads((path / "ids.json").read_text())
        arrays = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in ("Z", "F", "x")}
        return DenseMRIO(cities=tuple(ids["cities"]), sectors=tuple(ids["sectors"]), **arrays)
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as z:
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
        _save_mrio(tmp / f"mrio_{year}", m)
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
    mrio = {int(y): _load_mrio(directory / f"mrio_{y}") for y in info["mrio_years"]}
    return StudyData(source=info["source"], mrio=mrio, extras=extras, meta=info["meta"], **tables)


def build(params: Params, source: str | None = None) -> StudyData:
    """Build the bundle from its source (no cache) and validate it; ``source`` overrides
    ``params.data_source`` (used once ``auto`` is resolved)."""
    return validate(sources.build(source or params.data_source, params))


def load(params: Params, cache_dir: Path | None = None, refresh: bool = False,
         log: Callable[[str], None] | None = None) -> StudyData:
    """The bundle for ``params``: from the cache when present, else built and cached.

    ``auto`` is resolved first (:func:`resolve_source`); the bundle's ``meta["resolution"]``
    says what was chosen and why, and the book shows it. The input files of a file-based source
    are verified on every call (:func:`fetch_inputs`) and listed in ``meta["inputs"]``; ``log``
    receives one line per step and per input file (path and sha256).
    """
    log = log or (lambda _m: None)
    source, note = resolve_source(params)
    if note:
        log(note)
    inputs = fetch_inputs(source, params)
    if len(inputs):
        log(f"inputs: {len(inputs)} files (data/manifest.csv, sha256-verified; the user's files, sha256):")
        for r in inputs.itertuples():
            log(f"  {r.sha256[:16]}  {r.path} ({r.action})")
    directory = cache_path(params, source, cache_dir)
    if directory.joinpath("meta.json").is_file() and not refresh:
        log(f"bundle: {source}, read from the cache {directory.name}")
        b = load_cached(directory)
    else:
        log(f"bundle: building the {source} StudyData (cache key {directory.name}) ...")
        t0 = time.perf_counter()
        b = build(params, source)
        save(b, directory)
        log(f"bundle: {len(b.cities)} cities, {len(b.pair_year):,} pair-years built in {time.perf_counter() - t0:.1f} s")
    b.meta["resolution"] = note
    b.meta["inputs"] = inputs.to_dict("records")
    return b
