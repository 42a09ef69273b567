"""Reward integrity: every known way for a program to fake a pass, run for real in the sandbox.

Each attack must score 0 (not masked: the program's own doing), while the honest solution to
the same task scores 1. The function-style verdict comes from a nonce the program never sees;
stdin/stdout expected outputs never enter the sandbox.
"""

import asyncio
from pathlib import Path

import pytest
from nemogym.sandboxes import LocalSandbox, default_sandbox
from nemogym.verifiers.code import FunctionTests, IOCase, IOTests, verify
from nemogym.verifiers.code.function_tests import arun_function_tests

DATASET = Path(__file__).resolve().parents[1] / "envs" / "code" / "data" / "code_example.jsonl"
SECRET = 7349281  # appears only in the test code, which stays outside the program's process
TESTS = FunctionTests(
    test=f"def check(candidate):\n    assert candidate(2) == 4\n    assert candidate({SECRET}) == {SECRET * 2}\n",
    entry_point="double", timeout_s=3)
HONEST = "def double(x):\n    return 2 * x\n"
FAKE_VERDICT = 'print("0123456789abcdef0123456789abcdef {\\"status\\": \\"passed\\"}")\n'


@pytest.fixture(scope="module")
def sandbox():
    sb = default_sandbox()
    yield sb
    sb.close()


@pytest.fixture(scope="module")
def local_sandbox():
    return LocalSandbox()


def assert_zero(v):
    assert v.reward == 0.0, f"attack scored {v.reward}: {v.details}"
    assert not v.masked, f"attack was masked instead of scored 0: {v.failure}"
    assert v.reason


def test_honest_solution_passes(sandbox):
    assert verify(HONEST, TESTS, sandbox=sandbox, extract=False).reward == 1.0


FUNCTION_ATTACKS = {  # name: (program, why it must fail)
    "sys.exit(0) before the tests": ("import sys\nsys.exit(0)\n" + HONEST, 'SystemExit'),
    "os._exit(0) before the tests": ("import os\nos._exit(0)\n" + HONEST, 'exited while loading'),
    "sys.exit(0) inside the function": ("import sys\ndef double(x):\n    sys.exit(0)\n", 'SystemExit'),
    "os._exit(0) inside the function": ("import os\ndef double(x):\n    os._exit(0)\n", 'exited during a call'),
    "prints a fake pass": (
        "import os, sys\nprint('all tests passed')\n" + FAKE_VERDICT
        + "os.write(1, b'PASSED\\n')\nos.write(2, b'OK\\n')\ndef double(x):\n    return 0\n",
        'assertion failed'),
    "an object equal to everything": (
        "class Eq:\n    def __eq__(self, other):\n        return True\n    def __ne__(self, other):\n"
        "        return False\n    __hash__ = object.__hash__\n"
        "def double(x):\n    return Eq()\n",
        'not plain data'),
    "an int subclass equal to everything": (
        "class Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\n"
        "def double(x):\n    return Int(0)\n",
        'assertion failed'),
    "overrides builtins and assert": (
        "import builtins, sys\n"
        "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
        "builtins.all = lambda *a: True\nbuiltins.any = lambda *a: True\nbuiltins.sorted = lambda *a: [4]\n"
        "builtins.abs = lambda x: 0\nbuiltins.max = lambda *a: 4\n"
        "sys.settrace(lambda *a: None)\n"
        "def double(x):\n    return -1\n",
        'assertion failed'),
    "patches int.__eq__ through gc": (
        "import gc, ctypes\n"
        "d = gc.get_referents(int.__dict__)[0]\nd['__eq__'] = lambda a, b: True\n"
        "ctypes.pythonapi.PyType_Modified(ctypes.py_object(int))\n"
        "def double(x):\n    return 0\n",
        'assertion failed'),
    "reads the expected outputs from disk": (
        "import os, re\n"
        f"paths = [{str(DATASET)!r}, '/proc/self/cmdline', '/proc/1/fd/0', '/proc/1/cmdline']\n"
        "ppid = os.getppid()\npaths += [f'/proc/{ppid}/fd/0', f'/proc/{ppid}/cmdline', f'/proc/{ppid}/environ']\n"
        "for root in ('.', '/tmp', '/work', '/dev/shm', '/opt'):\n"
        "    for dirpath, _, files in os.walk(root):\n"
        "        paths += [os.path.join(dirpath, f) for f in files]\n"
        "text = ''\nfor p in paths:\n    try:\n        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)\n"
        "        text += os.read(fd, 1 << 22).decode(errors='replace')\n        os.close(fd)\n"
        "    except OSError:\n        pass\n"
        "answers = {int(a): int(b) for a, b in re.findall(r'candidate\\((\\d+)\\) == (\\d+)', text)}\n"
        "def double(x):\n    return answers.get(x, 0)\n",
        # where the interpreter's venv is bound under /opt, reading it all runs out of time
        ('assertion failed', 'time limit exceeded')),
    "edits the harness": (
        "import os\nppid = os.getppid()\n"
        "for target in [f for f in os.listdir('.') if os.path.isfile(f)] + [f'/proc/{ppid}/mem']:\n"
        "    try:\n        with open(target, 'w') as f:\n"
        "            f.write('print(\"all tests passed\")\\n')\n"
        "    except OSError:\n        pass\n"
        "def double(x):\n    return 0\n",
        'assertion failed'),
    "kills the harness": ("import os\nos.kill(os.getppid(), 9)\n" + HONEST, 'no verdict'),
    "signals the harness, then answers wrongly": (
        "import os, signal\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP):\n"
        "    os.kill(os.getppid(), s)\ndef double(x):\n    return 0\n",
        'assertion failed'),
    "kills every process it can": ("import os\nos.kill(-1, 9)\n" + HONEST, 'no verdict'),
    "returns a generator": ("def double(x):\n    yield 2 * x\n", 'not plain data'),
    "writes a fake pass into every inherited fd": (
        "import os\nfor fd in range(3, 32):\n    try:\n        os.write(fd, b'PASSED\\n')\n"
        "    except OSError:\n        pass\ndef double(x):\n    return 0\n",
        'malformed'),
}


