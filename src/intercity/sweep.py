"""Sweeps of independent tasks on Dask: the one function the multiverse (and any other sweep) runs
its tasks through, so that the machinery can be swapped in one place.

:func:`run` calls ``fn(shared[key], payload)`` for every task ``(key, payload)`` and returns the
results in task order. The large objects a task reads (a panel) are in ``shared``: sent to each
worker once (``Client.scatter(broadcast=True)``), not once per task. Where the tasks run:

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
    def __init__(self, total: int, desc: str, log: Callable[[str], None] | None):
        from tqdm import tqdm  # a text bar on stderr (tqdm.auto would warn in a kernel without ipywidgets)

        self.total, self.desc, self.log, self.done, self.t0 = total, desc, log, 0, time.perf_counter()
        self.bar = tqdm(total=total, desc=desc, unit="task", smoothing=0.1, disable=None)

    def step(self) -> None:
        self.done += 1
        self.bar.update(1)
        if self.log and (self.done % max(1, self.total // 10) == 0 or self.done == self.total):
            spent = time.perf_counter() - self.t0
            left = spent / self.done * (self.total - self.done)
            self.log(f"{self.desc}: {self.done}/{self.total} tasks, {spent:.0f} s spent, about {left:.0f} s left")

    def close(self) -> None:
        self.bar.close()


def run(fn: Callable[[Any, Any], Any], tasks: Sequence[tuple[Hashable, Any]], shared: Mapping[Hashable, Any],
        *, scheduler: str | None = None, workers: int = 1, desc: str = "tasks",
        log: Callable[[str], None] | None = None) -> list:
    """Results of ``fn(shared[key], payload)`` for each ``(key, payload)`` of ``tasks``, in order.

    ``fn`` must be importable by the workers (a module-level function); ``shared`` values and
    payloads must pickle. Errors raised by a task are raised here (Dask re-raises the task's
    exception). See the module docstring for ``scheduler`` and ``workers``.
    """
    missing = [k for k, _ in tasks if k not in shared]
    if missing:
        raise KeyError(f"task refers to shared object {missing[0]!r}, which was not given")
    bar = _Progress(len(tasks), desc, log)
    try:
        if scheduler is None and workers == 0:
            out = []
            for key, payload in tasks:
                out.append(fn(shared[key], payload))
                bar.step()
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
            used = list(dict.fromkeys(k for k, _ in tasks))
            # a list of one: scattering a dict directly would scatter its values under its own keys
            remote = {k: client.scatter([shared[k]], broadcast=True, hash=False)[0] for k in used}
            futures = {client.submit(fn, remote[key], payload, pure=False): i
                       for i, (key, payload) in enumerate(tasks)}
            out: list = [None] * len(tasks)
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                fut.release()
                bar.step()
            return out
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
            quiet.setLevel(level)
    finally:
        bar.close()
