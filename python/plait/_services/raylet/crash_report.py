"""A crashed worker's report: what its fatal-signal handler wrote (the signal and the
native stack, cpp/plait/native/crash_handler.cc) into the crash file the worker pool gave
it, read back when the worker is reaped and attached to its death cause.

The handler writes frames as glibc's backtrace_symbols_fd does, and a function with
hidden visibility (most of a plait C++ library's) shows only as `lib.so(+0x1a2b)`:
`symbolize` names those frames with addr2line, which reads the library's own symbol
table (present unless the library was stripped).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import struct
import subprocess
from collections.abc import Callable, Sequence

logger = logging.getLogger(__name__)

# Enough for the header and 64 frames of long paths; a report is cut to its end.
MAX_REPORT_BYTES = 32 * 1024
ADDR2LINE_TIMEOUT_S = 10.0
MAX_NAME_CHARS = 200

# obj(sym+0xoff)[0xaddr], obj(+0xoff)[0xaddr], obj()[0xaddr] (glibc writes no space
# before the "[", other libcs may).
_FRAME = re.compile(
    r"^(?P<obj>[^\s\[][^(]*)\((?P<sym>[^()+]*)(?:\+(?P<off>0x[0-9a-fA-F]+))?\) ?"
    r"\[(?P<addr>0x[0-9a-fA-F]+)\]$"
)

# (object file, offsets) -> one "function at file:line" (or "") per offset.
Symbolizer = Callable[[str, Sequence[str]], list[str]]


def read_report(path: str) -> str:
    """The report in `path` (its last MAX_REPORT_BYTES), deleting the file; "" when the
    worker wrote none."""
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - MAX_REPORT_BYTES))
            data = f.read()
    except FileNotFoundError:
        return ""
    except OSError as e:
        logger.warning("could not read the crash report %s: %s", path, e)
        return ""
    try:
        os.unlink(path)
    except OSError:
        pass
    return data.decode("utf-8", "replace").strip()


def unnamed_frames(report: str) -> dict[str, list[str]]:
    """Offsets of the frames without a symbol, per shared object."""
    out: dict[str, list[str]] = {}
    for line in report.splitlines():
        m = _FRAME.match(line.strip())
        if m and not m["sym"] and m["off"] and ".so" in os.path.basename(m["obj"]):
            offsets = out.setdefault(m["obj"], [])
            if m["off"] not in offsets:
                offsets.append(m["off"])
    return out


def has_symbol_table(path: str) -> bool:
    """Whether the ELF file has a full symbol table (.symtab). Without one (a stripped
    library) addr2line names an address after the nearest exported symbol before it,
    which is usually some other function: such names are not given at all."""
    try:
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 64 or ident[:4] != b"\x7fELF" or ident[4] != 2:  # ELF64 only
                return False
            order = "<" if ident[5] == 1 else ">"
            (shoff,) = struct.unpack_from(order + "Q", ident, 40)  # e_shoff
            shentsize, shnum = struct.unpack_from(order + "HH", ident, 58)
            f.seek(shoff)
            table = f.read(shentsize * shnum)
    except (OSError, struct.error):
        return False
    for i in range(shnum):
        (sh_type,) = struct.unpack_from(order + "I", table, i * shentsize + 4)
        if sh_type == 2:  # SHT_SYMTAB
            return True
    return False


def addr2line(obj: str, offsets: Sequence[str]) -> list[str]:
    """Names for `offsets` in `obj`, by addr2line (binutils); "" where it knows none, for
    a stripped library, or when addr2line is not installed."""
    tool = shutil.which("addr2line")
    if tool is None or not os.path.isfile(obj) or not has_symbol_table(obj):
        return [""] * len(offsets)
    try:
        done = subprocess.run(
            [tool, "-C", "-f", "-e", obj, *offsets],
            capture_output=True,
            text=True,
            timeout=ADDR2LINE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        logger.warning("addr2line on %s failed: %s", obj, e)
        return [""] * len(offsets)
    lines = done.stdout.splitlines()
    names: list[str] = []
    for i in range(len(offsets)):
        func = lines[2 * i] if 2 * i < len(lines) else "??"
        where = lines[2 * i + 1] if 2 * i + 1 < len(lines) else "??:0"
        if len(func) > MAX_NAME_CHARS:  # template instantiations run to pages
            func = func[: MAX_NAME_CHARS - 3] + "..."
        where = where.removesuffix(":?")
        if func == "??":
            names.append("")
        elif where.startswith(("??", ":")) or not where:
            names.append(func)
        else:
            names.append(f"{func} at {where}")
    return names


def symbolize(report: str, symbolizer: Symbolizer = addr2line) -> str:
    """The report with a name after each frame that had none (`-> name`)."""
    wanted = unnamed_frames(report)
    if not wanted:
        return report
    names: dict[tuple[str, str], str] = {}
    for obj, offsets in wanted.items():
        for off, found in zip(offsets, symbolizer(obj, offsets), strict=False):
            if found:
                names[(obj, off)] = found
    out: list[str] = []
    for line in report.splitlines():
        m = _FRAME.match(line.strip())
        name = names.get((m["obj"], m["off"] or "")) if m and not m["sym"] else None
        out.append(f"{line} -> {name}" if name else line)
    return "\n".join(out)
