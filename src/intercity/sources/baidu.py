"""Information connectivity (real): the Baidu city-to-city search index (Guo et al. 2022).

Annual average of the daily index, directed. Direction, established from the data
(:func:`search_direction`): in a line ``i j v`` city **i is the searching city** and j the
searched one. Evidence: row sums (searches made) track city size far more closely than column
sums, and the cities with the largest column-to-row ratio are small tourist or remote
destinations (玉树, 林芝, 张家界, 丽江, 三亚), which are searched for much more than they search.
So ``baidu_index`` of (origin, dest) = index of users in origin searching dest, as the study's
"from city i to j". 2011-2016 come from the 322-city files, 2017 from the 357-city files (another
smoothing run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from intercity.schema import ledger_frame as _ledger
from intercity.sources import names as N
from intercity.sources.fetch import raw_path


def baidu_family(year: int) -> str:
    """File family of a year: 'c322' for 2011-2016, 'c357' for 2017-2019."""
    if 2011 <= year <= 2016:
        return "c322"
    if 2017 <= year <= 2019:
        return "c357"
    raise ValueError(f"Baidu index: no file for year {year} (files cover 2011-2019)")


def read_baidu_cities(path: Path) -> pd.DataFrame:
    """index -> short name list of one file family (columns index, name)."""
    frame = pd.read_csv(path, dtype={"name": str})
    if list(frame.columns[:2]) != ["index", "name"]:
        raise ValueError(f"{path}: expected columns 'index,name', got {list(frame.columns)}")
    if not frame["index"].equals(pd.Series(range(len(frame)))):
        raise ValueError(f"{path}: index column must run 0..{len(frame) - 1}")
    return frame


def read_baidu_flat(path: Path, n: int) -> np.ndarray:
    """Dense (n, n) matrix of one flat file ``i j value`` (0-based, i searches j); diagonal 0."""
    frame = pd.read_csv(path, sep=r"\s+", header=None, names=["i", "j", "v"], engine="python")
    if frame.isna().any().any():
        row = int(frame.isna().any(axis=1).to_numpy().argmax())
        raise ValueError(f"{path}: malformed line {row + 1} (expected 'i j value')")
    i, j = frame["i"].to_numpy(int), frame["j"].to_numpy(int)
    if i.min() < 0 or j.min() < 0 or max(i.max(), j.max()) >= n:
        raise ValueError(f"{path}: city index outside 0..{n - 1}")
    m = np.zeros((n, n))
    m[i, j] = frame["v"].to_numpy(float)
    np.fill_diagonal(m, 0.0)
    return m


def search_direction(matrix: np.ndarray, size: np.ndarray) -> dict[str, float | str]:
    """Which of i/j searches: correlation of log row and column sums with log city size.

    Returns the two correlations and the verdict 'i searches j' when row sums track size more
    closely (searches made scale with the number of users), else 'j searches i'.
    """
    ok = (size > 0) & (matrix.sum(1) > 0) & (matrix.sum(0) > 0)
    ls = np.log(size[ok])
    r_row = float(np.corrcoef(np.log(matrix.sum(1)[ok]), ls)[0, 1])
    r_col = float(np.corrcoef(np.log(matrix.sum(0)[ok]), ls)[0, 1])
    return {"corr_log_rowsum_log_size": r_row, "corr_log_colsum_log_size": r_col,
            "verdict": "i searches j" if r_row > r_col else "j searches i"}


def baidu_index(raw_dir: Path | None, years: list[int], city_ids: list[str]
                ) -> tuple[dict[int, np.ndarray], pd.DataFrame, dict[str, np.ndarray]]:
    """Search index matrices {year: (n, n)} over ``city_ids`` (origin searches dest).

    Returns (matrices, ledger of names of the files' city lists that match no adcode,
    {family: array of adcodes covered}). A city missing from a year's family is NaN there.
    """
    pos = {c: k for k, c in enumerate(city_ids)}
    out, ledgers, covered, lists = {}, [], {}, {}
    for year in years:
        fam = baidu_family(year)
        if fam not in lists:
            cpath = raw_path(f"baidu_index/cities-{fam}.csv", raw_dir)
            cl = read_baidu_cities(cpath)
            codes, led = N.match_names(cl["name"], cpath.name, stage="baidu_index")
            ledgers.append(led)
            lists[fam] = codes.to_numpy()
            covered[fam] = np.array(sorted({c for c in codes if c is not None}))
        codes = lists[fam]
        path = raw_path(f"baidu_index/data-{fam}-{year}-Flat.txt.gz", raw_dir)
        raw = read_baidu_flat(path, len(codes))
        src = np.array([k for k, c in enumerate(codes) if c in pos])
        dst = np.array([pos[codes[k]] for k in src])
        m = np.full((len(city_ids), len(city_ids)), np.nan)
        m[np.ix_(dst, dst)] = raw[np.ix_(src, src)]
        np.fill_diagonal(m, 0.0)
        out[year] = m
    ledger = pd.concat(ledgers, ignore_index=True).drop_duplicates() if ledgers else _ledger([])
    return out, ledger, covered
