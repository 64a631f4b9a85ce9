"""Litmus tests for sequential consistency across ranks (tests/litmus/litmus.c).

Threads race, many times over, on a few shared variables, each on a page of
its own ("pages") or all on one page ("page"); the program counts every
outcome, and the outcome that no interleaving gives ("forbidden") must never
appear.  pshare's DSM is sequentially consistent: a page has one writer or
only readers, and a rank gives a page up (its protection dropped, so its
threads' stores are out of their store buffers) before its bytes leave.

- sb: store buffering with seq_cst atomics (the fences make x86 forbid it too)
- sb_plain: the same with plain volatile accesses.  x86 (TSO) lets each load
  pass the thread's own store, so natively, and whenever both threads share a
  rank, r0 = r1 = 0 does appear; with the threads on different ranks every
  such pair of accesses meets a page transfer, and the outcome must not appear
- mp: message passing, plain volatile accesses (x86 keeps their order)
- mp3: message passing to three readers on one rank at once (any reader seeing
  the flag but not the data is forbidden): the readers fault on the same pages
  together while the writer takes them back, which caught a thread reopening a
  page its control thread had just closed (then reading a stale copy)
- iriw: independent reads of independent writes, plain (forbidden on x86 too)

Where the threads run (main is on home; the program's threads T0.. are placed
by pshare): "home" = every thread on home; "n2rr" = 2 ranks round robin (T0
on rank 1, T1 on home, ...); "n2p1" = 2 ranks, --placement 1 (every thread on
rank 1, the pages come from home); "n3rr" = 3 ranks round robin (T0 on rank
1, T1 on rank 2: home only manages); "n4rr" (iriw) = one thread on each of 4
ranks; "w0r1" = the writer T0 on home, T1..T3 on rank 1; "w1r2" = the writer on
rank 1, T1..T3 on rank 2 (home only manages).  Each run's --stats-json must show that placement.  Nothing here
depends on timing: a run lasts at least MIN_ITERS iterations and then until
SECONDS have passed, whatever the machine's speed.
"""
import json

import pytest

from helpers import TESTS_DIR, base_env, compile_app, run_native, run_pshare

SRC = TESTS_DIR / "litmus" / "litmus.c"
MIN_ITERS = 100
SECONDS = 1.0
#: a lost update would hang a spin: the program says so (status 3) well within the run's limit
ENV = {"LITMUS_TIMEOUT": "20"}
RUN_TIMEOUT_S = 90

THREADS = {"sb": 2, "sb_plain": 2, "mp": 2, "mp3": 4, "iriw": 4}
#: configuration -> (pshare mode, launcher options, threads per rank for 2 and 4 threads)
CONFIGS = {
    "home": ("singleton", (), {2: [3], 4: [5]}),
    "n2rr": (("mpiexec", 2), (), {2: [2, 1], 4: [3, 2]}),
    "n2p1": (("mpiexec", 2), ("--placement", "1"), {2: [1, 2], 4: [1, 4]}),
    "n3rr": (("mpiexec", 3), (), {2: [1, 1, 1], 4: [2, 2, 1]}),
    "n4rr": (("mpiexec", 4), (), {4: [2, 1, 1, 1]}),
    "w0r1": (("mpiexec", 2), ("--placement", "0,1,1,1"), {4: [2, 3]}),
    "w1r2": (("mpiexec", 3), ("--placement", "1,2,2,2"), {4: [1, 1, 3]}),
}
#: sb_plain only where its two threads are on different ranks
CASES = [(t, c) for t in ("sb", "mp", "iriw") for c in ("home", "n2rr", "n2p1", "n3rr")] + \
        [("sb_plain", "n2rr"), ("sb_plain", "n3rr"), ("iriw", "n4rr"),
         ("mp3", "w0r1"), ("mp3", "w1r2")]
LAYOUTS = ("pages", "page")


@pytest.fixture(scope="module")
def litmus(tmp_path_factory):
    return compile_app(SRC, tmp_path_factory.mktemp("litmus"))


def parse(stdout: bytes) -> dict:
    """The program's report: test, threads, iterations, outcomes, forbidden."""
    out = {"outcomes": {}}
    for line in stdout.decode().splitlines():
        words = line.split()
        if words[0] == "outcome":
            out["outcomes"][words[1]] = int(words[2])
        elif words[0] == "test":
            out["test"] = words[1:3]
        elif words[0] in ("threads", "iterations", "forbidden"):
            out[words[0]] = int(words[1])
    return out


def check_run(r, test, layout) -> dict:
    err = r.stderr.decode(errors="replace")[-3000:]
    assert r.returncode == 0, f"exit {r.returncode}\n{err}"
    rep = parse(r.stdout)
    assert rep["test"] == [test, layout] and rep["threads"] == THREADS[test]
    assert rep["iterations"] >= MIN_ITERS
    assert sum(rep["outcomes"].values()) == rep["iterations"], rep
    return rep


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("test", ("sb", "mp", "mp3", "iriw"))
def test_native(test, layout, litmus, tmp_path):
    """The harness natively: what x86 forbids (sb with fences, mp, iriw) never appears."""
    r = run_native(litmus, (test, layout, str(MIN_ITERS), str(SECONDS / 2)), tmp_path / "run",
                   timeout=RUN_TIMEOUT_S, env=base_env(ENV))
    rep = check_run(r, test, layout)
    print(test, layout, "native", rep)
    assert rep["forbidden"] == 0, f"forbidden outcome natively: {rep}"


@pytest.mark.pshare
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("test,config", CASES, ids=[f"{t}-{c}" for t, c in CASES])
def test_sequentially_consistent(test, config, layout, litmus, tmp_path, request):
    mode, opts, per_rank = CONFIGS[config]
    if mode != "singleton":
        request.getfixturevalue("mpiexec")   # skips when mpiexec is missing
    stats = tmp_path / "stats.json"
    r = run_pshare(litmus, (test, layout, str(MIN_ITERS), str(SECONDS)), tmp_path / "run", mode,
                   extra_opts=("--stats-json", str(stats), *opts), timeout=RUN_TIMEOUT_S,
                   env=base_env(ENV))
    rep = check_run(r, test, layout)
    print(test, layout, config, rep)
    placed = [rk["threads"] for rk in json.loads(stats.read_text())["ranks"]]
    assert placed == per_rank[THREADS[test]], f"threads per rank {placed}"
    assert rep["forbidden"] == 0, (
        f"{test} ({layout}, {config}): the forbidden outcome appeared {rep['forbidden']} "
        f"times in {rep['iterations']} iterations: {rep['outcomes']}")
