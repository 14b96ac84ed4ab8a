"""Loader of a user's own copy of the CEADs city MRIO (not redistributable, not in the mirror).

Two layouts are read into a :class:`~intercity.mrio.DenseMRIO` (10k yuan, city-major rows):

* MATLAB ``.mat`` holding a struct ``MRIO`` with fields ``Z`` ((n*S) x (n*S) intermediate
  flows), ``F`` ((n*S) x (n*K) final demand, K categories per demanding city, domestic),
  ``VA`` (value added rows), ``IM`` (imports rows) and ``Export`` ((n*S) x E exports).
  Gross output x = Z 1 + F 1 + Export 1 (row totals of domestic output).
* ``.xlsx``: 4 header rows, then one row per (city, sector) with leading label columns, then
  n*S intermediate-use columns, then final-demand columns (K per city, consecutive); columns
  whose header says export/出口/total/合计 are read as exports / skipped.

The files carry no adcodes: ``cities`` (adcodes in the file's order) must be given; sectors
default to the 42 NBS codes. Every error names the file and what is wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from intercity.mrio import DenseMRIO
from intercity.sectors import SECTOR_CODES

REQUIRED_FIELDS = ("Z", "F")
_EXPORT_WORDS = ("export", "出口", "ex")
_TOTAL_WORDS = ("total", "合计", "总产出", "总计")


class CEADSError(ValueError):
    """The CEADs file cannot be read as an MRIO; the message names the file and the problem."""


def _fail(path: Path, msg: str) -> None:
    raise CEADSError(f"{path}: {msg}")


def _dims(path: Path, rows: int, cities: Sequence[str], sectors: Sequence[str]) -> tuple[int, int]:
    n, S = len(cities), len(sectors)
    if n == 0:
        _fail(path, "argument 'cities' is empty: give the adcodes of the file's cities in order")
    if rows != n * S:
        _fail(path, f"Z has {rows} rows but {n} cities x {S} sectors = {n * S}")
    return n, S


def _final_by_city(path: Path, F: np.ndarray, n: int) -> np.ndarray:
    """(n*S, n*K) final demand -> (n*S, n) by summing each city's K categories."""
    if F.shape[1] % n:
        _fail(path, f"F has {F.shape[1]} columns, not a multiple of the {n} cities")
    k = F.shape[1] // n
    return F.reshape(F.shape[0], n, k).sum(axis=2)


def _check(path: Path, name: str, a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        r, c = np.argwhere(~np.isfinite(a))[0][:2] if a.ndim == 2 else (np.argwhere(~np.isfinite(a))[0][0], 0)
        _fail(path, f"{name} has a non-finite value at row {r}, column {c}")
    return a


def load_mat(path: Path | str, cities: Sequence[str], sectors: Sequence[str] = SECTOR_CODES,
             struct: str = "MRIO") -> DenseMRIO:
    """Read the CEADs ``.mat`` (struct ``MRIO``: Z, F, VA, IM, Export) into a DenseMRIO."""
    import scipy.io

    path = Path(path)
    if not path.is_file():
        raise CEADSError(f"{path}: file not found")
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=True)
    except (ValueError, NotImplementedError, OSError) as exc:
        raise CEADSError(f"{path}: not a MATLAB file scipy can read ({exc}); save it with -v7") from exc
    if struct not in mat:
        _fail(path, f"no struct '{struct}' (variables: {sorted(k for k in mat if not k.startswith('__'))})")
    s = mat[struct]
    fields = s.dtype.names or ()
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if missing:
        _fail(path, f"struct '{struct}' lacks field(s) {missing} (has {list(fields)})")
    get = lambda f: np.atleast_2d(np.asarray(s[f].item() if s[f].shape == () else s[f], dtype=np.float64))  # noqa: E731
    Z = _check(path, "Z", get("Z"))
    F = _check(path, "F", get("F"))
    if Z.shape[0] != Z.shape[1]:
        _fail(path, f"Z must be square, got {Z.shape}")
    n, _ = _dims(path, Z.shape[0], cities, sectors)
    if F.shape[0] != Z.shape[0]:
        _fail(path, f"F has {F.shape[0]} rows, Z {Z.shape[0]}")
    exports = np.zeros(Z.shape[0])
    if "Export" in fields:
        E = _check(path, "Export", get("Export"))
        if E.shape[0] != Z.shape[0]:
            E = E.T
        if E.shape[0] != Z.shape[0]:
            _fail(path, f"Export has shape {E.shape}, expected {Z.shape[0]} rows")
        exports = E.sum(axis=1)
    Fc = _final_by_city(path, F, n)
    x = Z.sum(axis=1) + F.sum(axis=1) + exports
    return DenseMRIO(cities=tuple(cities), sectors=tuple(sectors), Z=Z, F=Fc, x=x)


