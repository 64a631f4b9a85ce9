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
import resource
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

from . import config, stats
from ._rtctl import (CHAN_FD, CTL_FD, NO_PUNCH, RT_FAILED, RT_NONE, RT_RUNNING, STORE_FD,
                     Channel, ControlBlock, disable_aslr, make_store, tsc_hz)
from .errors import LaunchError
from .placement import usable_cores

FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT,
                     signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGCONT,
                     signal.SIGWINCH)


# What a terminal sends to its whole foreground process group.
TERMINAL_SIGNALS = (signal.SIGINT, signal.SIGQUIT)


def shares_terminal():
    """Is this launcher (and so its app, which stays in its process group) in
    the foreground of a terminal?  Then Ctrl-C already reaches the app.
    (Under mpiexec and srun the agents have no terminal.)"""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def signal_name(signo):
    try:
        return signal.Signals(signo).name
    except ValueError:
        return f"signal {signo}"


def job_line(msg):
    """One line of pshare's own on stderr, in one write: the ranks share it."""
    sys.stderr.write(f"pshare: {msg}\n")
    sys.stderr.flush()


class Agent:
    def __init__(self, opts, command, comm):
        self.opts = opts
        self.command = command            # program.Command: the ELF that runs, its argv, a script's name
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.proc = None
        self.ctl = None

    def log(self, msg):
        if self.opts.verbose:
            self.say(msg)

    def say(self, msg):
        job_line(f"rank {self.rank}: {msg}")

    # ---- start ----

    def start(self):
        home = (dict(os.environ), config.current_rlimits(), stdin_pipe()) \
            if self.rank == 0 else None
        base_env, rlimits, home_stdin = self.comm.bcast(home, root=0)
        if self.rank != 0:
            drain_stdin(home_stdin)
        runtime = config.runtime_library()
        env, flags = config.app_environment(base_env, runtime)
        if config.shmem_huge_pages():
            flags |= NO_PUNCH             # this node's store may hold huge pages
        if self.rank != 0:
            config.apply_rlimits(rlimits)
        self.ctl = ControlBlock(self.rank, self.size, flags)
        # the cluster's CPUs (ext/rt/cpus.c), known to the runtime from its
        # start: this rank's are numbered after every lower rank's
        counts = self.comm.allgather(usable_cores())
        if self.opts.cpus == "cluster" and self.size > 1:
            self.ctl.set_cpus(sum(counts[:self.rank]), sum(counts))
        if self.command.comm:
            self.ctl.set_comm(os.fsencode(self.command.comm))
        self.chan = Channel()
        self.store = make_store()
        os.dup2(self.ctl.fd, CTL_FD)
        os.dup2(self.chan.fd, CHAN_FD)
        os.dup2(self.store, STORE_FD)
        disable_aslr()
        self.cpu_at_start = cpu_seconds(resource.RUSAGE_SELF)
        self.log(f"starting {self.command.path} with {runtime}")
        # At a terminal the app stays in our process group (it may read the
        # terminal, and Ctrl-C reaches it there).  Elsewhere it gets a group
        # of its own: mpiexec and srun signal each launcher's group, and the
        # app must hear of a signal once, from home's agent.
        self.terminal_shared = shares_terminal()
        stdin = self.app_stdin()
        try:
            self.proc = subprocess.Popen(
                self.command.argv, executable=self.command.path, env=env, pass_fds=(CTL_FD, CHAN_FD, STORE_FD),
                stdin=stdin,
                preexec_fn=None if self.terminal_shared else os.setpgrp)
        except OSError as e:
            raise LaunchError(f"{self.opts.program}: {e.strerror}", 126) from None
        finally:
            if hasattr(stdin, "close"):
                stdin.close()           # the app has its own copy
            for fd in (CTL_FD, CHAN_FD, STORE_FD):
                os.close(fd)
        # The process gets a signal once: mpiexec and srun signal every rank,
        # so only home passes it on to its app (whose kernel then picks the
        # thread); the other ranks' agents ignore it.
        for s in FORWARDED_SIGNALS:
            signal.signal(s, self._forward if self.rank == 0 else signal.SIG_IGN)

    def stop_forwarding(self):
        """The app is gone: a signal that comes now (mpiexec's reaches the
        ranks one by one) has nowhere to go, and must not end this launcher
        while it reports: Python puts its own handlers back to the default
        as it exits, so a late SIGINT killed an agent then and mpiexec said
        status 2 (or 11) for the job, not the app's 130.  Ignored ones stay
        ignored."""
        for s in FORWARDED_SIGNALS:
            signal.signal(s, signal.SIG_IGN)

    def app_stdin(self):
        """Home's app reads our stdin (or --stdin FILE); the others read nothing."""
        if self.rank != 0:
            return subprocess.DEVNULL
        if self.opts.stdin:
            try:
                return open(self.opts.stdin, "rb")
            except OSError as e:
                raise LaunchError(f"--stdin: {self.opts.stdin}: {e.strerror}", 2) from None
        return None

    def _forward(self, signo, frame):
        if signo in TERMINAL_SIGNALS and self.terminal_shared:
            return          # the terminal sent it to the app's process group too
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signo)

    # ---- several ranks: start together, then serve the app ----

    def wait_running(self):
        """Until the runtime is up (or failed, or the app is gone); no spinning."""
        delay = 0.0005
        while self.ctl.state != RT_RUNNING and self.proc.poll() is None \
                and self.ctl.state != RT_FAILED:
            time.sleep(delay)
            delay = min(delay * 2, 0.02)
        return self.ctl.state == RT_RUNNING and self.proc.poll() is None

    def layout(self):
        """The app's mappings, as every rank must have them (addresses and files)."""
        lines = []
        with open(f"/proc/{self.proc.pid}/maps") as f:
            for line in f:
                fields = line.split(maxsplit=5)
                lines.append(fields[0] + " " + (fields[5].strip() if len(fields) > 5 else ""))
        return lines

    def start_report(self):
        """Why the app did not come up here: (message or None, exit status)."""
        status = self.proc.poll()
        if self.ctl.state == RT_FAILED:
            return self.ctl.error, 126
        if status is None:
            return "the pshare runtime did not come up in the program", 126
        if status < 0:
            return f"the program was killed by {signal_name(-status)} before it started", 128 - status
        # the dynamic loader (a missing library: 127) or the program itself said why
        return f"the program exited with status {status} before it started", status

    def check_layouts(self):
        """Every rank's app is up with home's address space, or the job ends:
        returns (None, home's app pid) or ((message, exit status), None)."""
        ok = self.wait_running()
        mine = ("ok", self.layout()) if ok else ("down",) + self.start_report()
        layouts = self.comm.gather(mine, root=0)
        verdict = None
        if self.rank == 0:
            down = [(r, l) for r, l in enumerate(layouts) if l[0] == "down"]
            if down:
                r, (_, message, status) = down[0]
                verdict = (f"rank {r}: {message}" if message else None, status)
            else:
                home = layouts[0][1]
                for r, (_, other) in enumerate(layouts[1:], 1):
                    if other != home:
                        diff = next((i for i, (x, y) in enumerate(zip(home, other)) if x != y),
                                    min(len(home), len(other)))
                        home_line = home[diff] if diff < len(home) else "(nothing)"
                        their = other[diff] if diff < len(other) else "(nothing)"
                        verdict = (f"address spaces differ between rank 0 and rank {r}: "
                                   f"first difference: '{home_line}' on rank 0, '{their}' on "
                                   f"rank {r} (every node needs the same program, libraries, "
                                   "environment and limits)", 126)
                        break
        return self.comm.bcast((verdict, self.proc.pid if self.rank == 0 else None), root=0)

    def serve(self):
        """Run the event loop until the job ends; returns its exit status."""
        from .loop import Node
        from .placement import Placement
        verdict, home_pid = self.check_layouts()
        self.ctl.set_home_pid(home_pid)
        if verdict is not None:
            message, status = verdict
            if self.rank == 0 and message:
                job_line(message)
            if self.proc.poll() is None:
                self.kill_app()
            self.proc.wait()
            return status
        placement = Placement(self.opts.placement, self.size, usable_cores())
        self.node = Node(self.comm, self.chan, self.ctl, self.store, placement,
                         lambda: self.proc.poll(), self.proc.pid, self.opts.hold_us,
                         config.debug_prefetch_delay_ms(), self.opts.write_burst_us)
        self.log(f"address space checked ({len(self.layout())} mappings, the same on "
                 f"every rank); placement {self.opts.placement}; doorbell rung by "
                 f"{len(self.node.rung_by)} of {self.size - 1} peers")
        if self.rank == 0:
            self.ctl.set_go()
        code = self.node.run()
        self.log(f"job over, exit status {code}; pages in {self.node.counts['pages_in']}, "
                 f"out {self.node.counts['pages_out']}")
        ended_here = self.proc.poll() is None      # the job ended, the app had not
        if ended_here:
            self.kill_app()
        status = self.proc.wait()
        if self.rank == 0 and self.node.failure is None:
            self.report_end(status)
            return 128 - status if status < 0 else status
        if self.rank != 0 and not ended_here:
            self.report_end(status)
        return 128 - code if code < 0 else code

    def kill_app(self):
        """The job ended before the app did: the app goes, and so do the
        processes it started in its process group (no orphans), unless it
        shares ours at a terminal."""
        if self.terminal_shared:
            self.proc.kill()
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)   # its group: the agent made it with setpgrp
        except ProcessLookupError:
            pass

    # ---- one rank ----

    def wait_home(self):
        """Home: the app's own exit is the job's."""
        status = self.proc.wait()
        code = 128 - status if status < 0 else status
        self.report_end(status)
        return code

    def report_end(self, status):
        """One line for anything a native run would not have ended with."""
        if self.ctl.state == RT_FAILED:
            self.say(self.ctl.error)
            return
        if self.ctl.state == RT_NONE:
            self.say(self.start_report()[0])
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
        node = getattr(self, "node", None)
        # the app is this process's only child, and has been waited for
        cpu = {"app": cpu_seconds(resource.RUSAGE_CHILDREN),
               "agent": cpu_seconds(resource.RUSAGE_SELF) - self.cpu_at_start}
        return stats.rank_record(self.rank, socket.gethostname(), self.proc.pid, self.ctl,
                                 tsc_hz(), node.counts if node else {},
                                 node.traffic if node else None, cpu)


