"""One number format for every table and sentence of the book.

- :func:`number`: a fixed number of decimals with thousands separators ("12,345.678"); a non-zero
  value too small to show that way keeps ``digits`` significant digits in scientific notation
  ("4.78e-04", as the study prints such coefficients); missing values are the empty string.
- :func:`pvalue`: "< 0.001" below 0.001 (never "0.000"), else three decimals ("0.042"); a p value
  of exactly 1 is "1.000".
- :func:`count`: an integer with thousands separators ("148,512").
- :func:`significant`: ``k`` significant digits ("0.0123", "1.23e+05" for large values).
- :func:`column_kind` / :func:`format_frame`: which of these a table column gets, from its name and
  dtype (p values by name: ``p``, ``p_<clustering>``, ``p value``; identifiers such as ``year``
  and ``column`` stay plain). :func:`intercity.report.table` formats every table through them.

The functions take Python or numpy numbers and return ``str``; none raises on NaN or infinity
("" and "inf" / "-inf").
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

#: p values below this are printed as "< 0.001".
P_FLOOR: float = 0.001
#: Integer columns named like these are identifiers or years: no thousands separators.
PLAIN_COLUMNS: frozenset[str] = frozenset({"year", "column", "seed", "code cell", "rank", "period", "id",
                                           "tier", "first year", "last year"})
_P_NAME = re.compile(r"^(p|p_[a-z0-9_]+|p value|p-value|p \(.*\))$", re.I)


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def number(v, digits: int = 3) -> str:
    """``v`` with ``digits`` decimals and thousands separators; scientific with ``digits``
    significant digits when non-zero and smaller than ``10**-digits`` in magnitude."""
    if _missing(v):
        return ""
    v = float(v)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v != 0 and abs(v) < 10 ** -digits:
        return f"{v:.{max(digits - 1, 0)}e}"
    text = f"{v:,.{digits}f}"
    return "0" + text[2:] if text.startswith("-0") and float(text.replace(",", "")) == 0 else text


def pvalue(p) -> str:
    """A p value: "< 0.001" below :data:`P_FLOOR`, else three decimals; "" when missing."""
    if _missing(p):
        return ""
    p = float(p)
    if p < P_FLOOR:
        return f"< {P_FLOOR:g}"
    return f"{p:.3f}"


def count(n) -> str:
    """An integer count with thousands separators; "" when missing."""
    if _missing(n):
        return ""
    return f"{int(round(float(n))):,}"


def significant(v, k: int = 3) -> str:
    """``v`` with ``k`` significant digits (scientific notation for magnitudes of 1e5 and more
    or below 1e-4); "" when missing."""
    if _missing(v):
        return ""
    v = float(v)
    if v == 0 or math.isinf(v):
        return number(v, 0)
    mag = math.floor(math.log10(abs(v)))
    if mag >= 5 or mag < -4:
        return f"{v:.{k - 1}e}"
    decimals = max(k - 1 - mag, 0)
    return f"{v:,.{decimals}f}"


def column_kind(name: str, dtype) -> str:
    """How a column is formatted: "p" (p values), "count" (integers with separators), "plain"
    (identifiers and years), "number" (floats), or "text"."""
    label = str(name).strip()
    if _P_NAME.match(label):
        return "p"
    if label.lower() in PLAIN_COLUMNS:
        return "plain"
    if pd.api.types.is_bool_dtype(dtype):
        return "text"
    if pd.api.types.is_integer_dtype(dtype):
        return "count"
    if pd.api.types.is_float_dtype(dtype):
        return "number"
    return "text"


def format_frame(frame: pd.DataFrame, digits: int = 3, kinds: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with every numeric column turned into display strings.

    ``kinds`` overrides :func:`column_kind` per column ("p", "count", "plain", "number", "text",
    "code" (left as it is), or "sig<k>" for ``k`` significant digits). Float columns holding only whole numbers under a
    "count" kind keep separators; text columns are left as they are.
    """
    kinds = dict(kinds or {})
    out = frame.copy()
    for c in out.columns:
        kind = kinds.get(c) or column_kind(c, out[c].dtype)
        col = out[c]
        if kind == "p":
            out[c] = [pvalue(v) for v in col]
        elif kind == "count":
            out[c] = [count(v) for v in col]
        elif kind == "number":
            out[c] = [number(v, digits) for v in col]
        elif kind.startswith("sig"):
            out[c] = [significant(v, int(kind[3:] or 3)) for v in col]
        elif kind == "plain":
            out[c] = ["" if _missing(v) else (str(int(v)) if isinstance(v, (float, np.floating)) and float(v).is_integer()
                                              else str(v)) for v in col]
    return out
