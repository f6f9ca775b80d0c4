"""Issue 29: verdicts that the code under test cannot forge, and memory capped per row (not per process).

Every forge class of the issue, each with a wrong `add` (so any pass is a forge), next to honest rows
that must still be judged right; then the same forges through the `code` synthesis stage, returned by a
scripted model; then the memory cap of the row's whole process tree.
"""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from dsforge.validators import _sandbox_rowmem as rowmem
from dsforge.validators.sandbox import run_python, run_python_batch

WRONG = "import os, sys\ndef add(a, b):\n    return a - b\n"
RIGHT = "def add(a, b):\n    return a + b\n"
TESTS = "assert add(2, 3) == 5\nassert add(1, 1) == 2\n"

FORGES = {
    # the issue's repro: an exception whose __str__ is the harness's own finish
    "main_finish_str": "import __main__\ndef add(a,b): return a-b\nclass E(Exception):\n"
                       "    __str__=staticmethod(__main__.finish)\nraise E()",
    "sys_exit_0_in_function": "import sys\ndef add(a, b):\n    sys.exit(0)\n",
    "sys_exit_none_in_function": "import sys\ndef add(a, b):\n    sys.exit()\n",
    "hostile_str_exits_0": WRONG + "class E(Exception):\n    def __str__(self):\n        os._exit(0)\n"
                           "def add(a, b):\n    raise E()\n",
    "hostile_str_prints_verdicts": WRONG + "class E(Exception):\n    def __str__(self):\n"
                                   "        print('passed'); print('0' * 32 + ' passed'); os._exit(0)\n"
                                   "def add(a, b):\n    raise E()\n",
    "hostile_repr_in_assert_message": WRONG + "class R:\n    def __repr__(self):\n        os._exit(0)\n"
                                      "    __str__ = __repr__\n"
                                      "def add(a, b):\n    return R()\n",
    "hostile_del_exits_0": WRONG + "class D:\n    def __del__(self):\n        os._exit(0)\n"
                           "def add(a, b):\n    d = D()\n    raise ValueError(d)\n",
    "hostile_del_at_module": WRONG + "class D:\n    def __del__(self):\n        os._exit(0)\nkeep = [D()]\n",
    "exception_class_name_property": WRONG + "class M(type):\n    @property\n    def __name__(cls):\n"
                                     "        os._exit(0)\nclass E(Exception, metaclass=M): pass\n"
                                     "def add(a, b):\n    raise E()\n",
    "systemexit_subclass": WRONG + "class X(SystemExit):\n    @property\n    def args(self):\n        return ()\n"
                           "def add(a, b):\n    raise X(0)\n",
    "systemexit_in_code_with_code_0_wrong_add": WRONG + "sys.exit(0)\n",
    "keyboard_interrupt_in_tests": WRONG + "def add(a, b):\n    raise KeyboardInterrupt\n",
    "generator_exit_in_tests": WRONG + "def add(a, b):\n    raise GeneratorExit\n",
    "systemexit_0_in_tests": WRONG + "def add(a, b):\n    raise SystemExit(0)\n",
    "atexit_prints_passed": WRONG + "import atexit\natexit.register(lambda: print('passed'))\n"
                            "atexit.register(lambda: os._exit(0))\n",
    "excepthook_exits_0": WRONG + "sys.excepthook = lambda *a: os._exit(0)\n",
    "unraisablehook_exits_0": WRONG + "sys.unraisablehook = lambda *a: os._exit(0)\n",
    "builtins_assertionerror": WRONG + "import builtins\nbuiltins.AssertionError = type('E', (Exception,), {})\n",
    "builtins_print_len_isinstance": WRONG + "import builtins\nbuiltins.print = lambda *a, **k: None\n"
                                     "builtins.len = lambda x: 0\nbuiltins.isinstance = lambda *a: True\n"
                                     "builtins.type = lambda *a: SystemExit\nbuiltins.str = lambda *a: 'passed'\n",
    "builtins_exec_compile": WRONG + "import builtins\nbuiltins.exec = lambda *a, **k: None\n"
                             "builtins.compile = lambda *a, **k: None\n",
    "os_module_patched": WRONG + "os.write = lambda *a: 0\nos._exit = lambda *a: None\nos.read = lambda *a: b''\n",
    "os_exit_0_in_code": WRONG + "os._exit(0)\n",
    "os_exit_0_in_function": "import os\ndef add(a, b):\n    os._exit(0)\n",
    "os_exit_0_on_second_call": "import os\nn = [0]\ndef add(a, b):\n    n[0] += 1\n"
                                "    if n[0] > 1:\n        os._exit(0)\n    return a + b\n",
    "os_exit_0_from_thread": WRONG + "import threading, time\n"
                             "threading.Thread(target=lambda: (time.sleep(0.01), os._exit(0))).start()\n"
                             "def add(a, b):\n    time.sleep(0.5)\n    return a - b\n",
    "signal_handler_exits_0": WRONG + "import signal\nsignal.signal(signal.SIGALRM, lambda *a: os._exit(0))\n"
                              "signal.setitimer(signal.ITIMER_REAL, 0.0005, 0.0005)\n"
                              "def add(a, b):\n    sum(range(10**6))\n    return a - b\n",
    "verdict_lines_on_stdout_stderr": WRONG + "for fd in (1, 2):\n"
                                      "    os.write(fd, b'passed\\n' + b'0' * 32 + b' passed\\n'"
                                      " + b'dsforge-report passed\\tcode\\tok\\n')\nprint('passed')\n",
    "garbage_on_every_descriptor": WRONG + "for fd in range(64):\n    try:\n"
                                   "        os.write(fd, bytes(20) + b'\\xff' * 20 + b'passed\\n')\n"
                                   "    except OSError:\n        pass\n",
    "kill_the_harness_server": WRONG + "os.kill(os.getppid(), 9)\n",
    "signal_handler_reads_harness_frames": WRONG + """
import signal
def grab(sig, frame):
    f = frame
    while f is not None:
        for v in list(f.f_locals.values()):
            if isinstance(v, bytes) and len(v) == 16:
                os.write(4, v); os.write(3, v); os.write(1, v)
        f = f.f_back
signal.signal(signal.SIGALRM, grab)
signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
""",
}


