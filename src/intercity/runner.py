"""Execute the section notebooks with papermill for one parameter set, and write ``results/``.

The pattern of cal-itp's ``portfolio``: parameters come from a YAML file, papermill injects them
into each notebook (whose first code cell is tagged ``parameters``), and the injected cell is
hidden in the book (tag ``remove-cell``). Results of the run, machine-readable, go to
``results/<parameter set>/``.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import Callable

import nbformat
import pandas as pd
import papermill as pm

from intercity import params as params_mod
from intercity import models, paths, pipeline, scorecard

logging.getLogger("papermill").setLevel(logging.WARNING)

HIDDEN_TAGS = ("injected-parameters", "parameters")


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the notebook, the cell and the error."""


def notebooks(only: str | None = None, directory: Path | None = None) -> list[Path]:
    """The section notebooks in book order (file name order), or the one named by ``only``."""
    directory = directory or paths.NOTEBOOK_DIR
    found = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if only is None:
        return found
    match = [p for p in found if only in (p.name, p.stem, p.stem.split("_", 1)[1])]
    if not match:
        names = ", ".join(p.stem for p in found)
        raise params_mod.ParamsError(f"--only {only!r}: no such notebook; choose one of {names}")
    return match


def notebook_parameters(p: params_mod.Params) -> dict:
    """What papermill injects: every parameter, JSON-friendly."""
    return p.to_dict()


def hide_parameter_cells(path: Path) -> None:
    """Tag the parameters and injected-parameters cells ``remove-cell`` so the book hides them."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(t in tags for t in HIDDEN_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def _failure(nb_path: Path, out_path: Path, err: Exception) -> NotebookFailed:
    cell_no, first_line = "?", ""
    if out_path.is_file():
        nb = nbformat.read(out_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for k, c in enumerate(code, start=1):
            if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                cell_no, first_line = str(k), c.source.strip().splitlines()[0] if c.source.strip() else ""
                break
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    return NotebookFailed(f"notebook {nb_path.name} failed in code cell {cell_no} "
                          f"({first_line!r}): {ename}: {evalue}")


def write_results(study: pipeline.Study, directory: Path, log: Callable[[str], None] | None = None) -> list[Path]:
    """Machine-readable results of the run: bundle summary, ledger, transfers, panel moments,
    estimates, scorecard, and the input files read with their sha256."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    estimates = pipeline.estimates(study, log=log)
    outputs = {
        "models.csv": models.compare_published(estimates),
        "models_all.csv": estimates,
        "scorecard.csv": scorecard.for_study(study, estimates),
        "bundle_summary.csv": study.data.summary(),
        "ledger.csv": study.ledger,
        "city_transfer.csv": study.city_transfer(),
        "panel_summary.csv": study.panel.describe().T.reset_index(names="variable"),
        "inputs.csv": pd.DataFrame(study.data.meta.get("inputs", []), columns=["path", "sha256", "action"]),
    }
    for name, frame in outputs.items():
        frame.to_csv(directory / name, index=False)
        written.append(directory / name)
    (directory / "params.json").write_text(json.dumps(study.params.to_dict(), indent=2))
    written.append(directory / "params.json")
    return written


def copy_static(book_root: Path) -> None:
    """Put plotly.js in the book's ``_static`` (served locally, never from a CDN)."""
    import plotly

    static = book_root / "_static"
    static.mkdir(parents=True, exist_ok=True)
    src = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    if not (static / "plotly.min.js").is_file() or (static / "plotly.min.js").stat().st_size != src.stat().st_size:
        shutil.copyfile(src, static / "plotly.min.js")


def build(params_file: str | Path, only: str | None = None, out_dir: Path | None = None,
          results_dir: Path | None = None, notebook_dir: Path | None = None,
          log: Callable[[str], None] = print) -> list[Path]:
    """Validate parameters, prepare the data, execute the notebooks into ``out_dir``."""
    p = params_mod.load(params_file)
    out_dir = Path(out_dir or paths.BOOK_DIR)
    results_dir = Path(results_dir or paths.RESULTS_DIR / p.name)
    selected = notebooks(only, notebook_dir)
    log(f"parameters {params_file}: data_source={p.data_source} scale={p.scale} seed={p.seed}")
    t0 = time.perf_counter()
    study = pipeline.study(p, log=log)
    log(f"data ready in {time.perf_counter() - t0:.1f} s ({study.source}: {len(study.data.cities)} "
        f"cities, {len(study.panel):,} panel rows); stages {', '.join(f'{k} {v:.1f} s' for k, v in study.timings.items())}")
    write_results(study, results_dir, log=log)
    (results_dir / "timings.json").write_text(json.dumps({"data": study.timings, "notebooks": {}}, indent=2))
    log(f"results written to {results_dir}")
    out_dir.mkdir(parents=True, exist_ok=True)
    copy_static(out_dir.parent if out_dir.name == "book" else out_dir)
    timings = {"data": {k: round(v, 2) for k, v in study.timings.items()}, "notebooks": {}}
    done = []
    for k, nb in enumerate(selected, start=1):
        target = out_dir / nb.name
        t1 = time.perf_counter()
        log(f"[{k}/{len(selected)}] {nb.name} ...")
        try:
            pm.execute_notebook(str(nb), str(target), parameters=notebook_parameters(p),
                                kernel_name="python3", progress_bar=False, cwd=str(out_dir),
                                log_output=False)
        except Exception as err:  # papermill wraps every kernel error
            raise _failure(nb, target, err) from err
        hide_parameter_cells(target)
        seconds = time.perf_counter() - t1
        timings["notebooks"][nb.stem] = round(seconds, 2)
        (results_dir / "timings.json").write_text(json.dumps(timings, indent=2))
        log(f"[{k}/{len(selected)}] {nb.name} done in {seconds:.1f} s")
        done.append(target)
    return done


def main_build(params_file: str, only: str | None, out: str | None) -> int:
    """The ``build`` command; errors reach the user as one line (see :func:`intercity.cli.main`)."""
    build(params_file, only, Path(out) if out else None)
    return 0
