"""The course documents' thread-pool programs (../shared/seeds/003 and 004), run with the
import of concurrent.futures swapped for rthreading.futures and nothing else changed, except
sleeps shortened where the document's timing is not its claim. Each asserts what its document
says the program prints, and runs against the stdlib too.

The programs are copied verbatim (the documents are not part of the repository). The one that
fetches URLs gets a preamble that stands in for the network (`urllib.request.urlopen` answers
each URL with a body as long as the URL), so that its output is known.
"""

import ast

import pytest

from helpers import run_python

SWAPS = {
    "stdlib": [],
    "rthreading": [
        ("from concurrent.futures import ", "from rthreading.futures import "),
        ("import concurrent.futures\n", "import rthreading.futures\n"),
        ("concurrent.futures.", "rthreading.futures."),
    ],
}


@pytest.fixture(params=list(SWAPS), ids=list(SWAPS))
def impl(request):
    return request.param


def run_program(source, impl, preamble=""):
    """Run `source` (its imports swapped for `impl`) in a fresh interpreter; stdout lines."""
    swapped = source
    for old, new in SWAPS[impl]:
        swapped = swapped.replace(old, new)
    if impl == "rthreading":
        assert "concurrent" not in swapped and "rthreading.futures" in swapped
    proc = run_python(preamble + swapped, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc.stdout.splitlines()


# ---------------------------------------------------------------------------------------------
# 003 "Threading Module", ThreadPoolExecutor: Managed Thread Pool (sleep 1 s -> 10 ms)

MANAGED_THREAD_POOL = """\
from concurrent.futures import ThreadPoolExecutor
import time

def task(n):
    time.sleep(0.01)
    return n * n

# Use context manager for cleanup
with ThreadPoolExecutor(max_workers=4) as executor:
    # Submit individual tasks
    future = executor.submit(task, 5)
    print(f"Result: {future.result()}")  # 25

    # Map over many items
    numbers = range(10)
    results = list(executor.map(task, numbers))
    print(f"Results: {results}")
"""


def test_003_managed_thread_pool(impl):
    assert run_program(MANAGED_THREAD_POOL, impl) == [
        "Result: 25",
        "Results: [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
    ]


# 003 "With URLs": submit + as_completed over a dict of futures

WITH_URLS = """\
from concurrent.futures import ThreadPoolExecutor, as_completed
import urllib.request

def fetch_url(url):
    with urllib.request.urlopen(url, timeout=10) as response:
        return url, len(response.read())

urls = [
    "https://python.org",
    "https://github.com",
    "https://stackoverflow.com",
]

with ThreadPoolExecutor(max_workers=5) as executor:
    futures = {executor.submit(fetch_url, url): url for url in urls}

    for future in as_completed(futures):
        url = futures[future]
        try:
            url, size = future.result()
            print(f"{url}: {size:,} bytes")
        except Exception as e:
            print(f"{url}: error - {e}")
"""

# Stands in for the network: each URL's body is as long as the URL; stackoverflow fails.
FAKE_NETWORK = """\
import io, random, time, urllib.error, urllib.request

def _urlopen(url, timeout=None):
    time.sleep(random.uniform(0.001, 0.02))
    if "stackoverflow" in url:
        raise urllib.error.URLError("unreachable")
    return io.BytesIO(url.encode() * 1000)

urllib.request.urlopen = _urlopen
"""


def test_003_with_urls(impl):
    lines = run_program(WITH_URLS, impl, preamble=FAKE_NETWORK)
    assert sorted(lines) == [
        "https://github.com: 18,000 bytes",
        "https://python.org: 18,000 bytes",
        "https://stackoverflow.com: error - <urlopen error unreachable>",
    ]


# ---------------------------------------------------------------------------------------------
# 004 "ThreadPoolExecutor: managed thread pools" (fetch sleeps 0.5 s -> 10 ms)

FETCH_AS_COMPLETED = """\
import concurrent.futures
import time

def fetch_url(url):
    time.sleep(0.01)     # simulate network I/O
    return f'Response from {url}'

urls = [
    'https://api.example.com/users',
    'https://api.example.com/posts',
    'https://api.example.com/comments',
]

with concurrent.futures.ThreadPoolExecutor(max_workers=3) as executor:
    # submit all tasks and get Future objects
    futures = {executor.submit(fetch_url, url): url for url in urls}

    for future in concurrent.futures.as_completed(futures):
        url = futures[future]
        print(future.result())
"""


def test_004_submit_and_as_completed(impl):
    lines = run_program(FETCH_AS_COMPLETED, impl)
    assert sorted(lines) == sorted(f"Response from https://api.example.com/{p}" for p in ("users", "posts", "comments"))


SQUARE_MAP = """\
import concurrent.futures
import time

def square(n):
    time.sleep(0.01)
    return n * n

with concurrent.futures.ThreadPoolExecutor(max_workers=4) as executor:
    results = list(executor.map(square, range(10)))

print(results)
"""


def test_004_map_keeps_input_order(impl):
    (line,) = run_program(SQUARE_MAP, impl)
    assert ast.literal_eval(line) == [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]
