"""The study's published numbers, transcribed in ``data/reference/`` (never edited by the code).

``published_tables.csv``: one row per published coefficient; ``paren`` is the number printed in
parentheses, kept as printed (a standard error in a few cells, a t statistic in most).
``descriptive_stats.csv``: the published descriptive statistics of the pair panel.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from intercity.paths import REFERENCE_DIR


@lru_cache(maxsize=None)
def _read(name: str) -> pd.DataFrame:
    path = REFERENCE_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"published reference table missing: {path}")
    return pd.read_csv(path)


def descriptive_stats() -> pd.DataFrame:
    """Published descriptive statistics: variable, mean, median, std, min, max, description."""
    return _read("descriptive_stats.csv").copy()


def published_tables() -> pd.DataFrame:
    """Published coefficients: table, column, sample, dependent, regressor, coef, paren, stars, ..."""
    return _read("published_tables.csv").copy()
