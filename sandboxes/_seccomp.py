"""A hand-assembled seccomp BPF deny-list (no libseccomp needed), loaded through ``bwrap --seccomp``.

The filter returns EPERM for debugging, kernel-module, namespace, mount and keyring syscalls
(``ptrace`` first: sandboxed code must not attach to its parent or to a warm worker), for every
syscall of a foreign ABI (x32, i386 via ``int 0x80``), and allows everything else.
"""

from __future__ import annotations

import os
import platform
import struct
import tempfile

_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_EPERM = 0x00050000 | 1
_X32_BIT = 0x40000000

# name: (x86_64 nr, aarch64 nr)
_DENIED = {
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294), "init_module": (175, 105),
    "finit_module": (313, 273), "delete_module": (176, 106), "bpf": (321, 280),
    "perf_event_open": (298, 241), "keyctl": (250, 219), "add_key": (248, 217),
    "request_key": (249, 218), "userfaultfd": (323, 282), "mount": (165, 40),
    "umount2": (166, 39), "pivot_root": (155, 41), "swapon": (167, 224), "swapoff": (168, 225),
    "reboot": (169, 142), "setns": (308, 268), "unshare": (272, 97),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
}
_ARCHES = {"x86_64": (0xC000003E, 0), "amd64": (0xC000003E, 0), "aarch64": (0xC00000B7, 1),
           "arm64": (0xC00000B7, 1)}


def _ins(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def build_filter(machine: str | None = None) -> bytes | None:
    """The BPF program for ``machine`` (default: this one), or None for an unknown architecture."""
    arch = _ARCHES.get((machine or platform.machine()).lower())
    if arch is None:
        return None
    audit_arch, column = arch
    nrs = sorted({v[column] for v in _DENIED.values()})
    prog: list[tuple[int, int, int | str, int | str]] = [(_LD_W_ABS, 4, 0, 0),
                                                         (_JEQ_K, audit_arch, 0, "deny"),
                                                         (_LD_W_ABS, 0, 0, 0)]
    if column == 0:
        prog.append((_JGE_K, _X32_BIT, "deny", 0))
    prog += [(_JEQ_K, nr, "deny", 0) for nr in nrs]
    prog += [(_RET_K, _RET_ALLOW, 0, 0), (_RET_K, _RET_EPERM, 0, 0)]
    deny_at = len(prog) - 1
    out = b""
    for i, (code, k, jt, jf) in enumerate(prog):
        jt_n = deny_at - i - 1 if jt == "deny" else int(jt)
        jf_n = deny_at - i - 1 if jf == "deny" else int(jf)
        out += _ins(code, k, jt_n, jf_n)
    return out


def filter_fd() -> int | None:
    """A readable fd (at offset 0) holding the filter, for ``bwrap --seccomp FD``; caller closes."""
    prog = build_filter()
    if prog is None:
        return None
    with tempfile.TemporaryFile() as f:
        f.write(prog)
        f.flush()
        fd = os.dup(f.fileno())
    os.lseek(fd, 0, os.SEEK_SET)
    return fd
