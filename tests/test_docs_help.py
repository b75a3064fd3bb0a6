"""help() reads like the stdlib's: every public name of rthreading, rthreading.queue and
rthreading.futures, and every public method of their classes, has a docstring wherever the
stdlib's counterpart has one (and always where rthreading adds something the stdlib lacks);
the docstrings are written for users (no notes about the implementation); the signatures that
``inspect.signature`` shows are the stdlib's; and ``rthreading.__version__`` is the installed
distribution's, the one ``pyproject.toml`` and ``Cargo.toml`` declare.

Run against the installed package, as a user's ``help()`` would read it."""

import concurrent.futures
import importlib.metadata
import inspect
import pathlib
import queue
import re
import threading
import tomllib
import types

import pytest

import rthreading
import rthreading.futures
import rthreading.queue

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (our module, the stdlib modules its names come from, first match wins)
MODULES = {
    "rthreading": (rthreading, (threading, queue, concurrent.futures)),
    "rthreading.queue": (rthreading.queue, (queue,)),
    "rthreading.futures": (rthreading.futures, (concurrent.futures, concurrent.futures.thread)),
}

# Words that give away a note written for the implementer, not the user.
IMPLEMENTER_NOTE = re.compile(
    r"pyo3|fastcall|\bissues?\b|`\*args`|implementer|\btodo\b|\bxxx\b|&self|Bound<|Py<|#\[|\bunwrap\b",
    re.IGNORECASE,
)

# Methods that are part of the protocol users rely on, though their names start with "_".
DUNDER_METHODS = ("__enter__", "__exit__", "__iter__", "__next__")


def public_names(module):
    """The names a user finds: `dir(module)` without private names and submodules."""
    names = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        if isinstance(getattr(module, name), types.ModuleType):
            continue
        names.append(name)
    return names


def stdlib_counterpart(stdlib_modules, name):
    for mod in stdlib_modules:
        if hasattr(mod, name):
            return getattr(mod, name)
    return None


def as_class(obj):
    """threading.Lock and RLock are factory functions on some versions: their instances' class."""
    if isinstance(obj, type) or obj is None:
        return obj
    if obj in (threading.Lock, threading.RLock):
        return type(obj())
    return None


def is_documentable(obj):
    return isinstance(obj, type) or callable(obj) or inspect.isdatadescriptor(obj)


def doc_of(obj):
    """The object's own docstring (not one inherited through the MRO, as inspect.getdoc would)."""
    doc = getattr(obj, "__doc__", None)
    return doc.strip() if isinstance(doc, str) else ""


def member_names(cls):
    return [n for n in dir(cls) if not n.startswith("_") or n in DUNDER_METHODS]


def cases():
    """(id, our object, the stdlib's counterpart or None, whether it is a class member)."""
    seen = set()
    out = []
    for modname, (module, stdlib_modules) in MODULES.items():
        for name in public_names(module):
            ours = getattr(module, name)
            if not is_documentable(ours):
                continue  # constants: TIMEOUT_MAX, ALL_COMPLETED, ...
            std = stdlib_counterpart(stdlib_modules, name)
            if (modname, name) not in seen:
                seen.add((modname, name))
                out.append((f"{modname}.{name}", ours, std, False))
            ours_cls, std_cls = as_class(ours), as_class(std)
            if ours_cls is None or ours_cls is std_cls:
                continue  # a function, or the stdlib's own class
            for member in member_names(ours_cls):
                ours_m = inspect.getattr_static(ours_cls, member, None)
                if ours_m is None:
                    continue
                # What the class defines itself or inherits from an rthreading base.
                owner = next((k for k in ours_cls.__mro__ if member in vars(k)), None)
                if owner is None or owner is object or not owner.__module__.startswith("rthreading"):
                    continue
                std_m = inspect.getattr_static(std_cls, member, None) if std_cls is not None else None
                out.append((f"{modname}.{name}.{member}", ours_m, std_m, True))
    return out


CASES = cases()


def ids(cases):
    return [c[0] for c in cases]


