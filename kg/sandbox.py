"""No network for the processes that evaluate user queries: a seccomp filter through libseccomp.

A query worker never needs a network socket: it reads the store from disk and talks to its parent over the pipe
it inherited. So whatever reaches the engine (a SERVICE clause smuggled past every check on query text, a bug in
the engine) cannot make this machine send a request anywhere: after `deny_network()` the kernel answers
socket() for any family but AF_UNIX with EPERM, and io_uring (which can open sockets by itself) is refused too.
The filter is inherited by every thread and child of the process and cannot be lifted (no_new_privs is set).

libseccomp is loaded with ctypes (Debian: libseccomp2). Where it is missing, or the kernel refuses the filter,
`deny_network()` says why and the pool logs a warning at start: queries still run, with the text checks only.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import socket
from functools import lru_cache
from typing import Any

SCMP_ACT_ALLOW = 0x7FFF0000
SCMP_ACT_ERRNO = 0x00050000
SCMP_CMP_NE = 1


class _ArgCmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


@lru_cache(maxsize=1)
def _libseccomp() -> Any:
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def unavailable() -> str | None:
    """Why the network cannot be denied here (None: it can)."""
    if _libseccomp() is None:
        return "libseccomp is not installed (Debian: apt-get install libseccomp2)"
    return None


def deny_network() -> str | None:
    """Install the filter in this process; None on success, else why not (the process is then unchanged)."""
    reason = unavailable()
    if reason is not None:
        return reason
    lib = _libseccomp()
    ctx = lib.seccomp_init(SCMP_ACT_ALLOW)
    if not ctx:
        return "seccomp_init failed"
    try:
        eperm = SCMP_ACT_ERRNO | errno.EPERM
        not_unix = (_ArgCmp * 1)(_ArgCmp(0, SCMP_CMP_NE, socket.AF_UNIX, 0))
        rules: list[tuple[str, Any, int]] = [("socket", not_unix, 1), ("io_uring_setup", None, 0)]
        for name, args, count in rules:
            number = lib.seccomp_syscall_resolve_name(name.encode())
            if number < 0:
                continue  # not a system call on this architecture
            rc = lib.seccomp_rule_add_array(ctx, eperm, number, count, args)
            if rc != 0:
                return f"seccomp_rule_add({name}) failed: {errno.errorcode.get(-rc, rc)}"
        rc = lib.seccomp_load(ctx)
        if rc != 0:
            return f"the kernel refused the seccomp filter: {errno.errorcode.get(-rc, rc)}"
    finally:
        lib.seccomp_release(ctx)
    return None
