"""``python -m rthreading``: run a program, libraries included, on rthreading.

The program runs as ``python`` itself would run it (``sys.argv``, ``sys.path[0]``, the
``__main__`` module, exit status and tracebacks), after ``rthreading.patch()``, with
``RTHREADING_PATCH=1`` in the environment so that the Python processes it starts are patched
too. The way ``coverage run`` does it: a fresh ``__main__`` module, the script compiled and
executed in it, or ``runpy``'s ``_run_module_as_main`` (what ``python -m`` calls) for modules.
"""

import os
import sys
import types

USAGE = """\
usage: python -m rthreading [-h] (script.py | -m module | -c code | -) [args ...]"""

HELP = (
    USAGE
    + """

Run a Python program with rthreading in place of the stdlib's threading primitives, queues
and thread pool, in the program's own code and in every library it uses, without editing it.

  script.py [args]   run a script (or a directory or zip file with a __main__.py), as
                     `python script.py [args]` does
  -m module [args]   run a library module as a script, as `python -m module [args]` does
  -c code [args]     run a program passed as a string, as `python -c code [args]` does
  -                  read the program from standard input
  -h, --help         show this help and exit

Interpreter options go before -m rthreading: python -X dev -m rthreading app.py

Before the program's first import, rthreading.patch() replaces
  threading.Lock, RLock, Condition, Semaphore, BoundedSemaphore, Event, Barrier
  queue.Queue, LifoQueue, PriorityQueue, SimpleQueue
  concurrent.futures.ThreadPoolExecutor (and concurrent.futures.thread's)
with rthreading's. Not replaced: the _thread module, Thread, Timer and local (the stdlib's own,
as in rthreading), objects that exist before the program starts.

RTHREADING_PATCH=1 is set in the environment, so child Python processes (subprocess,
multiprocessing's spawn and forkserver, test runners' workers) start patched as well: the
rthreading_patch.pth file installed with rthreading patches any interpreter that starts with
RTHREADING_PATCH=1. In the program, rthreading.patched() is True.

sys.argv, sys.path[0], __main__ (__file__, __spec__), the exit status and the traceback of an
uncaught exception are what python gives the program when run without rthreading."""
)


class _UsageError(Exception):
    pass


def _parse(args):
    """(kind, target, program's argv[1:]) from the launcher's arguments."""
    if not args:
        raise _UsageError("a script, -m module or -c code is required")
    first = args[0]
    for flag, kind in (("-m", "module"), ("-c", "code")):
        if first.startswith(flag):
            if first != flag:  # -mpkg.mod, -c'code': the argument joined to the flag
                return kind, first[len(flag) :], args[1:]
            if len(args) < 2:
                raise _UsageError(f"argument expected for the {flag} option")
            return kind, args[1], args[2:]
    if first == "--":
        if len(args) < 2:
            raise _UsageError("a script is required after --")
        return "script", args[1], args[2:]
    if first == "-":
        return "stdin", "-", args[1:]
    if first.startswith("-"):
        raise _UsageError(f"unknown option {first} (interpreter options go before -m rthreading)")
    return "script", first, args[1:]


def main(args=None):
    """The launcher: parse, patch, run the program in a fresh ``__main__``."""
    args = sys.argv[1:] if args is None else list(args)
    if args and args[0] in ("-h", "--help"):
        print(HELP)
        return 0
    try:
        kind, target, rest = _parse(args)
    except _UsageError as e:
        print(f"{USAGE}\npython -m rthreading: error: {e}", file=sys.stderr)
        return 2

    os.environ["RTHREADING_PATCH"] = "1"
    from rthreading._patch import patch

    patch()

    # Did python put an entry in front of sys.path for `-m rthreading` (the current
    # directory)? Not with -P / -I / PYTHONSAFEPATH: then the program gets none either.
    path0 = not getattr(sys.flags, "safe_path", False)
    annotations = "__annotations__" in sys.modules["__main__"].__dict__
    try:
        if kind == "module":
            _new_main(annotations)
            sys.argv = ["-m", *rest]  # runpy puts the module's path in argv[0] once found
            _run_module(target, True)
        elif kind == "script":
            sys.argv = [target, *rest]
            importer = _path_importer(target)
            if importer is not None:  # a directory or zip file: its __main__ module
                if path0:
                    sys.path[0] = os.path.join(os.getcwd(), target)
                _new_main(annotations)
                _run_module("__main__", False)
            else:
                _run_script(target, path0, annotations)
        else:
            sys.argv = [target if kind == "stdin" else "-c", *rest]
            if path0:
                sys.path[0] = ""
            main_module = _new_main(annotations)
            main_module.__loader__ = _builtin_importer()
            if kind == "stdin":
                _run_file(main_module, "<stdin>", sys.stdin.buffer.read())
            else:
                _run_code(_command(target), "<string>", main_module.__dict__)
    except SystemExit:
        raise
    except BaseException as e:
        # Uncaught: python prints it (through sys.excepthook) and exits with 1, or by SIGINT for
        # a KeyboardInterrupt. Let it do that, with the traceback the program would have had.
        _print_from_program_frames(e)
        raise
    return 0