def cpu_seconds(who):
    """User + system CPU time of this process (RUSAGE_SELF, every thread) or
    of its waited-for children (RUSAGE_CHILDREN), in seconds."""
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def stdin_pipe():
    """(host, st_dev, st_ino) of this process's stdin if it is a pipe or a
    socket, else None."""
    try:
        st = os.fstat(0)
    except OSError:
        return None
    if not (stat.S_ISFIFO(st.st_mode) or stat.S_ISSOCK(st.st_mode)):
        return None
    return (socket.gethostname(), st.st_dev, st.st_ino)


def drain_stdin(home_stdin):
    """Off home the app reads /dev/null, but srun sends stdin to every task by
    default and stops feeding all of them (home included) once one task's pipe
    is full: read this rank's copy to its end and drop it.  Not if it is the
    very pipe home reads (a launcher that hands every rank the same stdin)."""
    mine = stdin_pipe()
    if mine is None or mine == home_stdin:
        return

    def drain():
        try:
            while os.read(0, 1 << 16):
                pass
        except OSError:
            pass

    threading.Thread(target=drain, name="pshare-stdin-drain", daemon=True).start()


def check_slurm_step(mpi_size):
    """srun without a PMI plugin (Slurm's default MpiDefault=none) starts N
    tasks that each come up as an MPI singleton: N copies of the program.
    Stop every task instead, with one line from task 0."""
    if mpi_size != 1 or "SLURM_STEP_ID" not in os.environ:
        return
    if config.started_by_process_manager():
        return          # a process manager (srun's plugin, mpiexec) gave MPI its size
    ntasks = os.environ.get("SLURM_STEP_NUM_TASKS") or os.environ.get("SLURM_NTASKS", "")
    if not ntasks.isdigit() or int(ntasks) <= 1:
        return
    raise LaunchError(f"srun started {ntasks} tasks but MPI sees 1 in each: srun gave MPI "
                      "no PMI (Slurm's default is --mpi=none); run srun --mpi=pmi2 "
                      "pshare-launch ... (the MPICH wheel; --mpi=pmix for Open MPI)", 2)


def run(opts, command):
    """Run the job on this rank (command: program.Command); returns the exit
    status for this process."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    check_slurm_step(comm.Get_size())
    agent = Agent(opts, command, comm)
    t0 = time.perf_counter()
    agent.start()
    code = agent.serve() if agent.size > 1 else agent.wait_home()
    agent.stop_forwarding()
    elapsed = time.perf_counter() - t0
    records = comm.gather(agent.rank_stats() if (opts.stats or opts.stats_json) else None, root=0)
    if agent.rank == 0 and (opts.stats or opts.stats_json):
        report = stats.job_report(opts, agent.size, code, elapsed, records)
        if opts.stats_json:
            stats.write_json(report, opts.stats_json)
        if opts.stats:
            stats.render(report)
    return code