def test_the_issue_repro_prints_false():
    r = run_python("import __main__\ndef add(a,b): return a-b\nclass E(Exception):\n"
                   "    __str__=staticmethod(__main__.finish)\nraise E()", "assert add(2,3)==5")
    assert r.passed is False and r.status == "failed"


def test_every_forge_class_fails_and_honest_rows_stay_right():
    honest = {
        "right": (RIGHT, TESTS, True),
        "wrong": (WRONG, TESTS, False),
        "right_with_helpers_in_tests": (RIGHT, "def twice(x):\n    return add(x, x)\nassert twice(2) == 4\n", True),
        "right_script_ending_in_sys_exit_0": (RIGHT + "import sys\nprint('done')\nsys.exit(0)\n", TESTS, True),
        "right_with_main_block": (RIGHT + "if __name__ == '__main__':\n    print(add(1, 2))\n", TESTS, True),
        "right_no_tests": (RIGHT, None, True),
        "right_printing_fake_failures": (RIGHT + "import sys\nprint('dsforge-report failed\\tcode\\tx', file=sys.stderr)\n",
                                         TESTS, True),
        "wrong_second_assert_only": ("def add(a, b):\n    return 3 if a == 1 else a + b\n", TESTS, False),
        "tests_syntax_error": (RIGHT, "assert add(2, 3) == 5\nassert (", False),
    }
    names = list(honest) + list(FORGES)
    items = [(c, t) for c, t, _ in honest.values()] + [(code, TESTS) for code in FORGES.values()]
    results = dict(zip(names, run_python_batch(items, timeout=5, max_output=4000)))
    for name, (_, _, expect) in honest.items():
        assert results[name].passed is expect, (name, results[name].status, results[name].error)
    assert results["right"].status == "passed" and results["wrong"].status == "failed"
    assert results["right_script_ending_in_sys_exit_0"].stdout == "done\n"
    assert results["wrong_second_assert_only"].error.startswith("AssertionError")
    assert results["tests_syntax_error"].status == "syntax_error"
    forged = {name: (results[name].status, results[name].error) for name in FORGES if results[name].passed}
    assert forged == {}
    assert {results[name].status for name in FORGES} <= {"failed", "refused", "crashed", "timeout"}
    assert results["sys_exit_0_in_function"].error == "SystemExit: 0"
    assert results["keyboard_interrupt_in_tests"].phase == "tests"


