"""The example programs of the course documents (../shared/seeds/*.txt) that use Lock, RLock,
Event or Semaphore, run with `import threading` swapped for `import rthreading as threading` and
nothing else changed, except sleeps shortened where the document's timing is not its claim.
Each asserts what its document says the program does, and runs against the stdlib too.

The programs are copied here verbatim (the documents are not part of the repository); the
"# ---- driver" parts appended to a few exercise classes the documents only define.
"""

import ast
import re

from helpers import run_python


def _run(source, mod):
    """Run `source` in a fresh interpreter against `mod` (the import swapped); return stdout."""
    if mod.__name__ == "rthreading":
        assert source.count("import threading\n") == 1
        source = source.replace("import threading\n", "import rthreading as threading\n")
    proc = run_python(source, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def run_program(source, mod):
    """The program's output lines (for output that only one thread prints at a time)."""
    return _run(source, mod).splitlines()


def run_program_events(source, mod, pattern):
    """The matches of `pattern` in the program's output, in order: threads that print at the
    same moment can interleave one line's text with another's newline."""
    return re.findall(pattern, _run(source, mod))


def max_inside(events, enter, leave):
    """Most threads inside at once, from what they printed on entering and before leaving."""
    inside = peak = 0
    for event in events:
        if event.endswith(enter):
            inside += 1
            peak = max(peak, inside)
        elif event.endswith(leave):
            inside -= 1
    return peak


def peak_inside(source, mod, pattern, names, enter, leave):
    """Run a program whose threads print `name + enter` and `name + leave` (matched by `pattern`);
    check each name printed both once; return the most threads inside at once."""
    events = run_program_events(source, mod, pattern)
    assert sorted(events) == sorted([n + enter for n in names] + [n + leave for n in names])
    return max_inside(events, enter, leave)


# ---------------------------------------------------------------------------------------------
# 001 "Thread Basics": Getting Results from Threads, Method 1 (Lock)

SHARED_VARIABLE = """\
import threading

results = {}
lock = threading.Lock()

def compute(task_id, value):
    result = value ** 2
    with lock:
        results[task_id] = result

threads = []
for i in range(5):
    t = threading.Thread(target=compute, args=(i, i + 10))
    t.start()
    threads.append(t)

for t in threads:
    t.join()

print(results)  # {0: 100, 1: 121, 2: 144, 3: 169, 4: 196}
"""


def test_001_shared_variable_results(mod):
    (line,) = run_program(SHARED_VARIABLE, mod)
    assert ast.literal_eval(line) == {0: 100, 1: 121, 2: 144, 3: 169, 4: 196}


# 001 "Practical Example: Parallel Downloads" (Lock); download times 0.5-2 s -> 5-20 ms

PARALLEL_DOWNLOADS = """\
import threading
import time
import random

def download_file(filename):
    \"\"\"Simulate file download.\"\"\"
    print(f"Downloading {filename}...")
    # Simulate varying download times
    time.sleep(random.uniform(0.005, 0.02))
    print(f"Completed {filename}")
    return f"{filename}: {random.randint(100, 1000)} bytes"

def download_sequential(files):
    \"\"\"Download files one by one.\"\"\"
    results = []
    for f in files:
        results.append(download_file(f))
    return results

def download_parallel(files):
    \"\"\"Download files in parallel using threads.\"\"\"
    results = []
    lock = threading.Lock()

    def download_and_store(filename):
        result = download_file(filename)
        with lock:
            results.append(result)

    threads = []
    for f in files:
        t = threading.Thread(target=download_and_store, args=(f,))
        t.start()
        threads.append(t)

    for t in threads:
        t.join()

    return results

# Test
files = ["file1.zip", "file2.zip", "file3.zip", "file4.zip", "file5.zip"]

# Sequential
start = time.perf_counter()
download_sequential(files)
seq_time = time.perf_counter() - start
print(f"\\nSequential: {seq_time:.2f}s")

# Parallel
start = time.perf_counter()
download_parallel(files)
par_time = time.perf_counter() - start
print(f"Parallel: {par_time:.2f}s")
print(f"Speedup: {seq_time/par_time:.1f}x")
# ---- driver: what download_parallel collected
print(sorted(r.split(":")[0] for r in download_parallel(files)))
"""


def test_001_parallel_downloads(mod):
    events = run_program_events(PARALLEL_DOWNLOADS, mod, r"Completed file\d\.zip|Speedup: \d+\.\dx|\[.*\]")
    files = [f"file{i}.zip" for i in range(1, 6)]
    assert sorted(e for e in events if e.startswith("Completed")) == sorted(f"Completed {f}" for f in files * 3)
    assert sum(e.startswith("Speedup") for e in events) == 1
    assert ast.literal_eval(events[-1]) == files  # every result stored, under the lock


# ---------------------------------------------------------------------------------------------
# 002 "Threading Basics"

LOCK_COUNTER_40000 = """\
import threading

counter = 0
lock = threading.Lock()

def increment():
    global counter
    for _ in range(10000):
        with lock:
            counter += 1

# Create threads
threads = [threading.Thread(target=increment) for _ in range(4)]

for t in threads:
    t.start()

for t in threads:
    t.join()

print(counter)  # 40000 (correct with lock)
"""


def test_002_lock_counter(mod):
    assert run_program(LOCK_COUNTER_40000, mod) == ["40000"]


SHARED_COUNTER = """\
import threading

class SharedCounter:
    def __init__(self):
        self.value = 0
        self.lock = threading.Lock()

    def increment(self):
        with self.lock:
            self.value += 1

    def get(self):
        with self.lock:
            return self.value

counter = SharedCounter()

threads = [
    threading.Thread(target=counter.increment)
    for _ in range(10)
]

for t in threads:
    t.start()

for t in threads:
    t.join()

print(counter.get())
# ---- driver: many increments from many threads
def many():
    for _ in range(20000):
        counter.increment()
threads = [threading.Thread(target=many) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(counter.get())
"""


def test_002_shared_counter(mod):
    assert run_program(SHARED_COUNTER, mod) == ["10", "80010"]


# 002 "Semaphore - Limit Concurrency"; work time 2 s -> 0.1 s
SEMAPHORE_3 = """\
import threading
import time

semaphore = threading.Semaphore(3)  # Max 3 threads

def worker(name):
    with semaphore:
        print(f"{name} working")
        time.sleep(0.1)
        print(f"{name} done")

threads = [threading.Thread(target=worker, args=(f"Worker {i}",)) for i in range(10)]

for t in threads:
    t.start()

for t in threads:
    t.join()
"""


def test_002_semaphore_limits_to_3(mod):
    peak = peak_inside(
        SEMAPHORE_3, mod, r"Worker \d+ (?:working|done)", [f"Worker {i}" for i in range(10)], " working", " done"
    )
    assert peak == 3


# 002 "Event - Thread Signaling"; the setter's 2 s delay -> 0.2 s
EVENT_SIGNALING = """\
import threading
import time

event = threading.Event()

def waiter():
    print("Waiting for event...")
    event.wait()  # Blocks until set
    print("Event received!")

def setter():
    time.sleep(0.2)
    print("Setting event...")
    event.set()  # Releases all waiting threads

t1 = threading.Thread(target=waiter)
t2 = threading.Thread(target=setter)

t1.start()
t2.start()

t1.join()
t2.join()
"""


def test_002_event_signaling_order(mod):
    assert run_program(EVENT_SIGNALING, mod) == ["Waiting for event...", "Setting event...", "Event received!"]


CACHE_WITH_LOCK = """\
import threading

class Cache:
    def __init__(self):
        self.data = {}
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            return self.data.get(key)

    def set(self, key, value):
        with self.lock:
            self.data[key] = value
# ---- driver: writers and readers at once; every read sees a complete value
cache = Cache()
bad = []
def writer(w):
    for i in range(3000):
        cache.set(i % 50, (w, i, w * i))
def reader():
    for i in range(3000):
        v = cache.get(i % 50)
        if v is not None and v[2] != v[0] * v[1]:
            bad.append(v)
threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
threads += [threading.Thread(target=reader) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(len(cache.data), bad, cache.get(49)[1], cache.get("missing"))
"""


def test_002_cache_with_lock(mod):
    assert run_program(CACHE_WITH_LOCK, mod) == ["50 [] 2999 None"]


# ---------------------------------------------------------------------------------------------
# 003 "Threading Module"

LOCK_COUNTER_500000 = """\
import threading

counter = 0
lock = threading.Lock()

def safe_increment():
    global counter
    for _ in range(100_000):
        with lock:  # Only one thread at a time
            counter += 1

threads = [threading.Thread(target=safe_increment) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()

print(f"Counter: {counter}")  # Exactly 500,000!
"""


def test_003_lock_counter_exactly_500000(mod):
    assert run_program(LOCK_COUNTER_500000, mod) == ["Counter: 500000"]


RLOCK_REENTRANT = """\
import threading

rlock = threading.RLock()

def outer():
    with rlock:
        print("Outer acquired lock")
        inner()  # Can acquire same lock again

def inner():
    with rlock:  # Would deadlock with regular Lock!
        print("Inner acquired lock")

outer()
"""


def test_003_rlock_reentry(mod):
    assert run_program(RLOCK_REENTRANT, mod) == ["Outer acquired lock", "Inner acquired lock"]


THREAD_SAFE_COUNTER = """\
import threading

class ThreadSafeCounter:
    def __init__(self):
        self._value = 0
        self._lock = threading.Lock()

    def increment(self):
        with self._lock:
            self._value += 1

    def decrement(self):
        with self._lock:
            self._value -= 1

    @property
    def value(self):
        with self._lock:
            return self._value

# Usage
counter = ThreadSafeCounter()

def worker():
    for _ in range(10_000):
        counter.increment()

threads = [threading.Thread(target=worker) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()

print(f"Counter: {counter.value}")  # Exactly 100,000
# ---- driver: increments and decrements at once cancel out
def down():
    for _ in range(10_000):
        counter.decrement()
threads = [threading.Thread(target=f) for f in (worker, down, down, worker, down)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(f"Counter: {counter.value}")
"""


def test_003_thread_safe_counter(mod):
    assert run_program(THREAD_SAFE_COUNTER, mod) == ["Counter: 100000", "Counter: 90000"]


THREAD_SAFE_CACHE = """\
import threading
from typing import Any, Optional

class ThreadSafeCache:
    def __init__(self, maxsize: int = 100):
        self._cache = {}
        self._lock = threading.RLock()
        self._maxsize = maxsize

    def get(self, key: str) -> Optional[Any]:
        with self._lock:
            return self._cache.get(key)

    def set(self, key: str, value: Any):
        with self._lock:
            if len(self._cache) >= self._maxsize:
                # Remove oldest item
                oldest = next(iter(self._cache))
                del self._cache[oldest]
            self._cache[key] = value

    def get_or_compute(self, key: str, compute_func):
        with self._lock:
            if key in self._cache:
                return self._cache[key]
            value = compute_func()
            self._cache[key] = value
            return value

# Usage
cache = ThreadSafeCache()
cache.set("user:1", {"name": "Alice"})
print(cache.get("user:1"))
# ---- driver: compute functions that re-enter the cache (the RLock), from several threads;
# each key is computed once
calls = []
small = ThreadSafeCache(maxsize=10)
def compute(k):
    def f():
        calls.append(k)
        small.set(f"side:{k}", k)  # re-enters the lock held by get_or_compute
        return k * 2
    return f
def worker():
    for k in range(4):
        assert small.get_or_compute(f"k{k}", compute(k)) == k * 2
threads = [threading.Thread(target=worker) for _ in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(sorted(calls), small.get("side:3"))
"""


def test_003_thread_safe_cache(mod):
    assert run_program(THREAD_SAFE_CACHE, mod) == ["{'name': 'Alice'}", "[0, 1, 2, 3] 3"]


# 003 "Hands-on Exercise" solution; window 1.0 s -> 0.2 s
RATE_LIMITER = """\
import threading
import time
from collections import deque

class RateLimiter:
    def __init__(self, max_requests: int, window_seconds: float = 1.0):
        self.max_requests = max_requests
        self.window = window_seconds
        self.requests = deque()
        self._lock = threading.Lock()

    def acquire(self):
        \"\"\"Block until request is allowed.\"\"\"
        while True:
            with self._lock:
                now = time.time()

                # Remove old requests
                while self.requests and now - self.requests[0] > self.window:
                    self.requests.popleft()

                # Check if we can proceed
                if len(self.requests) < self.max_requests:
                    self.requests.append(now)
                    return True

            # Wait a bit before retry
            time.sleep(0.01)

# Test it
limiter = RateLimiter(max_requests=5, window_seconds=0.2)
request_times = []
lock = threading.Lock()

def make_requests(n):
    for i in range(n):
        limiter.acquire()
        with lock:
            request_times.append(time.time())
        print(f"Request at {time.time():.3f}")

# 10 requests with limit of 5/second
threads = [threading.Thread(target=make_requests, args=(5,)) for _ in range(2)]
start = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - start

print(f"\\n10 requests took {elapsed:.2f}s (expected ~2s with 5/sec limit)")
"""


def test_003_rate_limiter(mod):
    events = run_program_events(RATE_LIMITER, mod, r"Request at \d+\.\d{3}|10 requests took \S+")
    assert sum(e.startswith("Request at ") for e in events) == 10
    assert re.fullmatch(r"10 requests took \d+\.\d\ds", events[-1])
    assert float(events[-1][len("10 requests took ") : -1]) >= 0.2  # the last five waited


# ---------------------------------------------------------------------------------------------
# 004 "Python Threading" (W3docs)

LOCK_COUNTER_W3 = """\
import threading

counter = 0
lock = threading.Lock()

def safe_increment():
    global counter
    for _ in range(100_000):
        with lock:              # acquire before read-modify-write
            counter += 1        # now only one thread at a time can run this

threads = [threading.Thread(target=safe_increment) for _ in range(5)]
for t in threads:
    t.start()
for t in threads:
    t.join()

print('Final counter:', counter)   # always 500000
"""


def test_004_lock_counter_always_500000(mod):
    assert run_program(LOCK_COUNTER_W3, mod) == ["Final counter: 500000"]


RLOCK_IN_THREAD = """\
import threading

lock = threading.RLock()

def outer():
    with lock:
        print('Outer acquired')
        inner()             # inner also acquires the same lock

def inner():
    with lock:              # works because RLock counts acquisitions
        print('Inner acquired')

t = threading.Thread(target=outer)
t.start()
t.join()
# Outer acquired
# Inner acquired
"""


def test_004_rlock_reentry_in_thread(mod):
    assert run_program(RLOCK_IN_THREAD, mod) == ["Outer acquired", "Inner acquired"]


# main's 0.5 s delay before set() -> 0.2 s
EVENT_READY = """\
import threading
import time

ready = threading.Event()

def worker():
    print('Worker: waiting for signal...')
    ready.wait()            # blocks here until ready.set() is called
    print('Worker: signal received, starting work')

t = threading.Thread(target=worker)
t.start()

time.sleep(0.2)
print('Main: sending signal')
ready.set()
t.join()
# Worker: waiting for signal...
# Main: sending signal
# Worker: signal received, starting work
"""


def test_004_event_order(mod):
    assert run_program(EVENT_READY, mod) == [
        "Worker: waiting for signal...",
        "Main: sending signal",
        "Worker: signal received, starting work",
    ]


# work time 0.5 s -> 0.1 s
SEMAPHORE_2 = """\
import threading
import time

# Allow at most 2 threads to enter the critical section at once
semaphore = threading.Semaphore(2)

def use_connection(name):
    with semaphore:
        print(f'{name}: using connection')
        time.sleep(0.1)
        print(f'{name}: releasing connection')

threads = [threading.Thread(target=use_connection, args=(f'T{i}',)) for i in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_004_semaphore_never_more_than_2(mod):
    peak = peak_inside(
        SEMAPHORE_2,
        mod,
        r"T\d: (?:using|releasing) connection",
        [f"T{i}" for i in range(4)],
        ": using connection",
        ": releasing connection",
    )
    assert peak == 2
