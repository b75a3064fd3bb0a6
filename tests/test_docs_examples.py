"""The documentation's examples run, so the docs can't rot: every ```python block of docs/*.md
runs as a program of its own (a fresh interpreter, this one, in a temporary directory) and
must exit 0; the blocks check what they claim with asserts. Blocks fenced ```py, ```sh or
```text are shown, not run.

An HTML comment on the line before a block says what it needs:
``<!-- test: requires dask distributed -->`` skips it where one of those modules does not
import (the scaling-out page's Dask example runs in the docs venv on the GIL interpreter,
where they install: `make docs`)."""

import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"(?:<!-- test: (?P<directive>[^>]*?) -->\n)?^```python\n(?P<code>.*?)^```", re.S | re.M)

pytestmark = [
    pytest.mark.skipif(not DOCS.is_dir(), reason="docs/ not next to the tests (installed elsewhere)"),
    pytest.mark.thread_unsafe(reason="each example is a child interpreter; once is enough"),
]


def examples():
    for page in sorted(DOCS.rglob("*.md")) if DOCS.is_dir() else []:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start("code")) + 1
            name = f"{page.relative_to(DOCS)}:{line}"
            yield pytest.param(page, line, match["directive"] or "", match["code"], id=name)


def test_the_docs_have_examples():
    assert len(list(examples())) >= 8


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("page", "line", "directive", "code"), list(examples()))
def test_example_runs(page, line, directive, code, tmp_path):
    words = directive.split()
    if words[:1] == ["requires"]:
        missing = [m for m in words[1:] if importlib.util.find_spec(m) is None]
        if missing:
            pytest.skip(f"needs {', '.join(missing)}")
    elif words:
        raise AssertionError(f"{page.name}:{line}: unknown directive {directive!r}")
    # Line numbers in a traceback are the page's: the block starts at its line.
    script = tmp_path / "example.py"
    script.write_text("\n" * (line - 1) + code, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, f"{page.name}:{line} failed:\n{run.stdout}\n{run.stderr}"