def _run_script(path, path0, annotations):
    filename = os.path.join(os.getcwd(), path)  # what python makes of it, unnormalised
    try:
        with open(filename, "rb") as f:
            source = f.read()
    except OSError as e:
        prog = getattr(sys, "orig_argv", [sys.executable])[0]
        print(f"{prog}: can't open file {filename!r}: [Errno {e.errno}] {e.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    if path0:
        sys.path[0] = os.path.dirname(os.path.realpath(path))
    main_module = _new_main(annotations)
    from importlib.machinery import SourceFileLoader

    main_module.__loader__ = SourceFileLoader("__main__", filename)
    _run_file(main_module, filename, source)


def _run_file(main_module, filename, source):
    """Run a script's source as python does (``__file__`` set while it runs)."""
    main_module.__file__ = filename
    main_module.__cached__ = None  # type: ignore[attr-defined]
    globals_ = main_module.__dict__
    try:
        _run_code(source, filename, globals_)
    finally:
        # python forgets the script's file once it has run (atexit handlers don't see it).
        globals_.pop("__file__", None)
        globals_.pop("__cached__", None)


# The program's frames start right below these two: a traceback is cut there (a SyntaxError
# from compile() then has none, as with python).
def _run_code(source, filename, globals_):
    code = compile(source, filename, "exec", dont_inherit=True)
    if filename == "<string>":
        _register_command(code, source)
    exec(code, globals_)


def _run_module(name, alter_argv):
    import runpy

    # What `python -m` calls (so its frames are in the traceback, as with python -m).
    runpy._run_module_as_main(name, alter_argv)  # type: ignore[attr-defined]


_BOUNDARIES = (_run_code.__code__, _run_module.__code__)


def _new_main(annotations):
    """A fresh ``__main__`` module in sys.modules, laid out as python's own."""
    import builtins

    main_module = types.ModuleType("__main__")
    if annotations:
        main_module.__annotations__ = {}
    main_module.__builtins__ = builtins  # type: ignore[attr-defined]
    sys.modules["__main__"] = main_module
    return main_module


def _builtin_importer():
    import importlib.machinery

    return importlib.machinery.BuiltinImporter


def _command(code):
    if sys.version_info >= (3, 14):  # python -c dedents its argument from 3.14 on
        import textwrap

        code = textwrap.dedent(code)
    return code


def _register_command(code, source):
    """From 3.13 python -c gives linecache the command's source, so tracebacks show its lines."""
    import linecache

    register = getattr(linecache, "_register_code", None)
    if sys.version_info >= (3, 13) and register is not None:
        register(code, source, "<string>")


def _path_importer(path):
    """What python asks to decide whether its argument is a script or a directory/zip file
    with a ``__main__``: an importer from ``sys.path_hooks``, or None."""
    for hook in sys.path_hooks:
        try:
            return hook(path)
        except ImportError:
            continue
    return None


def _program_traceback(tb):
    """The part of a traceback below the launcher's frames."""
    t = tb
    while t is not None:
        if t.tb_frame.f_code in _BOUNDARIES:
            return t.tb_next
        t = t.tb_next
    return tb


def _print_from_program_frames(exc):
    """Have the next ``sys.excepthook`` call (python's report of ``exc``, uncaught) get the
    traceback without the launcher's frames, which the exception collects again on its way out."""
    tb = _program_traceback(exc.__traceback__)
    hook = sys.excepthook

    def excepthook(type_, value, traceback_):
        sys.excepthook = hook
        if value is exc:
            traceback_ = tb
            value.__traceback__ = tb
            sys.last_traceback = tb
        hook(type_, value, traceback_)

    sys.excepthook = excepthook
