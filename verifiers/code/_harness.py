"""The trusted half of a function-style check, run inside the sandbox (``run_python``).

It reads a JSON job from stdin (nonce, program, test code, entry point, worker source, time
budget), makes itself non-dumpable and deaf to catchable signals, then starts the candidate in
a *fresh* interpreter (``_worker.py``) that shares none of this process's memory. The test's
``check(candidate)`` runs here, in pristine builtins, with ``candidate`` a proxy that sends the
arguments to the worker and decodes the reply into exact built-in types: the candidate can
return data, never objects, so its ``__eq__``, builtins or ``assert`` tricks cannot reach the
comparison. The one verdict line ``<nonce> <json>`` goes to stdout; the candidate never sees
the nonce (not in argv, env or files; stdin is drained before the worker starts), so an early
exit, a fake "passed" print or a killed harness yields no valid verdict and the host scores 0.
"""

import builtins
import json
import os
import select
import signal
import stat
import struct
import sys
import time
import traceback

OUTPUT_LOG = ".nemogym_program_output"
MAX_MESSAGE = 16 << 20
#: Digits an int may have crossing between test and candidate (Python's default is 4300; the
#: conversion is quadratic, so keep a bound: 100 000 digits take ~0.3 s).
MAX_INT_DIGITS = 100_000


class CandidateTimeout(BaseException):
    """The candidate did not answer before the deadline (BaseException: tests cannot catch it)."""


class CandidateDied(BaseException):
    """The candidate process exited or broke the protocol."""


class TestArgumentError(BaseException):
    """The test passed an argument that cannot cross to the candidate (a broken task)."""


class CandidateError(Exception):
    """The candidate raised an exception that is not a built-in Exception type."""


def _no_dump():
    """Forbid ptrace and /proc/<pid>/{mem,fd,environ} of this process to same-uid processes."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) == 0  # PR_SET_DUMPABLE
    except Exception:  # noqa: BLE001
        return False


def _ignore_signals():
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGPIPE",
                 "SIGQUIT", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGVTALRM", "SIGPROF"):
        try:
            signal.signal(getattr(signal, name), signal.SIG_IGN)
        except (AttributeError, OSError, ValueError):
            pass


def encode(x, depth=0):
    """Test arguments -> the worker's tagged JSON; only exact built-in types cross."""
    if depth > 250:  # deeper than anything decode() accepts, so a returned value always fits
        raise TestArgumentError("argument nesting deeper than 250")
    t = type(x)
    if x is None or t is bool or t is int or t is float or t is str:
        return x
    if t is list:
        return [encode(v, depth + 1) for v in x]
    if t is tuple:
        return {"t": [encode(v, depth + 1) for v in x]}
    if t is dict:
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in x.items()]}
    if t is set:
        return {"s": [encode(v, depth + 1) for v in x]}
    if t is frozenset:
        return {"f": [encode(v, depth + 1) for v in x]}
    if t is bytes:
        return {"b": x.hex()}
    if t is complex:
        return {"c": [x.real, x.imag]}
    raise TestArgumentError(f"a test argument of type {t.__name__} cannot be sent to the candidate")


def decode(x, depth=0):
    """The worker's untrusted JSON -> exact built-in values, or ValueError."""
    if depth > 200:
        raise ValueError("result nesting deeper than 200")
    t = type(x)
    if x is None or t is bool or t is int or t is float or t is str:
        return x
    if t is list:
        return [decode(v, depth + 1) for v in x]
    if t is dict and len(x) == 1:
        ((tag, v),) = x.items()
        if tag == "b" and type(v) is str:
            return bytes.fromhex(v)
        if type(v) is not list:
            raise ValueError("malformed tagged value")
        if tag == "t":
            return tuple(decode(i, depth + 1) for i in v)
        if tag == "d":
            out = {}
            for pair in v:
                if type(pair) is not list or len(pair) != 2:
                    raise ValueError("malformed dict item")
                out[decode(pair[0], depth + 1)] = decode(pair[1], depth + 1)
            return out
        if tag == "s":
            return {decode(i, depth + 1) for i in v}
        if tag == "f":
            return frozenset(decode(i, depth + 1) for i in v)
        if tag == "c" and len(v) == 2 and all(type(i) in (int, float) for i in v):
            return complex(v[0], v[1])
    raise ValueError("malformed value from the candidate")


