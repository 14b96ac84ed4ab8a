"""The whole pipeline at ci scale: notebooks executed by the runner, validated by nbval, built
into the HTML book with warnings as errors, and checked to load nothing from another host."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from intercity import paths, runner

pytestmark = pytest.mark.slow
# The fixtures `staged` (notebooks executed on params/ci.yaml into _build/ci) and `book_build`
# (its HTML build) live in conftest.py, shared with test_browser.py.


def test_every_notebook_executed_with_hidden_parameters(staged):
    sources = sorted(p.name for p in paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
    built = sorted(p.name for p in (staged / "book").glob("*.ipynb"))
    assert built == sources and len(sources) >= 6
    for f in (staged / "book").glob("*.ipynb"):
        nb = nbformat.read(f, as_version=4)
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
        assert "scale = 0.15" in injected[0].source
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f.name


def test_source_notebooks_are_committed_without_outputs():
    for f in paths.NOTEBOOK_DIR.glob("*.ipynb"):
        nb = nbformat.read(f, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f.name
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), f.name


def test_nbval_reproduces_the_executed_notebooks(staged):
    nbs = sorted(str(p) for p in (staged / "book").glob("*.ipynb"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", *nbs,
         "--nbval-sanitize-with", str(Path(__file__).with_name("nbval_sanitize.cfg"))],
        capture_output=True, text=True, cwd=staged, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


def test_book_builds_with_warnings_as_errors_and_offline(staged, book_build):
    run = book_build
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    html = staged / "_build" / "html"
    assert (html / "index.html").is_file()
    for stem in [p.stem for p in paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb")]:
        assert (html / "book" / f"{stem}.html").is_file(), stem
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)
    offenders = [f.name for f in html.rglob("*.html") if remote.search(f.read_text(encoding="utf-8"))]
    assert not offenders, f"pages loading from another host: {offenders}"
    assert (html / "_static" / "plotly.min.js").is_file()
    page = (html / "book" / "01_background.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and "Built on" in page
    assert "data_source = " not in page  # parameter cells are hidden


def test_failing_notebook_is_named_with_its_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("y = 2"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "01_broken.ipynb")
    with pytest.raises(runner.NotebookFailed) as err:
        runner.build(paths.PARAMS_DIR / "ci.yaml", out_dir=tmp_path / "out", results_dir=tmp_path / "res",
                     notebook_dir=tmp_path / "nbs", log=lambda _m: None)
    msg = str(err.value)
    assert "01_broken.ipynb" in msg and "code cell 4" in msg and "broken on purpose" in msg
