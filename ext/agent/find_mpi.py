"""Where mpi.h and libmpi are, for building pshare._engine (meson runs this).

The engine calls MPI from C, so it is built against the MPI that mpi4py
uses at run time: the MPICH wheel when it is installed (pip's build
environment has it: pyproject.toml's build requirements), else the site MPI
whose `mpicc` (or $MPICC) is on PATH.  Prints three lines: the include
directory, the library directory, and the directory holding the mpi4py
package (for Cython's `cimport mpi4py.libmpi`).
"""
import os
import shlex
import shutil
import subprocess
import sys


def from_wheel():
    try:
        from importlib import metadata
        dist = metadata.distribution("mpich")
    except Exception:
        return None
    inc = lib = None
    for f in dist.files or ():
        path = os.path.normpath(str(dist.locate_file(f)))
        if path.endswith(os.sep + "mpi.h"):
            inc = os.path.dirname(path)
        elif os.path.basename(path).startswith("libmpi.so"):
            lib = os.path.dirname(path)
    return (inc, lib) if inc and lib else None


def from_mpicc():
    mpicc = os.environ.get("MPICC") or shutil.which("mpicc")
    if not mpicc:
        return None
    for show in ("-show", "--showme", "-compile_info"):
        try:
            out = subprocess.run([mpicc, show], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        words = shlex.split(out)
        incs = [w[2:] for w in words if w.startswith("-I")]
        libs = [w[2:] for w in words if w.startswith("-L")]
        if incs:
            return incs[0], (libs[0] if libs else "")
    return None


def main():
    found = from_wheel() or from_mpicc()
    if not found:
        sys.exit("pshare: no MPI to build against: install the mpich wheel, or put the "
                 "site MPI's mpicc on PATH (see README, 'Using a site MPI')")
    try:
        import mpi4py
    except ImportError:
        sys.exit("pshare: mpi4py is needed to build pshare (pip install mpi4py)")
    print(found[0])
    print(found[1])
    print(os.path.dirname(os.path.dirname(mpi4py.__file__)))


if __name__ == "__main__":
    main()
