"""The sympy worker process: reads JSON jobs on stdin, answers one JSON line each on stdout.

Run as a script by ``timeout.py`` (it imports only the standard library and sympy, so it works
whatever ``sys.path`` the parent had). Each job runs under ``signal.setitimer`` in this
process's main thread; a job stuck in C code is killed from outside by the parent.

Job: ``{"a": text, "b": text, "mode": "equal" | "ratio" | "ratio_pos", "rel_tol": float}``.
Answer: ``{"ok": true | false | null, "why": str}``.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys


class JobTimeout(Exception):
    pass


class TooLarge(Exception):
    pass


def _alarm(signum, frame):  # noqa: ARG001
    raise JobTimeout()


def _setup():
    try:
        import resource

        limit = int(os.environ.get("NEMOGYM_MATH_WORKER_MEM", str(2 * 1024**3)))
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent()


def _watch_parent() -> None:
    """Exit when the parent goes away (stdin EOF covers an idle worker; this a busy one)."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(2.0)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def build_checker():
    """Import sympy and return ``check(job) -> dict`` (no time bound of its own)."""
    import sympy
    from sympy.parsing.sympy_parser import (
        convert_xor,
        implicit_multiplication_application,
        parse_expr,
        standard_transformations,
    )

    transforms = standard_transformations + (implicit_multiplication_application, convert_xor)
    names = {"E": sympy.E, "I": sympy.I, "pi": sympy.pi, "oo": sympy.oo,
             "binomial": sympy.binomial, "factorial": sympy.factorial, "gcd": sympy.gcd,
             "max": sympy.Max, "min": sympy.Min, "ceiling": sympy.ceiling, "floor": sympy.floor,
             "Abs": sympy.Abs}

    def guard(expr) -> None:
        """Refuse numbers too large to build: huge powers and factorials."""
        for node in sympy.preorder_traversal(expr):
            if isinstance(node, sympy.Pow) and node.base.is_number and node.exp.is_number:
                base = abs(complex(node.base.evalf(15)))
                exp = abs(complex(node.exp.evalf(15)))
                if base > 1 and exp * math.log10(base) > 5000:
                    raise TooLarge("power too large")
            elif isinstance(node, sympy.factorial | sympy.binomial) and node.args[0].is_number:
                if abs(complex(node.args[0].evalf(15))) > 3000:
                    raise TooLarge("factorial too large")

    def parse(text: str):
        raw = parse_expr(text, local_dict=dict(names), transformations=transforms, evaluate=False)
        guard(raw)
        return parse_expr(text, local_dict=dict(names), transformations=transforms)

    def small(d, rel_tol: float, scale) -> bool | None:
        if d.is_number:
            v = complex(d.evalf(30))
            s = abs(complex(scale.evalf(30))) if scale.is_number else 1.0
            return abs(v) <= max(rel_tol * s, 1e-12)
        return None

    def equal(job: dict) -> dict:
        if job.get("mode") == "ping":  # measures the round trip alone
            return {"ok": True, "why": "pong"}
        if job.get("mode") == "_hang_in_c":  # tests only: a hang no signal can interrupt
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            import time

            time.sleep(float(job.get("seconds", 30)))
            return {"ok": None, "why": "woke up"}
        a, b = parse(job["a"]), parse(job["b"])
        tol = float(job.get("rel_tol", 1e-6))
        mode = job.get("mode", "equal")
        if mode != "equal":
            if b == 0:
                return {"ok": bool(sympy.simplify(a) == 0), "why": "ratio-zero"}
            r = sympy.simplify(a / b)
            if r.is_number and r != 0 and r.is_finite:
                if mode == "ratio_pos":
                    return {"ok": bool(r.is_positive), "why": "ratio"}
                return {"ok": True, "why": "ratio"}
            return {"ok": False, "why": "ratio not constant"}
        d = a - b
        if d == 0:
            return {"ok": True, "why": "difference is 0"}
        quick = small(d, tol, b)
        if quick is not None:
            return {"ok": quick, "why": "numeric"}
        if sympy.expand(d) == 0:
            return {"ok": True, "why": "expand"}
        d = sympy.simplify(d)
        if d == 0:
            return {"ok": True, "why": "simplify"}
        eq = a.equals(b)
        return {"ok": eq, "why": "equals" if eq is not None else "undecided"}

    return equal


def run_job(check, job: dict) -> dict:
    """``check(job)`` under ``setitimer`` (main thread only); every failure is an answer."""
    timeout = float(job.get("timeout", 2.0))
    try:
        signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
        try:
            result = check(job)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except JobTimeout:
        result = {"ok": None, "why": "timeout"}
    except TooLarge as e:
        result = {"ok": None, "why": f"too large: {e}"}
    except MemoryError:
        result = {"ok": None, "why": "out of memory"}
    except BaseException as e:  # noqa: BLE001 - any sympy failure is an answer, not a crash
        result = {"ok": None, "why": f"sympy failed: {type(e).__name__}: {str(e)[:200]}"}
    if result.get("ok") is not None:
        result["ok"] = bool(result["ok"])
    return result


def main() -> None:
    _setup()
    check = build_checker()
    out = sys.stdout
    out.write('{"ready": true}\n')
    out.flush()
    for line in sys.stdin:
        try:
            job = json.loads(line)
        except ValueError:
            out.write('{"ok": null, "why": "bad job"}\n')
            out.flush()
            continue
        result = run_job(check, job)
        out.write(json.dumps(result) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
