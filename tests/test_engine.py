"""The engine (ext/agent/_engine.pyx) between real agents, without an app.

tests/engine_peer.py is one rank: a real Engine on MPI, its app played by
Python threads over the channel (the control thread's commands, faulting
threads, home's executors).  Run under the venv's mpiexec with 2 and 3
ranks, it checks single page transactions exactly (bytes, the commands each
rank's control thread gets, a FETCH/INV held back until a grant is applied,
forwarded calls, signals for remote threads) and then concurrent faults of every rank on shared pages:
no lost update, every rank's state agrees with home's manager (one writer
or readers), every valid copy holds the same bytes.  It needs no app and
no pshare-launch; a hang is killed by the timeout.
"""
import sys

import pytest

import helpers

PEER = helpers.TESTS_DIR / "engine_peer.py"


@pytest.mark.parametrize("nranks", (2, 3, 4), ids=["mpiexec2", "mpiexec3", "mpiexec4"])
def test_engine_between_agents(nranks, mpiexec, tmp_path):
    r = helpers.run_command([mpiexec, "-n", str(nranks), sys.executable, PEER],
                            cwd=tmp_path / "run", timeout=120)
    out = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode == 0, out[-6000:]
    assert f"engine_peer: ok, {nranks} ranks" in out, out[-6000:]
