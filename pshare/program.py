"""Find and check the program to run, as a shell would, before any MPI start-up.

Statuses follow the shell: 127 when the program cannot be found, 126 when it
is found but cannot be run (here that includes programs the runtime cannot be
preloaded into: static, 32-bit, not x86_64).
"""
import os
import struct

from .errors import LaunchError

PT_INTERP = 3
EM_X86_64 = 62


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


def check(name):
    """Resolve ``name`` and check pshare can run it; returns the path."""
    path = resolve(name)
    if os.path.isdir(path):
        raise LaunchError(f"{name}: Is a directory", 126)
    if not os.access(path, os.X_OK):
        raise LaunchError(f"{name}: Permission denied", 126)
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 20 or head[:4] != b"\x7fELF":
                raise LaunchError(f"{name}: not an ELF executable; pshare runs compiled "
                                  "x86_64 Linux programs", 126)
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
    return path
