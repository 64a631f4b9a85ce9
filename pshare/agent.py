"""The agent: one per MPI rank.  It starts the app with the runtime preloaded,
waits for it, and turns what the runtime recorded into an exit status, error
lines and statistics.

Rank 0 is home: ``main()`` runs there and its exit status is the job's.  Every
other rank starts the same program too (same file, environment, rlimits, ASLR
off: the same address space), whose runtime parks the initial thread as the
rank's control thread until threads arrive from home.

The agent never busy-waits for long: ranks share cores with the app (the tests
run 4 ranks on 2 cores).
"""
import os
import signal
import socket
import subprocess
import sys
import time

from . import config, stats
from ._rtctl import (CTL_FD, RT_FAILED, RT_NONE, STORE_FD, ControlBlock, disable_aslr,
                     make_store, tsc_hz)
from .errors import LaunchError

TAG_EXIT = 11
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                     signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGCONT,
                     signal.SIGWINCH)


def signal_name(signo):
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


class Agent:
    def __init__(self, opts, program_path, comm):
        self.opts = opts
        self.path = program_path
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.proc = None
        self.ctl = None

    def log(self, msg):
        if self.opts.verbose:
            print(f"pshare: rank {self.rank}: {msg}", file=sys.stderr, flush=True)

    def say(self, msg):
        print(f"pshare: rank {self.rank}: {msg}", file=sys.stderr, flush=True)

    # ---- start ----

    def start(self):
        home = (dict(os.environ), config.current_rlimits()) if self.rank == 0 else None
        base_env, rlimits = self.comm.bcast(home, root=0)
        runtime = config.runtime_library()
        env, flags = config.app_environment(base_env, runtime)
        if self.rank != 0:
            config.apply_rlimits(rlimits)
        self.ctl = ControlBlock(self.rank, self.size, flags)
        store = make_store()
        os.dup2(self.ctl.fd, CTL_FD)
        os.dup2(store, STORE_FD)
        os.close(store)
        disable_aslr()
        argv = [self.opts.program] + list(self.opts.args)
        self.log(f"starting {self.path} with {runtime}")
        try:
            self.proc = subprocess.Popen(
                argv, executable=self.path, env=env, pass_fds=(CTL_FD, STORE_FD),
                stdin=None if self.rank == 0 else subprocess.DEVNULL)
        except OSError as e:
            raise LaunchError(f"{self.opts.program}: {e.strerror}", 126) from None
        finally:
            os.close(CTL_FD)
            os.close(STORE_FD)
        for s in FORWARDED_SIGNALS:
            signal.signal(s, self._forward)

    def _forward(self, signo, frame):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signo)

    # ---- run to the end ----

    def wait_home(self):
        """Home: the app's own exit is the job's."""
        status = self.proc.wait()
        code = 128 - status if status < 0 else status
        self.report_end(status)
        for r in range(1, self.size):
            self.comm.send(code, dest=r, tag=TAG_EXIT)
        return code

    def wait_worker(self):
        """A worker: park until home says the job is over, sleeping in between."""
        req = self.comm.irecv(source=0, tag=TAG_EXIT)
        delay = 0.0005
        while True:
            done, code = req.test()
            if done:
                break
            if self.proc.poll() is not None:
                self.report_end(self.proc.returncode)
                status = self.proc.returncode
                self.comm.Abort(128 - status if status < 0 else (status or 1))
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        return code

    def report_end(self, status):
        """One line for anything a native run would not have ended with."""
        if self.ctl.state == RT_FAILED:
            self.say(self.ctl.error)
            return
        if self.ctl.state == RT_NONE:
            self.say("the pshare runtime did not start inside the program "
                     "(was it preloaded? see the lines above)")
            return
        if status >= 0:
            return
        signo = -status
        crash = self.ctl.crash
        if crash and crash["signo"] == signo and crash["code"] > 0:
            self.say(f"thread {crash['thread']} (tid {crash['tid']}) crashed: "
                     f"{signal_name(signo)} at address {crash['addr']:#x} "
                     f"(instruction {crash['ip']:#x})")
        else:
            self.say(f"the program was killed by {signal_name(signo)}")

    def rank_stats(self):
        return stats.rank_record(self.rank, socket.gethostname(), self.proc.pid, self.ctl,
                                 tsc_hz() if (self.opts.stats or self.opts.stats_json) else 0.0)


def run(opts, program_path):
    """Run the job on this rank; returns the exit status for this process."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    agent = Agent(opts, program_path, comm)
    t0 = time.perf_counter()
    agent.start()
    code = agent.wait_home() if agent.rank == 0 else agent.wait_worker()
    elapsed = time.perf_counter() - t0
    records = comm.gather(agent.rank_stats() if (opts.stats or opts.stats_json) else None, root=0)
    if agent.rank == 0 and (opts.stats or opts.stats_json):
        report = stats.job_report(opts, agent.size, code, elapsed, records)
        if opts.stats_json:
            stats.write_json(report, opts.stats_json)
        if opts.stats:
            stats.render(report)
    return code
