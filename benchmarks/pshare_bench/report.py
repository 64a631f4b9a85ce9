"""Output: rich tables on stdout, a progress bar on stderr, the JSON document."""
from __future__ import annotations

import json
import os
import platform
import sys
from contextlib import contextmanager
from typing import Optional

from rich.console import Console
from rich.markup import escape
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn,
                           TextColumn, TimeElapsedColumn)
from rich.table import Table

NA = "n/a"


def stdout_console() -> Console:
    # Piped into a file (docs, CI logs) rich would squeeze the tables to 80
    # columns; give them room instead.
    return Console(width=None if sys.stdout.isatty() else 190)


def stderr_console() -> Console:
    return Console(stderr=True)


class Steps:
    """What the progress bar shows: the run in progress, and how many are done."""

    def __init__(self, progress: Optional[Progress], task):
        self._progress, self._task = progress, task

    def start(self, what: str) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=what)

    def done(self) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)


@contextmanager
def progress(total: int, title: str):
    """A transient bar on stderr; stdout stays clean for the tables."""
    bar = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(),
                   console=stderr_console(), transient=True)
    with bar:
        yield Steps(bar, bar.add_task(title, total=total))


def machine_info() -> dict:
    """Enough to tell two result files' machines apart."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        from importlib.metadata import version
        pshare_version = version("pshare")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        pshare_version = None
    return {"host": platform.node(), "kernel": platform.release(), "cpu": model,
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "pshare": pshare_version}


def document(benchmark: str, params: dict, results: dict) -> dict:
    return {"benchmark": benchmark, "version": 1, "machine": machine_info(),
            "params": params, **results}


def write_json(path: str, doc: dict) -> None:
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


# ----------------------------------------------------------------- cell formats

def us(value: Optional[float]) -> str:
    if value is None:
        return NA
    if value >= 1000:
        return f"{value:,.0f}"
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def spread(summary: Optional[dict]) -> str:
    """median [p10–p90] in µs."""
    if summary is None:
        return NA
    return escape(f"{us(summary['median_us'])} [{us(summary['p10_us'])}–{us(summary['p90_us'])}]")


def ratio(value: Optional[float]) -> str:
    if value is None:
        return NA
    if value >= 10:
        return f"{value:.0f}×"
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.3f}×"


def safe_ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    if a is None or b is None or b == 0:
        return None
    return a / b


def diff(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return None if a is None or b is None else a - b


def print_modes(console: Console, modes: dict) -> None:
    """One line per configuration under a table: what it is, and ok or why n/a."""
    for mode, info in modes.items():
        status = "ok" if info["status"] == "ok" else escape(f"{NA}: {info['reason']}")
        console.print(f"  {mode} = {escape(info['label'])} — {status}", highlight=False)


def rtt_table(rtt: dict) -> Table:
    """The MPI round trip measured beside a benchmark (pingpong.measure)."""
    m = Table(title="MPI round trip between two ranks (mpi4py, MPI_THREAD_MULTIPLE)",
              title_justify="left")
    for col in ("bytes", "median µs", "p10 µs", "p90 µs", "round trips", "MPIR_CVAR_NOLOCAL", "library"):
        m.add_column(col, justify="right")
    m.add_row(str(rtt["size"]), us(rtt["median_us"]), us(rtt["p10_us"]), us(rtt["p90_us"]),
              str(rtt["n"]), "1" if rtt["nolocal"] else "unset", rtt["library"])
    return m


def print_pinning(console, params) -> None:
    """The caption line of a run pinned as simulated nodes (--cores-per-rank)."""
    c = params.get("cores_per_rank")
    if c:
        console.print(f"  pinned: each rank to its own {c} core{'s' if c > 1 else ''} "
                      f"(pshare_bench.pin), A and B to rank 0's: threads, runtime and agent "
                      f"share them", highlight=False)
