"""Find and check the program to run, as a shell would, before any MPI start-up.

Statuses follow the shell: 127 when the program cannot be found, 126 when it
is found but cannot be run (here that includes programs the runtime cannot be
preloaded into: static, 32-bit, not x86_64).

A ``#!`` script runs as the kernel runs it (fs/binfmt_script.c): its
interpreter, with the line's one optional argument, then the script's path,
then the arguments.  The runtime is preloaded into the interpreter, so the
interpreter must be a program pshare can run; ``#!/usr/bin/env NAME`` (and
``env -S``) is followed to NAME on PATH here, as env would find it: env
itself would exec NAME, and a program the app execs runs without pshare.
"""
import os
import shlex
import struct

from .errors import LaunchError

PT_INTERP = 3
EM_X86_64 = 62
SHEBANG_BYTES = 256         # what the kernel reads of a script's first line (BINPRM_BUF_SIZE)
MAX_INTERPRETERS = 4        # scripts run by scripts: the kernel's BINPRM_MAX_RECURSION


class Command:
    """What to start: the ELF program at ``path`` with ``argv``; ``comm``:
    the name its threads have natively when it is not the path's (a script's)."""

    def __init__(self, path, argv, comm=None):
        self.path = path
        self.argv = list(argv)
        self.comm = comm


def resolve(name, path_env=None):
    """The file execvp would run for ``name``."""
    if "/" in name:
        if not os.path.lexists(name):
            raise LaunchError(f"{name}: No such file or directory", 127)
        return name
    for d in (path_env if path_env is not None else os.environ.get("PATH", "")).split(":"):
        cand = os.path.join(d or ".", name)
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    raise LaunchError(f"{name}: command not found", 127)


def command(name, args=()):
    """What ``execvp(name, [name, *args])`` ends up running, checked: a
    Command for a dynamically linked x86_64 program (a script's interpreter)."""
    path = script = resolve(name)
    argv = [name, *args]
    who = name                  # what a message names: the program, or a script's interpreter
    for _ in range(MAX_INTERPRETERS + 1):
        head = _head(who, path)
        if head[:2] != b"#!":
            _check_elf(who, path, head)
            # exec names the process after the file exec'd, a script too
            return Command(path, argv, None if who == name else os.path.basename(script))
        interp, arg = _shebang(name, head)
        if not os.path.exists(interp):
            raise LaunchError(f"{name}: {interp}: bad interpreter: No such file or directory", 126)
        # the kernel's argv: interpreter, its one argument, the script as exec'd
        argv = [interp] + ([arg] if arg is not None else []) + [path] + argv[1:]
        path = interp
        if os.path.basename(interp) == "env" and arg is not None:
            argv = _through_env(name, arg) + argv[2:]
            path = resolve(argv[0])
        who = f"{name}: its interpreter {path}"
    raise LaunchError(f"{name}: more than {MAX_INTERPRETERS} #! interpreters in a row", 126)


def _head(name, path):
    """The first bytes of an executable file (a directory or a file without
    execute permission is refused as execve would)."""
    if os.path.isdir(path):
        raise LaunchError(f"{name}: Is a directory", 126)
    if not os.access(path, os.X_OK):
        raise LaunchError(f"{name}: Permission denied", 126)
    try:
        with open(path, "rb") as f:
            return f.read(SHEBANG_BYTES)
    except OSError as e:
        raise LaunchError(f"{name}: {e.strerror}", 126) from None


def _shebang(name, head):
    """A script's interpreter and its optional argument (None: none), split
    as the kernel splits the line: one word, then the rest, trimmed."""
    line = head[2:].split(b"\n", 1)[0] if b"\n" in head else head[2:]
    line = line.strip(b" \t")
    word = line.split(None, 1)
    if not word:
        raise LaunchError(f"{name}: a #! line without an interpreter", 126)
    if b"\n" not in head and len(word) == 1:
        raise LaunchError(f"{name}: its #! line is longer than the kernel reads "
                          f"({SHEBANG_BYTES} bytes)", 126)
    interp = os.fsdecode(word[0])
    arg = os.fsdecode(word[1].strip(b" \t")) if len(word) > 1 else None
    return interp, arg


def _through_env(name, arg):
    """What ``#!/usr/bin/env ARG`` runs: NAME, or ``-S`` split into words."""
    if arg.startswith("-S"):
        words = shlex.split(arg[2:])
    elif not arg.startswith("-") and "=" not in arg:
        words = [arg]
    else:
        words = []
    if not words or words[0].startswith("-") or "=" in words[0]:
        raise LaunchError(f"{name}: #!.../env {arg}: pshare follows env to a program name "
                          "(#!/usr/bin/env NAME, or -S NAME ARGS) and nothing more", 126)
    return words


def _check_elf(name, path, head):
    """A dynamically linked 64-bit x86_64 ELF program, or one line why not."""
    try:
        with open(path, "rb") as f:
            if len(head) < 20 or head[:4] != b"\x7fELF":
                raise LaunchError(f"{name}: not an ELF program or a #! script; pshare runs "
                                  "compiled x86_64 Linux programs", 126)
            if head[4] != 2:
                raise LaunchError(f"{name}: is a 32-bit program; pshare runs 64-bit "
                                  "x86_64 programs only", 126)
            (machine,) = struct.unpack_from("<H", head, 18)
            if machine != EM_X86_64:
                raise LaunchError(f"{name}: is not an x86_64 program", 126)
            phoff, = struct.unpack_from("<Q", head, 32)
            phentsize, phnum = struct.unpack_from("<HH", head, 54)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except OSError as e:
        raise LaunchError(f"{name}: {e.strerror}", 126) from None
    types = [struct.unpack_from("<I", table, i * phentsize)[0] for i in range(len(table) // phentsize)]
    if PT_INTERP not in types:
        raise LaunchError(f"{name}: is statically linked; the pshare runtime cannot be "
                          "preloaded into it (link it dynamically)", 126)
