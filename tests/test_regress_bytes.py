"""Regression tests for issue 8, items 5 and 7: only moving bytes travel, and
the traffic is counted.

A forwarded call ships its input bytes to home and only the output bytes the
call produced back; every rank reports the bytes and messages (by kind) its
agent sent and received, and how many trapped calls ran here (local) or went
to home (forwarded), per call too.  Each program in tests/regress_bytes/ runs
natively and under `mpiexec -n N pshare-launch --stats-json`; stdout, stderr
(minus 'pshare:' lines), files and exit status must be the native run's, and
the report must add up."""

import json
import re

import pytest

from helpers import TESTS_DIR, compile_dir, run_native, run_pshare, same_as_native

SRC = TESTS_DIR / "regress_bytes"
MB = 1000 * 1000
#: issue 8's targets, measured by the agents themselves
PREAD_RANK1_RECEIVED_MAX = 1 * MB
WRITE_HOME_RECEIVED_MAX = 12 * MB


@pytest.fixture(scope="module")
def bins(tmp_path_factory):
    return compile_dir(SRC, tmp_path_factory.mktemp("regress_bytes"))


def run_with_stats(binary, tmp_path, nranks):
    stats = tmp_path / "stats.json"
    got = same_as_native(binary, tmp_path, nranks, extra_opts=("--stats-json", str(stats)))
    return got, json.loads(stats.read_text())


def check_accounts(report):
    """What every report must say, whatever the program: calls are local or
    forwarded, once each; per-call forwarded counts add up; with two ranks
    every message one agent sent the other received, kind by kind and byte
    by byte; home answered every request; a worker sent one `sys` message
    per forwarded call (none of these programs makes a call that is carried
    in pieces)."""
    ranks = report["ranks"]
    for r in ranks:
        trapped = sum(r["syscalls"].values())
        assert r["syscalls_local"] + r["syscalls_forwarded"] == trapped, r
        assert sum(r["syscall_forwarded"].values()) == r["syscalls_forwarded"], r
        assert set(r["syscall_forwarded"]) == set(r["syscalls"])
        for name, n in r["syscall_forwarded"].items():
            assert 0 <= n <= r["syscalls"][name], (name, r)
    home = ranks[0]
    assert home["syscalls_forwarded"] == 0, "home forwards nothing"
    if len(ranks) == 1:
        assert home["bytes_sent"] == home["bytes_received"] == 0
        assert home["messages_sent"] == home["messages_received"] == {}
        return
    assert len(ranks) == 2
    worker = ranks[1]
    assert worker["messages_sent"] == home["messages_received"]
    assert home["messages_sent"] == worker["messages_received"]
    assert worker["bytes_sent"] == home["bytes_received"] > 0
    assert home["bytes_sent"] == worker["bytes_received"] > 0
    sent = worker["messages_sent"]
    assert sent.get("sys", 0) == worker["syscalls_forwarded"], worker
    requests = sum(sent.get(k, 0) for k in ("sys", "spawn", "global"))
    assert home["messages_sent"].get("answer", 0) == requests, report
    assert sent["bye"] == home["messages_sent"]["bye"] == 1


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", (1, 2), ids=["mpiexec1", "mpiexec2"])
def test_short_preads_bring_back_their_bytes(bins, tmp_path, nranks, mpiexec):
    """100 preads asking for 128 KiB that get 10 bytes, from a thread on rank
    1: the output buffer is not sent to home and only the 10 bytes come
    back (it moved the whole buffer each way: 13 MB to rank 1)."""
    got, report = run_with_stats(bins["pread_small"], tmp_path, nranks)
    check_accounts(report)
    calls = int(re.search(rb"pread: (\d+) calls", got.stdout).group(1))
    if nranks == 1:
        return
    worker = report["ranks"][1]
    assert worker["threads"] == 1
    assert worker["syscall_forwarded"]["pread64"] == calls
    assert worker["syscall_forwarded"]["pwrite64"] == calls
    assert worker["bytes_received"] < PREAD_RANK1_RECEIVED_MAX, worker
    assert report["ranks"][0]["bytes_received"] < PREAD_RANK1_RECEIVED_MAX, report["ranks"][0]


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", (1, 2), ids=["mpiexec1", "mpiexec2"])
def test_writes_ship_their_bytes_once(bins, tmp_path, nranks, mpiexec):
    """100 writes of 100 KB from a thread on rank 1: the bytes go to home once
    and nothing but the count comes back (they came back whole)."""
    got, report = run_with_stats(bins["write_big"], tmp_path, nranks)
    check_accounts(report)
    calls, total = map(int, re.search(rb"write: (\d+) calls, (\d+) bytes", got.stdout).groups())
    if nranks == 1:
        return
    home, worker = report["ranks"]
    assert worker["syscall_forwarded"]["write"] == calls
    assert total <= home["bytes_received"] <= WRITE_HOME_RECEIVED_MAX, home
    assert worker["bytes_received"] < total // 10, worker


@pytest.mark.pshare
@pytest.mark.parametrize("nranks", (1, 2), ids=["mpiexec1", "mpiexec2"])
def test_every_output_kind_as_native(bins, tmp_path, nranks, mpiexec):
    """Fixed-size out structs after input strings, buffers whose count is the
    result (pread, pipe read, readlink, getcwd, getdents64, recvfrom with an
    address), arrays of returned elements (epoll_wait, getgroups), vector
    reads spread over the iovecs in order, in/out arguments (poll, select,
    F_GETLK, sendfile's offset), failing calls and reads at end of file:
    from main (home) and a thread (rank 1), every byte past what the call
    wrote untouched, as natively."""
    got, report = run_with_stats(bins["out_kinds"], tmp_path, nranks)
    check_accounts(report)
    if nranks == 2:
        fwd = report["ranks"][1]["syscall_forwarded"]
        for name in ("pread64", "preadv", "readv", "newfstatat", "readlink", "getdents64",
                     "epoll_wait", "recvfrom", "poll", "pselect6", "sendfile", "getgroups"):
            assert fwd.get(name, 0) >= 1, (name, fwd)


@pytest.mark.pshare
def test_stats_tables_show_traffic(bins, tmp_path, mpiexec):
    """--stats: the agents' bytes, the messages by kind and, per call, how
    many were forwarded."""
    native = run_native(bins["pread_small"], (), tmp_path / "native")
    got = run_pshare(bins["pread_small"], (), tmp_path / "pshare", ("mpiexec", 2),
                     extra_opts=("--stats",), timeout=120)
    err = got.stderr.decode(errors="replace")
    assert (got.returncode, got.stdout) == (0, native.stdout), err
    assert "agent bytes sent/received" in err, err
    assert "agent messages, sent/received" in err, err
    assert "forwarded" in err.split("system calls", 1)[1], err
    row = next(line for line in err.splitlines() if re.search(r"\bpread64\b", line))
    assert re.search(r"\b100\b.*\b100\b", row), row      # count, forwarded