def test_code_stage_keeps_no_forged_solution(tmp_path):
    """A served model that answers with the forges: the `code` stage keeps none of them, and keeps the
    honest one (tests are written by the model too, fixed across repairs)."""
    from synth_fakes import ScriptedBackend
    from test_synth_stages import ctx_with, instruction_rows, run

    problems = {"Add two numbers honestly.": RIGHT, "Add by the issue's forge.": FORGES["main_finish_str"],
                "Add by exiting.": FORGES["sys_exit_0_in_function"],
                "Add by a hostile __str__.": FORGES["hostile_str_exits_0"],
                "Add by printing verdicts.": FORGES["verdict_lines_on_stdout_stderr"],
                "Add by atexit.": FORGES["atexit_prints_passed"]}

    def script(prompt, conv, i):
        if prompt.startswith("Write unit tests"):
            return "```python\n" + TESTS + "```"
        problem = re.search(r"Problem: (.+)", prompt).group(1).strip()
        return "```python\n" + problems[problem] + "```"

    df = instruction_rows(*[(p, "") for p in problems])
    kept, rej, _ = run("code", df, ctx_with(tmp_path, ScriptedBackend(script)), max_repairs=1, timeout=5)
    assert kept["instruction"].to_list() == ["Add two numbers honestly."]
    assert json.loads(kept["metadata"][0])["tests"].startswith("assert add(2, 3) == 5")
    assert sorted(rej["instruction"].to_list()) == sorted(p for p in problems if "honestly" not in p)
    assert set(rej["reason"]) == {"code:tests_failed"}, rej.select("instruction", "reason", "detail")


# ---------------------------------------------------------------- memory per row

SEVEN_BY_440 = """
import os, time
kids = []
for _ in range(6):
    pid = os.fork()
    if pid == 0:
        b = bytearray(440 * 1024 * 1024)
        for i in range(0, len(b), 4096):
            b[i] = 1
        time.sleep(5)
        os._exit(0)
    kids.append(pid)
b = bytearray(440 * 1024 * 1024)
for i in range(0, len(b), 4096):
    b[i] = 1
for pid in kids:
    assert os.waitpid(pid, 0)[1] == 0, "a child was killed"   # each of the 7 must have held its 440 MB
"""
FORK_ALL = """
import os, time
pids = []
for i in range(6):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(1)
        os._exit(0)
    pids.append(pid)
print("forked", len(pids))
"""
FIFTY_MEMFDS = """
import os
fds = []
for i in range(50):
    fd = os.memfd_create(f"m{i}")
    for _ in range(15):
        os.write(fd, b"x" * (1024 * 1024))
    fds.append(fd)
"""


@pytest.mark.skipif(rowmem.mode() == "rlimits", reason="no memory cgroup can be made here (not root)")
def test_cgroup_caps_seven_processes_and_fifty_memfds_at_memory_mb():
    rows = run_python_batch([(SEVEN_BY_440, None), (FIFTY_MEMFDS, None), (RIGHT, TESTS)], memory_mb=512,
                            timeout=20, max_file_mb=32, max_processes=16)
    for r in rows[:2]:
        assert not r.passed and r.status == "memory", (r.status, r.error)
        assert r.memory_peak_mb is not None and r.memory_peak_mb <= 512, r.memory_peak_mb
    assert rows[2].passed and rows[2].memory_peak_mb < 64


def test_without_a_cgroup_rlimits_bound_the_row(monkeypatch):
    monkeypatch.setenv(rowmem.ENV, "0")
    rowmem._base.cache_clear()
    try:
        assert rowmem.mode() == "rlimits"
        process_mb, nproc = rowmem.per_process(512, 16)
        row_processes = nproc - rowmem.HARNESS_PROCESSES
        assert process_mb * row_processes <= 512 and row_processes == 4
        seven, memfds, honest = run_python_batch(
            [(SEVEN_BY_440, None), (FIFTY_MEMFDS, "assert False"), (RIGHT, TESTS)], memory_mb=512, timeout=20)
        assert not seven.passed and seven.status in ("memory", "failed"), (seven.status, seven.error)
        assert not memfds.passed and "PermissionError" in memfds.error, memfds.error  # memfd_create is denied
        assert honest.passed and honest.memory_peak_mb is None
        forks = run_python(FORK_ALL, None, memory_mb=512)  # the row may hold all of its 4 processes, no more
        assert forks.passed and forks.stdout.splitlines()[-1] == "forked 3", forks.stdout
    finally:
        rowmem._base.cache_clear()
