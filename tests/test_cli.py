"""`python -m rthreading (script | -m module | -c code) [args]` runs a program as python itself
would (argv, sys.path[0], __main__, exit status, tracebacks), patched, with RTHREADING_PATCH=1
for the processes it starts. Differential: each program runs with plain `python ...` and with
`python -m rthreading ...`, and what they print, their exit status and tracebacks compare
equal."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

pytestmark = [
    pytest.mark.thread_unsafe(reason="starts child interpreters in a shared tmp_path"),
    pytest.mark.timeout(120),
]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "RTHREADING_PATCH"}
    env.update(extra)
    return env


def run(args, *, launcher, cwd, input=None, env=None):
    cmd = [sys.executable, *(["-m", "rthreading"] if launcher else []), *args]
    return subprocess.run(cmd, cwd=cwd, input=input, capture_output=True, text=True, timeout=90, env=env or _env())


def plain_and_launched(args, cwd, **kw):
    """(plain python's result, the launcher's result) as (returncode, stdout, stderr)."""
    plain = run(args, launcher=False, cwd=cwd, **kw)
    ours = run(args, launcher=True, cwd=cwd, **kw)
    return ((plain.returncode, plain.stdout, plain.stderr), (ours.returncode, ours.stdout, ours.stderr))


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# What a program can see of how it was started (the same with and without the launcher).
SHOW = """\
import sys, __main__
import helper
print("argv", sys.argv)
print("path0", repr(sys.path[0]))
print("name", __name__, "file", repr(globals().get("__file__")))
print("spec", None if __spec__ is None else (__spec__.name, __spec__.origin, __spec__.parent))
print("package", repr(__package__), "loader", type(__loader__).__name__, __loader__.__name__
      if isinstance(__loader__, type) else "")
print("main", sys.modules["__main__"] is __main__, __main__.__dict__ is globals())
print("keys", list(vars(__main__))[:9])
print("helper", helper.__file__)
"""


@pytest.fixture
def tree(tmp_path):
    """tmp_path/app/prog.py (SHOW) next to helper.py, and tmp_path/app/pkg/ with a module and
    a __main__; the programs import `helper` from sys.path[0]."""
    write(tmp_path / "app" / "prog.py", SHOW)
    write(tmp_path / "app" / "helper.py", "")
    write(tmp_path / "app" / "pkg" / "__init__.py", "")
    write(tmp_path / "app" / "pkg" / "mod.py", SHOW)
    write(tmp_path / "app" / "pkg" / "__main__.py", SHOW)
    return tmp_path


def test_script_argv_path_and_main(tree):
    plain, ours = plain_and_launched(["app/prog.py", "a", "--flag", "-m"], tree)
    assert plain[0] == 0, plain
    assert ours == plain


def test_script_from_its_directory_and_through_a_symlink(tree):
    plain, ours = plain_and_launched(["prog.py", "x"], tree / "app")
    assert plain[0] == 0, plain
    assert ours == plain
    (tree / "link.py").symlink_to(tree / "app" / "prog.py")  # sys.path[0]: the target's directory
    plain, ours = plain_and_launched(["./link.py"], tree)
    assert plain[0] == 0, plain
    assert ours == plain


def test_module(tree):
    plain, ours = plain_and_launched(["-m", "pkg.mod", "a", "b"], tree / "app")
    assert plain[0] == 0, plain
    assert ours == plain


def test_package_main(tree):
    plain, ours = plain_and_launched(["-m", "pkg", "a"], tree / "app")
    assert plain[0] == 0, plain
    assert ours == plain


def test_directory_with_main(tree):
    write(tree / "app" / "__main__.py", SHOW)
    plain, ours = plain_and_launched(["app", "z"], tree)
    assert plain[0] == 0, plain
    assert ours == plain


def test_code(tree):
    code = SHOW.replace("import helper\n", "").replace('print("helper", helper.__file__)\n', "")
    plain, ours = plain_and_launched(["-c", code, "a", "-c"], tree)
    assert plain[0] == 0, plain
    assert ours == plain


def test_stdin(tree):
    code = 'import sys; print(sys.argv, repr(sys.path[0]), __name__, __file__ if "__file__" in dir() else None)'
    plain, ours = plain_and_launched(["-", "q"], tree, input=code)
    assert plain[0] == 0, plain
    assert ours == plain


@pytest.mark.parametrize(
    "body, status",
    [
        ("print('done')", 0),
        ("import sys; sys.exit(3)", 3),
        ("import sys; sys.exit('bad input')", 1),
        ("raise SystemExit(None)", 0),
        ("import os; os._exit(7)", 7),
    ],
)
def test_exit_status(tmp_path, body, status):
    write(tmp_path / "p.py", body)
    plain, ours = plain_and_launched(["p.py"], tmp_path)
    assert plain[0] == status
    assert ours == plain


UNCAUGHT = """\
import helper

def inner(n):
    if n == 0:
        raise ValueError("deep")
    inner(n - 1)

try:
    {{}}["key"]
except KeyError as e:
    try:
        inner(2)
    except ValueError as v:
        raise RuntimeError("outer") from v
