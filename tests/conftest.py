"""Shared fixtures. Most tests are differential: they take the `mod` fixture and run the same
scenario against the stdlib's `threading` and against `rthreading`, asserting the same outcome."""

import os
import subprocess
import sys
import textwrap
import threading

import pytest

import rthreading

MODULES = {"threading": threading, "rthreading": rthreading}


@pytest.fixture(params=list(MODULES), ids=list(MODULES))
def mod(request):
    """The module under test: the stdlib's threading, then rthreading."""
    return MODULES[request.param]


def raises_same(fn):
    """Run fn(module) for both modules; return (type, message) of what each raised (or None)."""
    out = {}
    for name, m in MODULES.items():
        try:
            fn(m)
        except BaseException as e:  # noqa: BLE001 - we compare whatever is raised
            out[name] = (type(e), str(e))
        else:
            out[name] = None
    return out["threading"], out["rthreading"]


def run_python(code, *, timeout=30, env=None):
    """Run `code` in a fresh interpreter (the one running the tests); return CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})},
    )
