"""What every benchmark writes beside its numbers: machine facts, and the JSON file itself."""

from __future__ import annotations

import json
import os
import platform
import resource
from pathlib import Path


def machine_facts() -> dict:
    """Peak memory of this process (MiB), BLAS threads, platform and CPU count."""
    return {"peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
            "machine": platform.platform(), "cpus": os.cpu_count()}


def write(result: dict, out: str | Path) -> None:
    """Write ``result`` (with the machine facts) as JSON to ``out`` and print it."""
    result = {**result, **machine_facts()}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