"""


@pytest.mark.parametrize("how", ["script", "module", "code"])
def test_uncaught_exception_traceback_is_pythons(tmp_path, how):
    write(tmp_path / "helper.py", "")
    write(tmp_path / "boom.py", UNCAUGHT.replace("{{}}", "{}"))
    args = {"script": ["boom.py"], "module": ["-m", "boom"], "code": ["-c", UNCAUGHT.replace("{{}}", "{}")]}[how]
    plain, ours = plain_and_launched(args, tmp_path)
    assert plain[0] == 1
    assert "RuntimeError: outer" in plain[2] and "ValueError: deep" in plain[2]
    assert ours == plain
    assert "rthreading" not in ours[2]


def test_syntax_error(tmp_path):
    write(tmp_path / "bad.py", "x = 1\ndef (:\n")
    plain, ours = plain_and_launched(["bad.py"], tmp_path)
    assert plain[0] == 1 and "SyntaxError" in plain[2]
    assert ours == plain


def test_exception_in_a_module_the_program_imports(tmp_path):
    write(tmp_path / "lib.py", "def f():\n    return 1 / 0\n")
    write(tmp_path / "p.py", "import lib\nlib.f()\n")
    plain, ours = plain_and_launched(["p.py"], tmp_path)
    assert plain[0] == 1 and "ZeroDivisionError" in plain[2]
    assert ours == plain


def test_programs_excepthook_gets_the_programs_traceback(tmp_path):
    write(
        tmp_path / "p.py",
        """\
        import sys, traceback
        def hook(t, v, tb):
            print("hook", t.__name__, [f.name for f in traceback.extract_tb(tb)],
                  [f.name for f in traceback.extract_tb(v.__traceback__)])
        sys.excepthook = hook
        def f():
            raise OSError("x")
        f()
        """,
    )
    plain, ours = plain_and_launched(["p.py"], tmp_path)
    assert plain == (1, "hook OSError ['<module>', 'f'] ['<module>', 'f']\n", "")
    assert ours == plain


def test_missing_script_and_module(tmp_path):
    plain, ours = plain_and_launched(["nope.py"], tmp_path)
    assert plain[0] == 2 and "can't open file" in plain[2]
    assert ours == plain
    plain, ours = plain_and_launched(["-m", "no_such_module_here"], tmp_path)
    assert plain[0] == 1 and "No module named" in plain[2]
    assert ours == plain


@pytest.mark.parametrize("how", ["script", "module"])
def test_keyboard_interrupt_exits_as_python_does(tmp_path, how):
    write(tmp_path / "ki.py", "def f():\n    raise KeyboardInterrupt\nf()\n")
    args = ["ki.py"] if how == "script" else ["-m", "ki"]
    plain, ours = plain_and_launched(args, tmp_path)
    assert plain[0] == -signal.SIGINT
    assert "KeyboardInterrupt" in plain[2]
    assert ours == plain


def test_threads_and_atexit_after_the_program_returns(tmp_path):
    write(
        tmp_path / "p.py",
        """\
        import atexit, sys, threading, time
        atexit.register(lambda: print("atexit", "__file__" in vars(sys.modules["__main__"])))
        def late():
            time.sleep(0.2)
            print("thread done", sys.modules["__main__"].__name__)
        threading.Thread(target=late).start()
        print("main done")
        """,
    )
    plain, ours = plain_and_launched(["p.py"], tmp_path)
    assert plain == (0, "main done\nthread done __main__\natexit False\n", "")
    assert ours == plain


def test_program_runs_patched(tmp_path):
    write(
        tmp_path / "p.py",
        """\
        import concurrent.futures, logging, os, queue, sys, threading
        import rthreading
        assert rthreading.patched()
        assert threading.Lock is rthreading.Lock and threading.Event is rthreading.Event
        assert queue.Queue is rthreading.queue.Queue
        assert concurrent.futures.ThreadPoolExecutor is rthreading.futures.ThreadPoolExecutor
        assert type(logging.Handler().lock) is rthreading.RLock
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            assert list(pool.map(abs, [-1, -2])) == [1, 2]
        print(os.environ["RTHREADING_PATCH"])
        """,
    )
    proc = run(["p.py"], launcher=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "1\n", "")


CHILD = "import sys, threading, rthreading; print(threading.Lock is rthreading.Lock, 'rthreading' in sys.modules)"


def test_child_python_process_is_patched(tmp_path):
    write(
        tmp_path / "p.py",
        f"""\
        import subprocess, sys
        print(subprocess.run([sys.executable, "-c", {CHILD!r}], capture_output=True,
                             text=True, check=True).stdout, end="")
        """,
    )
    proc = run(["p.py"], launcher=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "True True\n", "")
    proc = run(["p.py"], launcher=False, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "False True\n", "")


def test_multiprocessing_spawn_child_is_patched(tmp_path):
    write(
        tmp_path / "p.py",
        """\
        import multiprocessing, threading, rthreading

        def child(q):
            q.put((threading.Lock is rthreading.Lock, __name__))

        if __name__ == "__main__":
            ctx = multiprocessing.get_context("spawn")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print(q.get(timeout=60))
            p.join(60)
            print(p.exitcode)
        """,
    )
    proc = run(["p.py"], launcher=True, cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "(True, '__mp_main__')\n0\n", "")


def test_help():
    proc = run(["--help"], launcher=True, cwd=None)
    assert proc.returncode == 0 and proc.stderr == ""
    for words in [
        "usage: python -m rthreading",
        "-m module",
        "-c code",
        "RTHREADING_PATCH=1",
        "threading.Lock",
        "queue.Queue",
        "ThreadPoolExecutor",
        "_thread",
    ]:
        assert words in proc.stdout
    assert run(["-h"], launcher=True, cwd=None).stdout == proc.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "a script, -m module or -c code is required"),
        (["-m"], "argument expected for the -m option"),
        (["-c"], "argument expected for the -c option"),
        (["-X", "dev", "p.py"], "unknown option -X"),
    ],
)
def test_bad_usage(args, message):
    proc = run(args, launcher=True, cwd=None)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: python -m rthreading")
    assert message in proc.stderr


def test_joined_flag_argument(tmp_path):
    write(tmp_path / "m.py", "import sys; print(sys.argv[1:])")
    plain, ours = plain_and_launched(["-mm", "x"], tmp_path)
    assert plain == (0, "['x']\n", "")
    assert ours == plain