def short(x, n=300):
    try:
        s = repr(x)
    except BaseException:  # noqa: BLE001 - values are plain data; be safe anyway
        s = "<unrepresentable>"
    return s if len(s) <= n else s[: n - 3] + "..."


class Worker:
    """The candidate's process, spoken to over two pipes with a shared deadline."""

    def __init__(self, source, deadline, python_flags):
        self.deadline = deadline
        req_r, self.req_w = os.pipe()
        self.resp_r, resp_w = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
               "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"}
        self.pid = os.posix_spawn(
            sys.executable, [sys.executable, *python_flags, "-c", source], env,
            file_actions=[(os.POSIX_SPAWN_DUP2, req_r, 0), (os.POSIX_SPAWN_DUP2, resp_w, 1)],
            setsigdef=tuple(signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}),
            setsid=True,
        )
        os.close(req_r)
        os.close(resp_w)
        os.set_blocking(self.req_w, False)
        self.calls = 0
        self.last_call = None
        self.reaped = False
        self.broken = None

    def _left(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise CandidateTimeout()
        return left

    def call(self, *args, **kwargs):
        """What ``check`` sees as ``candidate``; a failure sticks even if the test swallows it."""
        try:
            return self._call(*args, **kwargs)
        except (CandidateTimeout, CandidateDied, TestArgumentError) as e:
            self.broken = self.broken or e
            raise

    def send(self, obj):
        data = json.dumps(obj).encode()
        data = struct.pack("!I", len(data)) + data
        while data:
            _, w, _ = select.select([], [self.req_w], [], self._left())
            if not w:
                raise CandidateTimeout()
            try:
                data = data[os.write(self.req_w, data):]
            except BrokenPipeError:
                raise CandidateDied("exited") from None

    def _read(self, n):
        buf = b""
        while len(buf) < n:
            r, _, _ = select.select([self.resp_r], [], [], self._left())
            if not r:
                raise CandidateTimeout()
            chunk = os.read(self.resp_r, min(n - len(buf), 1 << 20))
            if not chunk:
                raise CandidateDied("exited")
            buf += chunk
        return buf

    def recv(self):
        (n,) = struct.unpack("!I", self._read(4))
        if n > MAX_MESSAGE:
            raise CandidateDied("sent a malformed or oversized message")
        try:
            msg = json.loads(self._read(n))
        except ValueError:
            raise CandidateDied("sent a malformed message") from None
        if type(msg) is not dict:
            raise CandidateDied("sent a malformed message")
        return msg

    def _call(self, *args, **kwargs):
        if self.broken is not None:
            raise self.broken
        self.calls += 1
        payload = {"args": encode(list(args)), "kwargs": encode(dict(kwargs))}
        self.last_call = {"args": short(args), "kwargs": short(kwargs) if kwargs else None}
        self.send(payload)
        msg = self.recv()
        if msg.get("ok") is True:
            value = decode(msg.get("value"))
            self.last_call["returned"] = short(value)
            return value
        kind = msg.get("error")
        name, text = str(msg.get("type", "")), str(msg.get("msg", ""))[:2000]
        self.last_call["raised"] = f"{name}: {text}"[:500]
        if kind == "unencodable":
            del self.last_call["raised"]
            self.last_call["returned"] = f"<a {name} object>"[:200]
            raise TypeError(f"the candidate returned an object of type {name}, not plain data")
        cls = getattr(builtins, name, None)
        if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins":
            try:
                exc = cls(text)
            except Exception:  # noqa: BLE001
                exc = CandidateError(f"{name}: {text}")
        else:
            exc = CandidateError(f"{name}: {text}")
        raise exc

    def exit_status(self, wait_s=0.5):
        """The worker's exit code (negative: killed by that signal), or None if it still runs."""
        end = time.monotonic() + wait_s
        while True:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                return None
            if pid:
                self.reaped = True
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() >= end:
                return None
            time.sleep(0.01)

    def kill(self):
        for target in (-self.pid, self.pid):
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        if not self.reaped:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass


def program_output(limit):
    """The tail of what the program printed (the program may have swapped the file for anything)."""
    try:
        fd = os.open(OUTPUT_LOG, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return ""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return ""
        return os.pread(fd, limit, max(0, st.st_size - limit)).decode("utf-8", "replace")
    except OSError:
        return ""
    finally:
        os.close(fd)


def _test_line(tb):
    """The line of the test code where a check failed (from a traceback object)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<test>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def run(job, started):
    deadline = started + float(job["timeout_s"])
    namespace = {"__name__": "__check__", "__builtins__": builtins}
    try:
        if job.get("setup"):  # a HumanEval-style prompt: its helpers are visible to the test
            exec(compile(job["setup"], "<prompt>", "exec"), namespace)
        exec(compile(job["test"], "<test>", "exec"), namespace)
        check = namespace["check"]
    except BaseException as e:  # noqa: BLE001 - the task's test code is broken, not the program
        return {"status": "test_error", "message": f"test code failed to load: {type(e).__name__}: {e}"}
    try:
        worker = Worker(job["worker"], deadline, job.get("python_flags", ["-I", "-S"]))
    except BaseException as e:  # noqa: BLE001
        return {"status": "harness_error", "message": f"could not start the program: {type(e).__name__}: {e}"}
    result = {"status": "failed"}
    try:
        worker.send({"code": job["program"], "entry_point": job["entry_point"]})
        msg = worker.recv()
        if msg.get("ok") is not True:
            result.update(phase="load", message=f"the program failed to load: {str(msg.get('type'))}: "
                          f"{str(msg.get('msg'))[:1000]}", traceback=str(msg.get("tb", ""))[-2000:])
            return result
        try:
            check(worker.call)
            if worker.broken is not None:  # the test caught our failure; it still counts
                raise worker.broken
        except TestArgumentError as e:
            return {"status": "test_error", "message": str(e)}
        except CandidateTimeout:
            result.update(phase="check", timed_out=True,
                          message=f"time limit exceeded ({job['timeout_s']}s for all tests)")
        except CandidateDied as e:
            result.update(phase="check", message=f"the program {e} during a call "
                          f"(exit status {worker.exit_status()})")
        except AssertionError as e:
            line = _test_line(e.__traceback__)
            result.update(phase="check", message="a test assertion failed"
                          + (f" (test line {line})" if line else "") + (f": {e}" if str(e) else ""))
        except BaseException as e:  # noqa: BLE001 - anything else the check raised
            result.update(phase="check", message=f"{type(e).__name__} during the tests: {short(e, 1000)}")
        else:
            result = {"status": "passed"}
    except CandidateTimeout:
        result.update(phase="load", timed_out=True, message=f"time limit exceeded ({job['timeout_s']}s) while loading")
    except CandidateDied as e:
        result.update(phase="load", message=f"the program {e} while loading (exit status {worker.exit_status()})")
    except BaseException as e:  # noqa: BLE001 - garbage from the worker is the program's doing
        result.update(phase="load", message=f"the program broke the protocol: {type(e).__name__}")
    finally:
        worker.kill()
    result["calls"] = worker.calls
    if worker.last_call is not None and result["status"] != "passed":
        result["last_call"] = worker.last_call
    return result


def main():
    started = time.monotonic()
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    _ignore_signals()
    dumpable_off = _no_dump()
    try:
        st = os.fstat(0)
        raw = sys.stdin.buffer.read()
        if stat.S_ISREG(st.st_mode):
            # stdin is a file, which other processes in the sandbox (the sandbox's own init,
            # through /proc/<pid>/fd/0) may still hold open: wipe it before the program exists,
            # or refuse to run.
            if st.st_nlink > 0:
                os.unlink(os.readlink("/proc/self/fd/0"))
            wipe = os.open("/proc/self/fd/0", os.O_WRONLY)
            os.ftruncate(wipe, 0)
            os.close(wipe)
        job = json.loads(raw)
        nonce = job["nonce"]
    except BaseException as e:  # noqa: BLE001 - no nonce, so no verdict line is possible
        sys.stderr.write(f"nemogym harness: unreadable job: {type(e).__name__}: {e}\n")
        os._exit(3)
    try:
        result = run(job, started)
    except BaseException as e:  # noqa: BLE001 - a harness bug: reported, the host masks it
        result = {"status": "harness_error", "message": f"{type(e).__name__}: {e}",
                  "traceback": traceback.format_exc()[-2000:]}
    result["program_output"] = program_output(int(job.get("output_chars", 2000)))
    result["non_dumpable"] = dumpable_off
    line = (nonce + " " + json.dumps(result) + "\n").encode()
    while line:
        line = line[os.write(1, line):]
    os._exit(0)


main()
