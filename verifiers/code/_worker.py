"""The untrusted half of a function-style check: it loads the candidate program and serves calls.

Runs as a fresh interpreter (``python -I -S -c <this file>``) started by ``_harness.py``. It owns
no secret and decides nothing: everything here may be tampered with by the candidate, so the
parent treats every message as untrusted data. Protocol: 4-byte big-endian length + JSON, on
the fds that were stdin (requests) and stdout (responses); the candidate's own stdout/stderr
go to a log file. Values travel in a tagged JSON form (see ``encode``).
"""

import builtins
import json
import os
import struct
import sys

OUTPUT_LOG = ".nemogym_program_output"


class Unencodable(Exception):
    pass


def encode(x, depth=0):
    """Plain data -> tagged JSON (lists as arrays; tuple/dict/set/frozenset/bytes/complex tagged)."""
    if depth > 100:
        raise Unencodable("nesting deeper than 100")
    if x is None or x is True or x is False:
        return x
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    if isinstance(x, str):
        return str(x)
    if isinstance(x, list):
        return [encode(v, depth + 1) for v in x]
    if isinstance(x, tuple):
        return {"t": [encode(v, depth + 1) for v in x]}
    if isinstance(x, dict):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in x.items()]}
    if isinstance(x, frozenset):
        return {"f": [encode(v, depth + 1) for v in x]}
    if isinstance(x, set):
        return {"s": [encode(v, depth + 1) for v in x]}
    if isinstance(x, bytes | bytearray):
        return {"b": bytes(x).hex()}
    if isinstance(x, complex):
        return {"c": [x.real, x.imag]}
    raise Unencodable(type(x).__name__)


def decode(x):
    if isinstance(x, list):
        return [decode(v) for v in x]
    if isinstance(x, dict):
        ((tag, v),) = x.items()
        if tag == "t":
            return tuple(decode(i) for i in v)
        if tag == "d":
            return {decode(k): decode(val) for k, val in v}
        if tag == "s":
            return {decode(i) for i in v}
        if tag == "f":
            return frozenset(decode(i) for i in v)
        if tag == "b":
            return bytes.fromhex(v)
        if tag == "c":
            return complex(v[0], v[1])
        raise ValueError(f"unknown tag {tag!r}")
    return x


def main():
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(100_000)  # as the harness: big-int results must cross
    rfd, wfd = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = os.open(OUTPUT_LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    rf = os.fdopen(rfd, "rb", buffering=0)

    def read_exact(n):
        buf = b""
        while len(buf) < n:
            chunk = rf.read(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def recv():
        (n,) = struct.unpack("!I", read_exact(4))
        return json.loads(read_exact(n))

    def send(obj):
        data = json.dumps(obj).encode()
        data = struct.pack("!I", len(data)) + data
        while data:
            data = data[os.write(wfd, data):]

    def error(kind, exc):
        import traceback  # only on failures: it costs ~10 ms at start-up

        return {"error": kind, "type": type(exc).__name__, "msg": str(exc)[:2000],
                "tb": traceback.format_exc()[-4000:]}

    try:
        job = recv()
    except EOFError:
        return
    namespace = {"__name__": "solution", "__builtins__": builtins}
    try:
        exec(compile(job["code"], "solution.py", "exec"), namespace)
        fn = namespace[job["entry_point"]]
        if not callable(fn):
            raise TypeError(f"{job['entry_point']} is not callable")
    except KeyError:
        send({"error": "load", "type": "NameError", "msg": f"the program defines no {job['entry_point']!r}",
              "tb": ""})
        return
    except BaseException as e:  # noqa: BLE001 - any failure to load is the program's
        send(error("load", e))
        return
    send({"ok": True})
    while True:
        try:
            req = recv()
        except EOFError:
            return
        try:
            result = fn(*decode(req["args"]), **decode(req["kwargs"]))
        except BaseException as e:  # noqa: BLE001 - reported to the parent, which decides
            send(error("raise", e))
            continue
        try:
            sys.stdout.flush()
            send({"ok": True, "value": encode(result)})
        except (Unencodable, ValueError, TypeError) as e:
            send({"error": "unencodable", "type": type(result).__name__, "msg": str(e)[:500], "tb": ""})


main()
