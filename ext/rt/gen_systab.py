#!/usr/bin/env python3
"""Generate pshare's syscall table from syscalls.tbl.

syscalls.tbl is the single source of truth for how the runtime treats each
x86_64 Linux system call.  It is plain text, one syscall per line:

    # nr  name            class   args
    0     read            HOME    - out:a2 -
    2     open            HOME    str - -

Fields are separated by whitespace and '#' starts a comment that runs to
the end of the line; blank lines are ignored.

  nr     the syscall number (decimal).  Numbers without a line are invalid.
  name   the kernel's name for it (a C identifier).
  class  LOCAL, HOME, GLOBAL or THREAD (see syscalls.tbl for what each means).
  args   one token per argument the call takes (at most 6), in order:
           -                      scalar, or a pointer not to be touched
           fd                     a file descriptor (scalar): the runtime's own
                                  descriptors are refused (EBADF)
           str                    input NUL-terminated string
           in:aN out:aN inout:aN  buffer, byte length in argument N
           in:S  out:S  inout:S   fixed-size object of S bytes
           out:rv                 output buffer, length is the return value
           iniov:aN outiov:aN     struct iovec array, count in argument N
           inarr:aN:S outarr:aN:S inoutarr:aN:S
                                  array of (argument N) elements of S bytes
           strv                   input NULL-terminated array of strings (execve's
                                  argv, envp)
           ptr                    pointer too complex to describe here
         N is a 0-based argument index and must name a scalar ('-')
         argument of the same call; S is a decimal size, 1..65535.

The table is validated (every line parses, numbers and names are unique,
classes and tokens are valid, argument indices are < 6 and name scalar
arguments) and then written out as

  --c FILE   a freestanding C header (only <stdint.h>): the class and
             argument-descriptor enums, PSHARE_NR_<name> for every call,
             PSHARE_NR_MAX, and pshare_systab[], indexed by number;
  --py FILE  a Python module with NAMES, CLASSES, ARGS, NUMBERS and NR_MAX.

Each argument descriptor is a uint32_t: kind in bits 0-3 (ARG_NONE,
ARG_STR, ...), direction in bits 4-5 (ARG_IN 0x10, ARG_OUT 0x20,
ARG_INOUT 0x30), the index of the length/count argument in bits 8-15 and
the fixed size or element size in bits 16-31.

Usage: python3 gen_systab.py syscalls.tbl [--c OUT.h] [--py OUT.py]

On any problem it prints "syscalls.tbl:LINE: problem" for each one found
and exits with status 1, writing nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from dataclasses import dataclass

MAX_ARGS = 6
MAX_NR = 1024          # sanity bound on syscall numbers
MAX_SIZE = 0xFFFF      # sizes must fit bits 16-31 of a descriptor

# Order matters: the C enum is SYS_INVALID = 0 followed by these.
CLASSES = ("LOCAL", "HOME", "GLOBAL", "THREAD")

# Argument kinds, in C enum order (ARG_NONE = 0).
KINDS = ("NONE", "STR", "BUF_ARG", "BUF_FIXED", "BUF_RV", "IOV", "ARR", "PTR", "FD", "STRV")
KIND = {name: value for value, name in enumerate(KINDS)}

DIR_NONE, DIR_IN, DIR_OUT, DIR_INOUT = 0, 1, 2, 3
DIRS = {"in": DIR_IN, "out": DIR_OUT, "inout": DIR_INOUT}
DIR_C = {DIR_NONE: "0", DIR_IN: "ARG_IN", DIR_OUT: "ARG_OUT",
         DIR_INOUT: "ARG_INOUT"}

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# in:a2  out:144  inout:rv
BUF_RE = re.compile(r"(in|out|inout):(?:a(\d+)|(\d+)|(rv))\Z")
# iniov:a2  outiov:a2
IOV_RE = re.compile(r"(in|out)iov:a(\d+)\Z")
# inarr:a1:8  outarr:a2:12  inoutarr:a1:8
ARR_RE = re.compile(r"(in|out|inout)arr:a(\d+):(\d+)\Z")


class TableError(Exception):
    """A problem with one line of the table."""

    def __init__(self, line: int, problem: str):
        super().__init__(problem)
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Arg:
    """One argument descriptor, as parsed from its token."""

    token: str
    kind: int
    direction: int = DIR_NONE
    index: int = 0      # argument holding the byte length / element count
    size: int = 0       # fixed size, or element size for arrays

    @property
    def uses_index(self) -> bool:
        return self.kind in (KIND["BUF_ARG"], KIND["IOV"], KIND["ARR"])

    def encode(self) -> int:
        return (self.kind | self.direction << 4 | self.index << 8
                | self.size << 16)

    def c_expr(self) -> str:
        if self.kind == KIND["NONE"]:
            return "ARG_NONE"
        return (f"PSHARE_ARG(ARG_{KINDS[self.kind]}, {DIR_C[self.direction]}, "
                f"{self.index}, {self.size})")


@dataclass(frozen=True)
class Entry:
    nr: int
    name: str
    cls: str
    args: tuple[Arg, ...]
    line: int


def parse_size(text: str, line: int, token: str) -> int:
    size = int(text)
    if not 1 <= size <= MAX_SIZE:
        raise TableError(line, f"size {size} in '{token}' is not in 1..{MAX_SIZE}")
    return size


def parse_index(text: str, line: int, token: str) -> int:
    index = int(text)
    if index >= MAX_ARGS:
        raise TableError(line, f"argument index a{index} in '{token}' "
                               f"is not < {MAX_ARGS}")
    return index


def parse_arg(token: str, line: int) -> Arg:
    """Turn one args token into an Arg, or raise TableError."""
    if token == "-":
        return Arg(token, KIND["NONE"])
    if token == "str":
        return Arg(token, KIND["STR"], DIR_IN)
    if token == "strv":
        return Arg(token, KIND["STRV"], DIR_IN)
    if token == "ptr":
        return Arg(token, KIND["PTR"])
    if token == "fd":
        return Arg(token, KIND["FD"])

    m = BUF_RE.match(token)
    if m:
        direction = DIRS[m.group(1)]
        if m.group(2) is not None:
            return Arg(token, KIND["BUF_ARG"], direction,
                       index=parse_index(m.group(2), line, token))
        if m.group(3) is not None:
            return Arg(token, KIND["BUF_FIXED"], direction,
                       size=parse_size(m.group(3), line, token))
        if direction != DIR_OUT:
            raise TableError(line, f"'{token}': a return-value length only "
                                   "makes sense for an output buffer (out:rv)")
        return Arg(token, KIND["BUF_RV"], direction)

    m = IOV_RE.match(token)
    if m:
        return Arg(token, KIND["IOV"], DIRS[m.group(1)],
                   index=parse_index(m.group(2), line, token))

    m = ARR_RE.match(token)
    if m:
        return Arg(token, KIND["ARR"], DIRS[m.group(1)],
                   index=parse_index(m.group(2), line, token),
                   size=parse_size(m.group(3), line, token))

    raise TableError(line, f"unknown argument token '{token}'")


def parse_line(text: str, line: int) -> Entry | None:
    """Parse one line; None for blank and comment-only lines."""
    fields = text.split("#", 1)[0].split()
    if not fields:
        return None
    if len(fields) < 3:
        raise TableError(line, "expected 'nr name class [args...]'")
    nr_text, name, cls, *tokens = fields

    if not nr_text.isdigit():
        raise TableError(line, f"syscall number '{nr_text}' is not a decimal number")
    nr = int(nr_text)
    if nr >= MAX_NR:
        raise TableError(line, f"syscall number {nr} is not < {MAX_NR}")
    if not NAME_RE.match(name):
        raise TableError(line, f"name '{name}' is not a C identifier")
    if cls not in CLASSES:
        raise TableError(line, f"class '{cls}' is not one of {', '.join(CLASSES)}")
    if len(tokens) > MAX_ARGS:
        raise TableError(line, f"{name} has {len(tokens)} arguments, "
                               f"at most {MAX_ARGS} allowed")

    args = tuple(parse_arg(token, line) for token in tokens)
    for position, arg in enumerate(args):
        if not arg.uses_index:
            continue
        if arg.index >= len(args):
            raise TableError(line, f"'{arg.token}' (argument {position}) refers "
                                   f"to a{arg.index}, but {name} has only "
                                   f"{len(args)} arguments")
        if args[arg.index].kind != KIND["NONE"]:
            raise TableError(line, f"'{arg.token}' (argument {position}) refers "
                                   f"to a{arg.index}, which is not a scalar "
                                   f"('{args[arg.index].token}')")
    return Entry(nr, name, cls, args, line)


def parse_table(text: str) -> tuple[list[Entry], list[TableError]]:
    """Parse and cross-check the whole table; return entries sorted by nr."""
    entries: list[Entry] = []
    errors: list[TableError] = []
    by_nr: dict[int, Entry] = {}
    by_name: dict[str, Entry] = {}
    for line, raw in enumerate(text.splitlines(), start=1):
        try:
            entry = parse_line(raw, line)
        except TableError as err:
            errors.append(err)
            continue
        if entry is None:
            continue
        if entry.nr in by_nr:
            first = by_nr[entry.nr]
            errors.append(TableError(line, f"number {entry.nr} already used by "
                                           f"{first.name} on line {first.line}"))
            continue
        if entry.name in by_name:
            first = by_name[entry.name]
            errors.append(TableError(line, f"name {entry.name} already used by "
                                           f"number {first.nr} on line {first.line}"))
            continue
        by_nr[entry.nr] = by_name[entry.name] = entry
        entries.append(entry)
    if not entries and not errors:
        errors.append(TableError(1, "the table has no entries"))
    entries.sort(key=lambda e: e.nr)
    return entries, errors


def render_c(entries: list[Entry], source: str) -> str:
    nr_max = entries[-1].nr + 1
    name_width = max(len(e.name) for e in entries)
    out = [
        f"/* generated by gen_systab.py from {source}: do not edit */",
        "#ifndef PSHARE_SYSTAB_H",
        "#define PSHARE_SYSTAB_H",
        "",
        "#include <stdint.h>",
        "",
        "/* where a syscall runs; SYS_INVALID (0) for numbers the kernel does not",
        "   define, which the runtime answers with ENOSYS */",
        "enum pshare_sysclass { SYS_INVALID = 0, "
        + ", ".join(f"SYS_{c}" for c in CLASSES) + " };",
        "",
        "/* argument descriptor: kind in bits 0-3, direction in bits 4-5 (1 in, 2 out,",
        "   3 inout), size source: bits 8-15 = arg index for length or element count,",
        "   bits 16-31 = fixed size or element size */",
        "enum { " + ", ".join(f"ARG_{k}" + (" = 0" if k == "NONE" else "") for k in KINDS)
        + " };",
        "#define ARG_IN    0x10u",
        "#define ARG_OUT   0x20u",
        "#define ARG_INOUT 0x30u",
        "#define PSHARE_ARG(kind, dir, index, size) \\",
        "\t((uint32_t)(kind) | (uint32_t)(dir) | ((uint32_t)(index) << 8) | ((uint32_t)(size) << 16))",
        "",
        "/* ARG_NONE, ARG_STR, ... */",
        "static inline uint32_t pshare_arg_kind(uint32_t d) { return d & 0x0fu; }",
        "/* 0, ARG_IN, ARG_OUT or ARG_INOUT (test reading with & ARG_IN, writing with & ARG_OUT) */",
        "static inline uint32_t pshare_arg_dir(uint32_t d) { return d & ARG_INOUT; }",
        "/* argument holding the byte length (ARG_BUF_ARG) or element count (ARG_IOV, ARG_ARR) */",
        "static inline uint32_t pshare_arg_index(uint32_t d) { return (d >> 8) & 0xffu; }",
        "/* byte size (ARG_BUF_FIXED) or element size (ARG_ARR) */",
        "static inline uint32_t pshare_arg_size(uint32_t d) { return d >> 16; }",
        "",
        "struct pshare_sysent {",
        "\tconst char *name;   /* NULL for invalid numbers */",
        "\tuint8_t cls;        /* enum pshare_sysclass */",
        "\tuint8_t nargs;",
        "\tuint32_t arg[6];    /* descriptors; ARG_NONE past nargs */",
        "};",
        "",
    ]
    for e in entries:
        out.append(f"#define PSHARE_NR_{e.name:<{name_width}} {e.nr}")
    out += [
        "",
        f"#define PSHARE_NR_MAX {nr_max}   /* one past the highest number */",
        "",
        "static const struct pshare_sysent pshare_systab[PSHARE_NR_MAX] = {",
    ]
    for e in entries:
        args = ", ".join(a.c_expr() for a in e.args) if e.args else "0"
        tokens = " ".join(a.token for a in e.args)
        comment = f"  /* {tokens} */" if tokens else ""
        out.append(f'\t[{e.nr}] = {{ "{e.name}", SYS_{e.cls}, {len(e.args)}, '
                   f'{{ {args} }} }},{comment}')
    out += [
        "};",
        "",
        "#endif /* PSHARE_SYSTAB_H */",
        "",
    ]
    return "\n".join(out)


def render_py(entries: list[Entry], source: str) -> str:
    nr_max = entries[-1].nr + 1
    out = [f'"""generated by gen_systab.py from {source}: do not edit"""', ""]

    def literal(value: object) -> str:
        # Like repr(), but with double-quoted strings (names and tokens
        # never contain quotes or backslashes).
        if isinstance(value, str):
            return f'"{value}"'
        if isinstance(value, tuple):
            items = ", ".join(literal(v) for v in value)
            return f"({items},)" if len(value) == 1 else f"({items})"
        return repr(value)

    def mapping(title: str, items: list[tuple[object, object]]) -> None:
        out.append(f"{title} = {{")
        out.extend(f"    {literal(key)}: {literal(value)}," for key, value in items)
        out.append("}")
        out.append("")

    mapping("NAMES", [(e.nr, e.name) for e in entries])
    mapping("CLASSES", [(e.nr, e.cls) for e in entries])
    mapping("ARGS", [(e.nr, tuple(a.token for a in e.args)) for e in entries])
    mapping("NUMBERS", [(e.name, e.nr) for e in entries])
    out.append(f"NR_MAX = {nr_max}  # one past the highest number")
    out.append("")
    return "\n".join(out)


def write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Validate syscalls.tbl and generate a C header and/or a Python module.")
    parser.add_argument("table", help="the syscall table (syscalls.tbl)")
    parser.add_argument("--c", metavar="OUT.h", help="write the C header here")
    parser.add_argument("--py", metavar="OUT.py", help="write the Python module here")
    opts = parser.parse_args(argv)

    try:
        with open(opts.table, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        print(f"{opts.table}: {err}", file=sys.stderr)
        return 1

    entries, errors = parse_table(text)
    if errors:
        for err in errors:
            print(f"{opts.table}:{err.line}: {err.problem}", file=sys.stderr)
        return 1

    source = os.path.basename(opts.table)
    if opts.c:
        write(opts.c, render_c(entries, source))
    if opts.py:
        write(opts.py, render_py(entries, source))
    return 0


if __name__ == "__main__":
    sys.exit(main())
