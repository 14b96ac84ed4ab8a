"""Sweeps of independent tasks on Dask: the one function the design lab's worlds and the
multiverse's models run through, so that the machinery lives (and can be swapped) in one place.

:func:`run` calls ``fn(payload)`` for every task (the design lab: a draw), or ``fn(shared[key],
payload)`` for every task ``(key, payload)`` when the large objects the tasks read (the
multiverse's panels) are given in ``shared``: sent to each worker once
(``Client.scatter(broadcast=True)``), not once per task. Results come back in task order, or are
handed one by one to ``on_result`` as they finish (the lab caches each draw there). Where the
tasks run:

- ``scheduler`` (an address ``protocol://host:port``): an existing ``dask.distributed`` cluster
  (``dask scheduler`` and ``dask worker`` processes, here or on other machines);
- else ``workers`` >= 1: a ``LocalCluster`` of that many single-threaded worker processes on this
  machine, started and closed by the call;
- else (``workers`` = 0): a plain loop in this process (no Dask; the same results, tested).

A progress bar (tqdm, on stderr; silent when stderr is not a terminal, so a notebook's output is
the same whether the sweep ran or was read from a cache) counts tasks done and the time left, and
``log`` (a callable taking one line) hears every tenth of the way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any


class _Progress:
    def __init__(self, total: int, desc: str, unit: str, log: Callable[[str], None] | None):
        from tqdm import tqdm  # a text bar on stderr (tqdm.auto would warn in a kernel without ipywidgets)

        self.total, self.desc, self.unit, self.log = total, desc, unit, log
        self.done, self.t0 = 0, time.perf_counter()
        self.bar = tqdm(total=total, desc=desc, unit=unit, smoothing=0.1, disable=None)

    def step(self) -> None:
        self.done += 1
        self.bar.update(1)
        if self.log and (self.done % max(1, self.total // 10) == 0 or self.done == self.total):
            spent = time.perf_counter() - self.t0
            left = spent / self.done * (self.total - self.done)
            self.log(f"{self.desc}: {self.done}/{self.total} {self.unit}s done, {spent:.0f} s spent, "
                     f"about {left:.0f} s left")

    def close(self) -> None:
        self.bar.close()


def run(fn: Callable[..., Any], tasks: Sequence[Any], shared: Mapping[Hashable, Any] | None = None, *,
        scheduler: str | None = None, workers: int = 1, desc: str = "tasks", unit: str = "task",
        log: Callable[[str], None] | None = None, on_result: Callable[[int, Any], None] | None = None,
        keep: bool = True) -> list:
    """Run every task; return the results in task order.

    With ``shared`` (a mapping), each task is ``(key, payload)`` and runs ``fn(shared[key],
    payload)``, ``shared[key]`` sent to each worker once; without, each task is a payload and runs
    ``fn(payload)``. ``on_result(i, result)`` is called in this process as each task finishes (in
    the order they finish; the design lab saves each draw there, so an interrupted sweep keeps what
    it finished): an exception it raises stops the sweep and closes the cluster. ``keep=False``
    returns None for every task (results handed to ``on_result`` only, not held in memory).

    ``fn`` must be importable by the workers (a module-level function); shared values and payloads
    must pickle. A task's exception is raised here. See the module docstring for ``scheduler``,
    ``workers``, the progress bar and ``log``.
    """
    if shared is not None:
        missing = [k for k, _ in tasks if k not in shared]
        if missing:
            raise KeyError(f"task refers to shared object {missing[0]!r}, which was not given")
    out: list = [None] * len(tasks)

    def finished(i: int, result: Any) -> None:
        if on_result is not None:
            on_result(i, result)
        if keep:
            out[i] = result
        bar.step()

    bar = _Progress(len(tasks), desc, unit, log)
    try:
        if scheduler is None and workers == 0:
            for i, task in enumerate(tasks):
                finished(i, fn(shared[task[0]], task[1]) if shared is not None else fn(task))
            return out
        from dask.distributed import Client, LocalCluster, as_completed

        quiet = logging.getLogger("distributed")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the cluster's start and stop are not the user's business
        cluster = None
        if scheduler is not None:
            if log:
                log(f"{desc}: running on the Dask cluster at {scheduler}")
            client = Client(scheduler, timeout="30s")
        else:
            if log:
                log(f"{desc}: running on a Dask LocalCluster of {workers} worker process(es)")
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
            client = Client(cluster)
        try:
            if shared is not None:
                used = list(dict.fromkeys(k for k, _ in tasks))
                # a list of one: scattering a dict directly would scatter its values under its own keys
                remote = {k: client.scatter([shared[k]], broadcast=True, hash=False)[0] for k in used}
                futures = {client.submit(fn, remote[key], payload, pure=False): i
                           for i, (key, payload) in enumerate(tasks)}
            else:
                futures = {client.submit(fn, task, pure=False): i for i, task in enumerate(tasks)}
            for fut in as_completed(futures):
                result = fut.result()
                fut.release()
                finished(futures[fut], result)
            return out
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            quiet.setLevel(level)
    finally:
        bar.close()