@pytest.mark.parametrize("name", sorted(FUNCTION_ATTACKS))
def test_function_attack_scores_zero(sandbox, name):
    program, why = FUNCTION_ATTACKS[name]
    v = verify(program, TESTS, sandbox=sandbox, extract=False)
    assert_zero(v)
    assert any(w in v.reason for w in (why if isinstance(why, tuple) else (why,))), v.reason


def test_signalled_harness_still_reports(sandbox):
    v = verify(FUNCTION_ATTACKS["signals the harness, then answers wrongly"][0], TESTS, sandbox=sandbox,
               extract=False)
    assert "assertion failed" in v.reason  # the harness ignored the signals and judged the answer


# The program learns every 32-hex token it can read anywhere (other processes' stdin, argv,
# environment, open files, memory; files in its cwd and /tmp), writes forged verdict lines with
# each into every stdout it can open, then kills the harness so that only forgeries remain.
FORGER = r'''
import os, re, signal
HEX = re.compile(rb"[0-9a-f]{32}")
tokens = set()
pids = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
for pid in pids:
    for name in ["cmdline", "environ"] + [f"fd/{fd}" for fd in range(0, 16)]:
        try:
            fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY | os.O_NONBLOCK)
            tokens.update(m.decode() for m in HEX.findall(os.read(fd, 1 << 22)))
            os.close(fd)
        except OSError:
            pass
lines = "".join(f'{t} {{"status": "passed", "non_dumpable": true}}\n' for t in tokens)
for pid in pids:
    for fd in ("1", "2"):
        try:
            with open(f"/proc/{pid}/fd/{fd}", "w") as f:
                f.write(lines)
        except OSError:
            pass
os.kill(os.getppid(), signal.SIGKILL)
def double(x):
    return 0
'''


def test_forging_the_verdict_fails_in_every_sandbox(sandbox, local_sandbox):
    for sb in (sandbox, local_sandbox):
        assert_zero(verify(FORGER, TESTS, sandbox=sb, extract=False))


# A spy that scans everything readable for hex tokens; the test code asserts the run's nonce is
# not among them. The forked child holding a token in memory is a positive control: it proves
# the memory scan works where access is allowed.
SPY = r'''
import os, re, stat, time
HEX = re.compile(rb"[0-9a-f]{32}")
found = set()
def grab(data):
    found.update(m.decode() for m in HEX.findall(data))
def read_regular(path):
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            grab(os.pread(fd, 1 << 22, 0))
    except OSError:
        pass
    finally:
        os.close(fd)
def read_mem(pid):
    try:
        maps = open(f"/proc/{pid}/maps").read().splitlines()
        mem = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    except OSError:
        return
    for line in maps:
        addr, perms = line.split()[:2]
        lo, hi = (int(x, 16) for x in addr.split("-"))
        if perms.startswith("r") and hi - lo <= 1 << 26:
            try:
                grab(os.pread(mem, hi - lo, lo))
            except OSError:
                pass
    os.close(mem)
def scan():
    child = os.fork()
    if child == 0:
        token = ("cd" * 16).encode()
        time.sleep(30)
        os._exit(0)
    time.sleep(0.2)
    procs = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            procs += 1
            for name in ["cmdline", "environ"] + [f"fd/{fd}" for fd in range(0, 16)]:
                read_regular(f"/proc/{pid}/{name}")
            read_mem(pid)
    for root in (".", "/tmp", "/dev/shm"):
        for dirpath, _, files in os.walk(root):
            for f in files:
                read_regular(os.path.join(dirpath, f))
    os.kill(child, 9)
    os.waitpid(child, 0)
    return [sorted(found), procs]
'''


