"""CPython's own test suites for threading, queue, logging, the thread pool and asyncio, run
under the whole-program patch (``python -m rthreading -m test ...``), which must give the same
result as without it.

Usage: python scripts/cpython-suites.py [regrtest args...]   (with the interpreter under test,
rthreading installed). The suites run once patched (-j2: the workers are patched through
RTHREADING_PATCH=1, which the launcher sets); a test that fails there (or hangs past the
timeout) is run once more, still patched (regrtest's --rerun, as CPython's own CI does: a few of
these suites' process-pool tests are flaky on this interpreter, e.g. a forkserver left hanging at
teardown); one that fails again is run unpatched, and only a test that passes unpatched counts as
a difference. Exit status 0 when there is none.

tests/cpython_exclusions.txt is the one list of inherent differences, each with its reason.
"""

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SUITES = [
    "test_threading",
    "test_queue",
    "test_logging",
    "test_concurrent_futures.test_thread_pool",
    "test_concurrent_futures.test_future",
    "test_concurrent_futures.test_as_completed",
    "test_concurrent_futures.test_wait",
    "test_concurrent_futures.test_shutdown",
    "test_concurrent_futures.test_init",
    "test_asyncio",
]

EXCLUSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "cpython_exclusions.txt")


def excluded():
    """{glob: reason}: the one list of inherent differences (tests/cpython_exclusions.txt)."""
    out = {}
    with open(EXCLUSIONS) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                glob, _, reason = line.strip().partition("  ")
                out[glob] = reason.strip()
    return out


def run_regrtest(args, patched, junit):
    cmd = [sys.executable]
    if patched:
        cmd += ["-m", "rthreading"]
    cmd += ["-m", "test", "--junit-xml", junit, *args]
    env = dict(os.environ)
    env.pop("RTHREADING_PATCH", None)  # the launcher sets it for the patched run
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, env=env).returncode


def failed_ids(junit):
    """The ids of the test cases that failed or errored, from regrtest's JUnit file."""
    if not os.path.exists(junit):
        return None
    out = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            out.append(case.get("name"))
    return out


def check_patch_reaches_children():
    code = "import threading, rthreading; assert threading.Lock is rthreading.Lock and rthreading.patched()"
    child = f"import subprocess, sys; sys.exit(subprocess.run([sys.executable, '-c', {code!r}]).returncode)"
    r = subprocess.run([sys.executable, "-m", "rthreading", "-c", child])
    if r.returncode:
        sys.exit("cpython-suites: a child of `python -m rthreading` is not patched; the results would mean nothing")


def main():
    extra = sys.argv[1:]
    check_patch_reaches_children()
    with tempfile.TemporaryDirectory() as tmp:
        ignore = os.path.join(tmp, "ignore.txt")
        with open(ignore, "w") as f:
            f.write("\n".join(excluded()) + "\n")
        junit = os.path.join(tmp, "patched.xml")
        args = ["-j2", "-q", "--rerun", "--timeout", "600", "--ignorefile", ignore, *extra, *SUITES]
        status = run_regrtest(args, True, junit)
        if status == 0:
            return 0
        failed = failed_ids(junit)
        if not failed:
            print(
                "cpython-suites: the patched run failed without a failing test case "
                "(a crash, a timeout or an import error): see its output",
                file=sys.stderr,
            )
            return status
        print(f"cpython-suites: {len(failed)} failed under the patch; running them without it", flush=True)
        matches = os.path.join(tmp, "match.txt")
        with open(matches, "w") as f:
            f.write("\n".join(failed) + "\n")
        junit_plain = os.path.join(tmp, "plain.xml")
        run_regrtest(["--matchfile", matches, *extra, *SUITES], False, junit_plain)
        also_plain = set(failed_ids(junit_plain) or [])
        differ = [t for t in failed if t not in also_plain]
        for t in failed:
            print(f"  {'DIFFERS' if t in differ else 'fails without the patch too'}: {t}")
        return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
