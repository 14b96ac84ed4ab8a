"""Where things live: the project root and the folders under it (the package is installed editable)."""

from __future__ import annotations

import os
from pathlib import Path

#: The checkout holding _config.yml, notebooks/, params/, data/ (two levels above this package).
PROJECT_ROOT: Path = Path(os.environ.get("INTERCITY_ROOT", Path(__file__).resolve().parents[2]))
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
CACHE_DIR = Path(os.environ.get("INTERCITY_CACHE", PROJECT_ROOT / "data" / "processed"))
RESULTS_DIR = PROJECT_ROOT / "results"
NOTEBOOK_DIR = PROJECT_ROOT / "notebooks"
BOOK_DIR = PROJECT_ROOT / "book"
PARAMS_DIR = PROJECT_ROOT / "params"