def needs_doc(ours, std):
    """Where a docstring is owed: every class; a callable whose stdlib counterpart has one, or
    that rthreading adds. (The stdlib documents its data attributes only as properties.)"""
    if isinstance(ours, type):
        return True
    if std is not None:
        return bool(doc_of(std))
    return isinstance(ours, type) or callable(ours) or isinstance(ours, (staticmethod, classmethod))


def unwrap(obj):
    if isinstance(obj, (staticmethod, classmethod)):
        return obj.__func__
    return obj


def test_cases_cover_the_api():
    names = set(ids(CASES))
    for expected in (
        "rthreading.Lock.acquire",
        "rthreading.Condition.wait_for",
        "rthreading.Barrier.parties",
        "rthreading.queue.Queue.get",
        "rthreading.futures.ThreadPoolExecutor.submit",
        "rthreading.futures.Future.result",
        "rthreading.dump",
        "rthreading.patch",
    ):
        assert expected in names


@pytest.mark.parametrize("name, ours, std, member", CASES, ids=ids(CASES))
def test_has_a_user_docstring(name, ours, std, member):
    if ours is std:
        pytest.skip("the stdlib's own object")
    if not needs_doc(ours, std):
        pytest.skip("the stdlib's counterpart has no docstring either")
    doc = doc_of(ours)
    assert doc, f"{name} has no docstring (the stdlib's counterpart has one)"
    note = IMPLEMENTER_NOTE.search(doc)
    assert note is None, f"{name}'s docstring reads like an implementer's note ({note.group(0)!r}): {doc!r}"


def signature_or_none(obj):
    try:
        return inspect.signature(unwrap(obj))
    except (TypeError, ValueError):
        return None


def comparable(sig, member):
    params = list(sig.parameters.values())
    if member and params and params[0].name == "self":
        params = params[1:]
    return [(p.name, p.kind if p.kind != p.POSITIONAL_ONLY else p.POSITIONAL_OR_KEYWORD, p.default) for p in params]


SIGNATURE_CASES = [c for c in CASES if c[2] is not None and callable(c[2]) and c[1] is not c[2]]

# Parameters of a newer CPython's API that rthreading offers on every version.
NEWER_PARAMETERS = {"map": {"buffersize"}}

# Differences the README lists under "Limits" (found by tests/test_bad_input.py).
KNOWN_DIFFERENCES = {}

# Signatures owed by another branch (src/py/simple_queue.rs is being split as this is written).
PENDING_SIGNATURES = {"rthreading.SimpleQueue", "rthreading.queue.SimpleQueue"}


@pytest.mark.parametrize("name, ours, std, member", SIGNATURE_CASES, ids=ids(SIGNATURE_CASES))
def test_signature_is_the_stdlibs(name, ours, std, member):
    if name in KNOWN_DIFFERENCES:
        pytest.skip(KNOWN_DIFFERENCES[name])
    std_sig = signature_or_none(std)
    if std_sig is None:
        pytest.skip("the stdlib's counterpart has no signature to compare with")
    ours_sig = signature_or_none(ours)
    assert ours_sig is not None, f"{name} has no signature for inspect (the stdlib's is {std_sig})"
    newer = NEWER_PARAMETERS.get(name.rsplit(".", 1)[-1], set()) - set(std_sig.parameters)
    ours_params = [p for p in comparable(ours_sig, member) if p[0] not in newer]
    if name in PENDING_SIGNATURES and ours_params != comparable(std_sig, member):
        pytest.xfail("SimpleQueue's text signature comes with the split of src/py/simple_queue.rs")
    assert ours_params == comparable(std_sig, member), f"{name}{ours_sig} vs the stdlib's {std_sig}"


def test_module_docstrings_are_for_users():
    for modname, (module, _) in MODULES.items():
        doc = doc_of(module)
        assert doc, modname
        assert IMPLEMENTER_NOTE.search(doc) is None, modname


def test_version_is_the_distributions():
    installed = importlib.metadata.version("rthreading")
    assert rthreading.__version__ == installed
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    declared = project.get("version", cargo)  # maturin takes Cargo.toml's when pyproject's is dynamic
    assert installed == declared
    assert cargo == declared, "Cargo.toml and pyproject.toml declare different versions"