def _is_number(v: object) -> bool:
    try:
        float(v)
        return not (isinstance(v, float) and np.isnan(v))
    except (TypeError, ValueError):
        return False


def load_xlsx(path: Path | str, cities: Sequence[str], sectors: Sequence[str] = SECTOR_CODES,
              header_rows: int = 4, sheet: str | int = 0) -> DenseMRIO:
    """Read a CEADs-layout ``.xlsx`` (see module docstring) into a DenseMRIO."""
    path = Path(path)
    if not path.is_file():
        raise CEADSError(f"{path}: file not found")
    raw = pd.read_excel(path, sheet_name=sheet, header=None, dtype=object, keep_default_na=False)
    n, S = len(cities), len(sectors)
    N = n * S
    if raw.shape[0] < header_rows + N:
        _fail(path, f"{raw.shape[0] - header_rows} data rows after {header_rows} header rows, "
                    f"expected {N} ({n} cities x {S} sectors)")
    body = raw.iloc[header_rows: header_rows + N]
    # label columns: up to the last of the first 6 columns holding text (codes may look numeric)
    texty = [c for c in range(min(6, body.shape[1])) if not all(_is_number(v) for v in body.iloc[:, c])]
    lead = texty[-1] + 1 if texty else 0
    if body.shape[1] < lead + N + n:
        _fail(path, f"{body.shape[1] - lead} numeric columns, expected {N} intermediate-use columns "
                    f"and at least {n} final-demand columns")
    head = raw.iloc[:header_rows].fillna("").astype(str).apply(lambda col: " ".join(col).lower())
    fd_cols, ex_cols = [], []
    for c in range(lead + N, body.shape[1]):
        h = head.iloc[c]
        if any(w in h for w in _TOTAL_WORDS):
            continue
        (ex_cols if any(w in h.split() or w in h for w in _EXPORT_WORDS[:2]) else fd_cols).append(c)
    for c in [*range(lead, lead + N), *fd_cols, *ex_cols]:
        bad = [r for r, v in enumerate(body.iloc[:, c]) if not _is_number(v)]
        if bad:
            _fail(path, f"non-numeric value {body.iloc[bad[0], c]!r} at row {header_rows + bad[0] + 1}, "
                        f"column {c + 1}")
    Z = body.iloc[:, lead: lead + N].to_numpy(dtype=np.float64)
    F = body.iloc[:, fd_cols].to_numpy(dtype=np.float64)
    E = body.iloc[:, ex_cols].to_numpy(dtype=np.float64).sum(axis=1) if ex_cols else np.zeros(N)
    Fc = _final_by_city(path, F, n)
    x = Z.sum(axis=1) + F.sum(axis=1) + E
    return DenseMRIO(cities=tuple(cities), sectors=tuple(sectors), Z=Z, F=Fc, x=x)


def load(path: Path | str, cities: Sequence[str], sectors: Sequence[str] = SECTOR_CODES) -> DenseMRIO:
    """Dispatch on the suffix: ``.mat`` -> :func:`load_mat`, ``.xlsx`` -> :func:`load_xlsx`."""
    p = Path(path)
    if p.suffix.lower() == ".mat":
        return load_mat(p, cities, sectors)
    if p.suffix.lower() == ".xlsx":
        return load_xlsx(p, cities, sectors)
    raise CEADSError(f"{p}: unknown format '{p.suffix}' (expected .mat or .xlsx)")