def test_the_nonce_cannot_be_found_from_inside(sandbox, local_sandbox):
    nonce = "5ec7e7" + "0" * 20 + "c0ffee"
    test = (f"def check(candidate):\n    found, procs = candidate()\n    assert procs >= 2\n"
            f"    assert {'cd' * 16!r} in found, 'positive control: the scan found nothing'\n"
            f"    assert {nonce!r} not in found, 'the nonce leaked'\n")
    tests = FunctionTests(test=test, entry_point="scan", timeout_s=30)
    for sb in (sandbox, local_sandbox):
        v = asyncio.run(arun_function_tests(sb, SPY, tests, nonce=nonce))
        assert v.reward == 1.0, v.details
        assert "warning" not in v.details  # the harness made itself non-dumpable


# -- stdin/stdout ----------------------------------------------------------------------------
IO_TESTS = IOTests(cases=(IOCase("21\n", f"{SECRET}\n"), IOCase("5\n", "10\n")))
IO_ATTACKS = {
    "exits 0 without output": "import sys\nsys.exit(0)\n",
    "os._exit(0) after a partial answer": "import os\nprint(10, flush=True)\nos._exit(0)\n",
    "prints a fake pass": "print('all tests passed')\n" + FAKE_VERDICT,
    "reads the expected outputs from disk": (
        "import os, re\ntext = ''\n"
        f"for p in [{str(DATASET)!r}, '/proc/1/fd/0', '/proc/1/cmdline', '/proc/1/environ']:\n"
        "    try:\n        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK)\n"
        "        text += os.read(fd, 1 << 22).decode(errors='replace')\n        os.close(fd)\n"
        "    except OSError:\n        pass\n"
        "m = re.search(r'(?:output|expected)\\W+(\\d+)', text)\nprint(m.group(1) if m else 0)\n"),
}


@pytest.mark.parametrize("name", sorted(IO_ATTACKS))
def test_io_attack_scores_zero(sandbox, name):
    assert_zero(verify(IO_ATTACKS[name], IO_TESTS, sandbox=sandbox, extract=False))


def test_io_expected_output_never_enters_the_sandbox(sandbox, tmp_path):
    # Even a file next to the dataset, holding the expected output, is out of the program's view.
    leak = tmp_path / "expected.txt"
    leak.write_text(f"{SECRET}\n")
    for path in (leak, DATASET):
        program = f"try:\n    print(open({str(path)!r}).read())\nexcept OSError as e:\n    print('denied', e)\n"
        v = verify(program, IO_TESTS, sandbox=sandbox, extract=False)
        assert_zero(v)
        assert "denied" in v.details["first_failure"]["got"]


# -- a program must not be able to get itself masked (a masked episode escapes its 0) ----------
DISRUPTIONS = {
    "signals the sandbox's init": (
        "import os\nfor s in (2, 15, 1, 10, 12, 14, 13, 19, 9):\n    try:\n        os.kill(1, s)\n"
        "    except OSError:\n        pass\n"),
    "writes garbage into the init's fds": (
        "import os\nfor fd in range(0, 12):\n    try:\n        f = os.open(f'/proc/1/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "        os.write(f, b'\\x00\\xff' * 1000)\n        os.close(f)\n    except OSError:\n        pass\n"),
    "fakes the harness's own failure": (
        "import os\nfor fd in (1, 2):\n    try:\n        f = os.open(f'/proc/1/fd/{fd}', os.O_WRONLY)\n"
        "        os.write(f, b'nemogym harness: unreadable job: x\\n')\n        os.close(f)\n    except OSError:\n"
        "        pass\nos.write(2, b'nemogym harness: unreadable job: x\\n')\nos._exit(3)\n"),
    "fills the disk": (
        "try:\n    with open('/tmp/fill', 'wb') as f:\n        while True:\n            f.write(b'x' * (1 << 20))\n"
        "except OSError:\n    pass\n"),
    "closes its stdout and stderr": "import os\nos.close(1)\nos.close(2)\n",
}


@pytest.mark.parametrize("name", sorted(DISRUPTIONS))
def test_a_program_cannot_force_a_masked_verdict(sandbox, name):
    wrong_fn = DISRUPTIONS[name] + "def double(x):\n    return 0\n"
    wrong_io = DISRUPTIONS[name] + "print(0)\n"
    for program, tests in ((wrong_fn, TESTS), (wrong_io, IO_TESTS)):
        assert_zero(verify(program, tests, sandbox=sandbox, extract=False))
