"""The Thread, Timer and local demonstrations of the course documents (../shared/seeds/*.txt),
run with `import threading` swapped for `import rthreading as threading` and nothing else
changed, and against the stdlib too; each test asserts what its document says the program does.
(tests/test_seeds.py has the programs about Lock, RLock, Event and Semaphore.)

The programs are copied verbatim (the documents are not part of the repository). Every
`time.sleep` runs 20 times shorter (a first line the runner adds), so relative timings hold;
a `join(timeout)` that a claim measures against a sleep is shortened in the text, noted where it
is. "# ---- driver" parts appended to a few programs check claims the output does not show.

The programs use Thread, Timer, local and the module functions, and the stdlib's queue: from
3.13 on, rthreading's are the stdlib's own objects, so these run before 3.13 only.
"""

import ast
import re

import pytest

from helpers import MODULES, legacy_thread_only, run_python

# Each test runs whole programs in fresh interpreters: four copies at once (--parallel-threads)
# would only slow the run and stretch the programs' timings.
pytestmark = [pytest.mark.thread_unsafe(reason="runs programs in subprocesses"), legacy_thread_only]

# The runner's first line: every sleep `speedup` times shorter.
FASTER = "import time as _t; _t.sleep = (lambda sleep: lambda s: sleep(s / {}))(_t.sleep)\n"


def run(source, mod, *, speedup=20, check=True):
    """Run `source` in a fresh interpreter against `mod` (the import swapped, sleeps shortened);
    return the finished process, checked to have exited with 0 unless `check` is false."""
    if mod.__name__ == "rthreading":
        assert source.count("import threading\n") == 1
        source = source.replace("import threading\n", "import rthreading as threading\n")
    proc = run_python(FASTER.format(speedup) + source, timeout=60, env={"PYTHONIOENCODING": "utf-8"})
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def output(source, mod):
    """The program's output lines (for output that one thread prints at a time)."""
    return run(source, mod).stdout.splitlines()


def events(source, mod, pattern):
    """The matches of `pattern` in the output, in order: threads that print at the same moment
    can interleave one line's text with another's newline."""
    return re.findall(pattern, run(source, mod).stdout)


# ---------------------------------------------------------------------------------------------
# 000 "The threading Module"

T000_CREATING = """\
import threading

# Method 1: Pass a function
def worker(name):
    print(f"Worker {name} starting")

t = threading.Thread(target=worker, args=("A",))
t.start()
t.join()  # Wait for completion

# Method 2: Subclass Thread
class MyThread(threading.Thread):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def run(self):
        print(f"Thread {self.name} running")

t = MyThread("B")
t.start()
"""


def test_000_creating_threads(mod):
    assert output(T000_CREATING, mod) == ["Worker A starting", "Thread B running"]


T000_PROPERTIES = """\
t = threading.Thread(target=worker)

t.start()       # Start the thread
t.join(timeout=5)  # Wait for completion
t.is_alive()    # Check if running
t.name          # Thread name
t.daemon = True # Daemon thread (dies with main)

threading.current_thread()  # Get current thread
threading.active_count()    # Number of active threads
threading.enumerate()       # List all threads
"""


def test_000_properties_cheat_sheet_fails_the_same_way():
    """The cheat sheet, run after the program that defines its `worker(name)`: the thread dies
    of the missing argument, and `t.daemon = True` on a started thread raises, in both modules."""
    std, ours = (run(T000_CREATING + T000_PROPERTIES, m, check=False) for m in MODULES.values())
    assert (
        (ours.returncode, ours.stdout) == (std.returncode, std.stdout) == (1, "Worker A starting\nThread B running\n")
    )
    for proc in (std, ours):
        assert re.search(r"Exception in thread Thread-\d+ \(worker\):", proc.stderr)
    assert last_lines(ours.stderr) == last_lines(std.stderr)
    assert last_lines(ours.stderr)[-1] == "RuntimeError: cannot set daemon status of active thread"


def last_lines(stderr):
    """The exception lines of a stderr that holds tracebacks."""
    return [line for line in stderr.splitlines() if re.match(r"\w+Error: ", line)]


T000_DAEMON = """\
import threading
import time

def background_task():
    while True:
        print("Background work...")
        time.sleep(1)

# Daemon thread dies when main program exits
t = threading.Thread(target=background_task, daemon=True)
t.start()

print("Main program continues...")
time.sleep(3)
print("Main program exits, daemon dies")
"""

T000_LOCAL = """\
import threading

# Each thread gets its own copy
local_data = threading.local()

def worker(value):
    local_data.x = value  # Thread-specific
    print(f"Thread sees x = {local_data.x}")

threads = [threading.Thread(target=worker, args=(i,)) for i in range(3)]
for t in threads: t.start()
for t in threads: t.join()
"""


def test_000_thread_local_data(mod):
    assert sorted(events(T000_LOCAL, mod, r"Thread sees x = \d")) == [f"Thread sees x = {i}" for i in range(3)]


T000_PRODUCER_CONSUMER = """\
import threading
from queue import Queue

# Producer-Consumer pattern
def producer(queue):
    for i in range(5):
        queue.put(i)
        print(f"Produced {i}")

def consumer(queue):
    while True:
        item = queue.get()
        if item is None:
            break
        print(f"Consumed {item}")
        queue.task_done()

q = Queue()
p = threading.Thread(target=producer, args=(q,))
c = threading.Thread(target=consumer, args=(q,))

p.start(); c.start()
p.join()
q.put(None)  # Signal consumer to stop
c.join()
"""


def test_000_producer_consumer(mod):
    got = events(T000_PRODUCER_CONSUMER, mod, r"(?:Produced|Consumed) \d")
    assert [e for e in got if e.startswith("Produced")] == [f"Produced {i}" for i in range(5)]
    assert [e for e in got if e.startswith("Consumed")] == [f"Consumed {i}" for i in range(5)]


# ---------------------------------------------------------------------------------------------
# 001 "Thread Basics" (and its runnable tutorial)

T001_TARGET = """\
import threading
import time

def worker(name, delay):
    \"\"\"Function to run in a thread.\"\"\"
    print(f"{name}: Starting")
    time.sleep(delay)
    print(f"{name}: Finished")

# Create thread
thread = threading.Thread(target=worker, args=("Thread-1", 2))

# Start thread
thread.start()

print("Main: Thread started")

# Wait for thread to complete
thread.join()

print("Main: Thread finished")
"""


def test_001_target_function(mod):
    got = events(T001_TARGET, mod, r"Thread-1: Starting|Main: Thread started|Thread-1: Finished|Main: Thread finished")
    assert sorted(got[:2]) == ["Main: Thread started", "Thread-1: Starting"]  # either first
    assert got[2:] == ["Thread-1: Finished", "Main: Thread finished"]


T001_SUBCLASS = """\
import threading
import time

class WorkerThread(threading.Thread):
    def __init__(self, name, delay):
        super().__init__()
        self.name = name
        self.delay = delay
        self.result = None

    def run(self):
        \"\"\"Override run() method.\"\"\"
        print(f"{self.name}: Starting")
        time.sleep(self.delay)
        self.result = f"{self.name} completed"
        print(f"{self.name}: Finished")

# Create and start
thread = WorkerThread("Worker-1", 2)
thread.start()
thread.join()

print(f"Result: {thread.result}")
"""


def test_001_subclass_result(mod):
    assert output(T001_SUBCLASS, mod) == ["Worker-1: Starting", "Worker-1: Finished", "Result: Worker-1 completed"]


T001_STATES = """\
import threading
import time

def worker():
    time.sleep(1)

thread = threading.Thread(target=worker)

print(f"Created - is_alive: {thread.is_alive()}")  # False

thread.start()
print(f"Started - is_alive: {thread.is_alive()}")  # True

thread.join()
print(f"Joined - is_alive: {thread.is_alive()}")   # False
"""


def test_001_thread_states(mod):
    assert output(T001_STATES, mod) == [
        "Created - is_alive: False",
        "Started - is_alive: True",
        "Joined - is_alive: False",
    ]


T001_START_ONCE = """\
import threading

def task():
    print("Task running")

thread = threading.Thread(target=task)
thread.start()  # Returns immediately, thread runs in background

# Can only start a thread once
# thread.start()  # RuntimeError: threads can only be started once
"""


def test_001_start_only_once(mod):
    driver = (
        "# ---- driver: the commented-out second start()\n"
        "try:\n    thread.start()\nexcept RuntimeError as e:\n    print(e)\n"
    )
    got = events(T001_START_ONCE + driver, mod, r"Task running|threads can only be started once")
    assert sorted(got) == ["Task running", "threads can only be started once"]  # not joined


T001_JOIN = """\
import threading
import time

def slow_task():
    time.sleep(2)
    print("Slow task done")

thread = threading.Thread(target=slow_task)
thread.start()

print("Waiting for thread...")
thread.join()  # Blocks until thread completes
print("Thread finished")

# With timeout
thread2 = threading.Thread(target=slow_task)
thread2.start()
thread2.join(timeout=1)  # Wait at most 1 second

if thread2.is_alive():
    print("Thread still running after timeout")
"""


def test_001_join_and_join_with_timeout(mod):
    # the 1-second join timeout against the 2-second task -> 0.05 s against 0.1 s
    source = T001_JOIN.replace("thread2.join(timeout=1)", "thread2.join(timeout=0.05)")
    assert output(source, mod) == [
        "Waiting for thread...",
        "Slow task done",
        "Thread finished",
        "Thread still running after timeout",
        "Slow task done",  # thread2, not a daemon: the interpreter waits for it at exit
    ]


T001_MULTIPLE = """\
import threading
import time

def worker(worker_id):
    print(f"Worker {worker_id}: Starting")
    time.sleep(1)
    print(f"Worker {worker_id}: Done")

# Create threads
threads = []
for i in range(5):
    t = threading.Thread(target=worker, args=(i,))
    threads.append(t)

# Start all threads
for t in threads:
    t.start()

# Wait for all threads to complete
for t in threads:
    t.join()

print("All workers finished")
"""


def test_001_multiple_threads(mod):
    got = events(T001_MULTIPLE, mod, r"Worker \d: (?:Starting|Done)|All workers finished")
    assert sorted(got[:-1]) == sorted(
        [f"Worker {i}: Starting" for i in range(5)] + [f"Worker {i}: Done" for i in range(5)]
    )
    assert got[-1] == "All workers finished"


T001_COMPACT = """\
import threading

def worker(n):
    return n * 2

# Create, start, and collect threads
threads = []
for i in range(5):
    t = threading.Thread(target=worker, args=(i,))
    t.start()
    threads.append(t)

# Wait for all
for t in threads:
    t.join()
"""


def test_001_compact_pattern(mod):
    assert run(T001_COMPACT, mod).stdout == ""


T001_ARGS = """\
import threading

def greet(name, greeting):
    print(f"{greeting}, {name}!")

# Pass as tuple
thread = threading.Thread(target=greet, args=("Alice", "Hello"))
thread.start()
thread.join()
"""


def test_001_positional_arguments(mod):
    assert output(T001_ARGS, mod) == ["Hello, Alice!"]


T001_KWARGS = """\
import threading

def greet(name, greeting="Hi"):
    print(f"{greeting}, {name}!")

# Pass as dict
thread = threading.Thread(target=greet, kwargs={"name": "Bob", "greeting": "Hey"})
thread.start()
thread.join()

# Mixed
thread = threading.Thread(target=greet, args=("Charlie",), kwargs={"greeting": "Howdy"})
thread.start()
thread.join()
"""


def test_001_keyword_and_mixed_arguments(mod):
    assert output(T001_KWARGS, mod) == ["Hey, Bob!", "Howdy, Charlie!"]


T001_QUEUE_RESULTS = """\
import threading
import queue

def compute(value, result_queue):
    result = value ** 2
    result_queue.put((value, result))

result_queue = queue.Queue()
threads = []

for i in range(5):
    t = threading.Thread(target=compute, args=(i, result_queue))
    t.start()
    threads.append(t)

for t in threads:
    t.join()

# Collect results
results = []
while not result_queue.empty():
    results.append(result_queue.get())

print(results)
"""


def test_001_results_through_a_queue(mod):
    (line,) = output(T001_QUEUE_RESULTS, mod)
    assert sorted(ast.literal_eval(line)) == [(i, i * i) for i in range(5)]


T001_SUBCLASS_RESULTS = """\
import threading

class ComputeThread(threading.Thread):
    def __init__(self, value):
        super().__init__()
        self.value = value
        self.result = None

    def run(self):
        self.result = self.value ** 2

threads = [ComputeThread(i) for i in range(5)]

for t in threads:
    t.start()

for t in threads:
    t.join()

results = [t.result for t in threads]
print(results)  # [0, 1, 4, 9, 16]
"""


def test_001_results_through_subclass_attributes(mod):
    assert output(T001_SUBCLASS_RESULTS, mod) == ["[0, 1, 4, 9, 16]"]


T001_NAMES = """\
import threading

def worker():
    print(f"Running in: {threading.current_thread().name}")

# Auto-generated name
t1 = threading.Thread(target=worker)
t1.start()  # "Thread-1"

# Custom name
t2 = threading.Thread(target=worker, name="MyWorker")
t2.start()  # "MyWorker"
"""


def test_001_auto_and_custom_names(mod):
    got = events(T001_NAMES, mod, r"Running in: (?:MyWorker|Thread-\d+ \(worker\))")
    # "Thread-1" in the document; since 3.10 the auto name also names the target
    assert sorted(got) == ["Running in: MyWorker", "Running in: Thread-1 (worker)"]


T001_DAEMON = """\
import threading
import time

def background_task():
    while True:
        print("Background running...")
        time.sleep(1)

# Non-daemon (default): program waits for thread
t1 = threading.Thread(target=background_task)
t1.daemon = False  # Default
# t1.start()  # Program would never exit!

# Daemon: thread killed when main exits
t2 = threading.Thread(target=background_task, daemon=True)
t2.start()

time.sleep(3)
print("Main exiting...")
# Daemon thread is killed here
"""

T001_INFO = """\
import threading

def show_info():
    current = threading.current_thread()
    print(f"Name: {current.name}")
    print(f"Ident: {current.ident}")
    print(f"Native ID: {current.native_id}")
    print(f"Daemon: {current.daemon}")
    print(f"Is alive: {current.is_alive()}")

thread = threading.Thread(target=show_info, name="InfoThread")
thread.start()
thread.join()

# Main thread info
print(f"\\nMain thread: {threading.main_thread().name}")
print(f"Active threads: {threading.active_count()}")
print(f"All threads: {threading.enumerate()}")
"""


def test_001_current_thread_info(mod):
    lines = output(T001_INFO, mod)
    assert [re.sub(r"\d+", "N", line) for line in lines] == [
        "Name: InfoThread",
        "Ident: N",
        "Native ID: N",
        "Daemon: False",
        "Is alive: True",
        "",
        "Main thread: MainThread",
        "Active threads: N",
        "All threads: [<_MainThread(MainThread, started N)>]",
    ]
    assert lines[7] == "Active threads: 1"


T001_EXCEPTION = """\
import threading
import time

def risky_task():
    time.sleep(0.5)
    raise ValueError("Something went wrong!")

thread = threading.Thread(target=risky_task)
thread.start()
thread.join()

print("Main continues...")  # This still runs!
# Exception is printed but not raised in main thread
"""


def test_001_exception_in_a_thread_does_not_propagate(mod):
    proc = run(T001_EXCEPTION, mod)
    assert proc.stdout == "Main continues...\n"
    assert proc.stderr.startswith("Exception in thread Thread-1 (risky_task):\nTraceback")
    assert proc.stderr.rstrip().endswith("ValueError: Something went wrong!")


T001_SAFE_THREAD = """\
import threading
import traceback

class SafeThread(threading.Thread):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.exception = None

    def run(self):
        try:
            if self._target:
                self._target(*self._args, **self._kwargs)
        except Exception as e:
            self.exception = e
            self.traceback = traceback.format_exc()

def risky_task():
    raise ValueError("Error!")

thread = SafeThread(target=risky_task)
thread.start()
thread.join()

if thread.exception:
    print(f"Thread raised: {thread.exception}")
    print(thread.traceback)
"""


def test_001_catching_exceptions_in_a_subclass(mod):
    lines = output(T001_SAFE_THREAD, mod)
    assert lines[:2] == ["Thread raised: Error!", "Traceback (most recent call last):"]
    assert [line for line in lines if line][-1] == "ValueError: Error!"


T001_TUTORIAL = """\
import threading
import time
import random
from queue import Queue


def thread_properties_and_methods():
    \"\"\"
    Explore thread properties: name, ident, daemon status, alive status.
    \"\"\"
    print("=" * 70)
    print("INTERMEDIATE: Thread Properties and Methods")
    print("=" * 70)

    def worker(duration):
        \"\"\"Worker that sleeps for specified duration\"\"\"
        time.sleep(duration)

    # Create a thread
    thread = threading.Thread(
        target=worker,
        args=(2,),
        name="MyWorkerThread"
    )

    print("\\n📊 Before Starting:")
    print(f"  Name: {thread.name}")
    print(f"  Daemon: {thread.daemon}")
    print(f"  Is alive: {thread.is_alive()}")
    print(f"  Ident: {thread.ident}")  # None until started

    # Start the thread
    thread.start()

    print("\\n📊 After Starting:")
    print(f"  Name: {thread.name}")
    print(f"  Daemon: {thread.daemon}")
    print(f"  Is alive: {thread.is_alive()}")
    print(f"  Ident: {thread.ident}")  # Now has an ID

    # Wait for completion
    thread.join()

    print("\\n📊 After Completion:")
    print(f"  Is alive: {thread.is_alive()}")
    print(f"  Ident: {thread.ident}")  # Still has ID

    # Current thread info
    print("\\n📊 Current (Main) Thread:")
    current = threading.current_thread()
    print(f"  Name: {current.name}")
    print(f"  Ident: {current.ident}")

    # All active threads
    print("\\n📊 All Active Threads:")
    for t in threading.enumerate():
        print(f"  - {t.name} (daemon={t.daemon}, alive={t.is_alive()})")

    print("\\n" + "=" * 70 + "\\n")


def thread_joining_patterns():
    \"\"\"
    Different patterns for waiting on threads with join().
    \"\"\"
    print("=" * 70)
    print("INTERMEDIATE: Thread Joining Patterns")
    print("=" * 70)

    def task(task_id, duration):
        \"\"\"Task that takes specified time to complete\"\"\"
        print(f"  Task {task_id} started")
        time.sleep(duration)
        print(f"  Task {task_id} completed")

    # Pattern 1: Join with timeout
    print("\\n📝 Pattern 1: Join with Timeout")
    thread = threading.Thread(target=task, args=(1, 2))
    thread.start()

    print("  Waiting up to 1 second...")
    thread.join(timeout=1.0)  # Wait max 1 second

    if thread.is_alive():
        print("  ⏱️  Timeout! Thread still running")
        print("  Continuing without waiting...")
        thread.join()  # Wait for actual completion

    # Pattern 2: Join all threads
    print("\\n📝 Pattern 2: Join All Threads")
    threads = []
    for i in range(3):
        t = threading.Thread(target=task, args=(i+2, 1))
        threads.append(t)
        t.start()

    print("  Waiting for all threads...")
    for t in threads:
        t.join()
    print("  ✓ All threads completed")

    # Pattern 3: Non-blocking check
    print("\\n📝 Pattern 3: Non-blocking Status Check")
    thread = threading.Thread(target=task, args=(5, 1.5))
    thread.start()

    while thread.is_alive():
        print("  Thread still running, doing other work...")
        time.sleep(0.5)

    print("  ✓ Thread finished")

    print("\\n" + "=" * 70 + "\\n")


class WorkerThread(threading.Thread):
    \"\"\"
    Advanced: Custom thread class by inheriting from threading.Thread.
    Override run() method to define thread behavior.
    \"\"\"

    def __init__(self, task_name, iterations):
        \"\"\"
        Initialize the custom thread.

        Args:
            task_name: Name of the task
            iterations: Number of iterations to perform
        \"\"\"
        # IMPORTANT: Call parent __init__
        super().__init__()

        # Store instance variables
        self.task_name = task_name
        self.iterations = iterations
        self.result = None

    def run(self):
        \"\"\"
        This method is called when start() is invoked.
        Override this to define what the thread does.
        \"\"\"
        print(f"[{self.name}] Starting task: {self.task_name}")

        # Perform work
        total = 0
        for i in range(self.iterations):
            total += i
            if i % 100000 == 0:
                time.sleep(0.01)  # Simulate some I/O

        # Store result
        self.result = total

        print(f"[{self.name}] Completed task: {self.task_name}")
        print(f"[{self.name}] Result: {self.result}")


def custom_thread_class_example():
    \"\"\"
    Demonstrate using a custom thread class.
    \"\"\"
    print("=" * 70)
    print("ADVANCED: Custom Thread Class")
    print("=" * 70)

    print("\\n📝 Creating custom thread instances:\\n")

    # Create thread instances
    thread1 = WorkerThread("Calculate-A", 500000)
    thread2 = WorkerThread("Calculate-B", 300000)

    # Give them custom names
    thread1.name = "Calculator-1"
    thread2.name = "Calculator-2"

    # Start them
    thread1.start()
    thread2.start()

    # Wait for completion
    thread1.join()
    thread2.join()

    # Access results
    print(f"\\n📊 Results:")
    print(f"  Thread 1 result: {thread1.result}")
    print(f"  Thread 2 result: {thread2.result}")

    print("\\n💡 Benefits of Custom Thread Class:")
    print("  ✓ Encapsulate thread logic")
    print("  ✓ Store thread-specific data")
    print("  ✓ Easier to access results")
    print("  ✓ More object-oriented design")

    print("\\n" + "=" * 70 + "\\n")


def thread_local_storage_example():
    \"\"\"
    Thread-local storage: Each thread gets its own copy of data.
    Useful for storing per-thread state without passing it around.
    \"\"\"
    print("=" * 70)
    print("ADVANCED: Thread-Local Storage")
    print("=" * 70)

    # Create thread-local storage
    thread_local = threading.local()

    def worker(worker_id):
        \"\"\"
        Each thread stores its own data in thread_local.

        Args:
            worker_id: Worker identifier
        \"\"\"
        # Store thread-specific data
        thread_local.worker_id = worker_id
        thread_local.counter = 0
        thread_local.name = f"Worker-{worker_id}"

        print(f"[{thread_local.name}] Starting work")

        # Do some work
        for i in range(5):
            thread_local.counter += 1
            time.sleep(0.1)
            print(f"[{thread_local.name}] Counter: {thread_local.counter}")

        # Access thread-specific data
        print(f"[{thread_local.name}] Final state:")
        print(f"  Worker ID: {thread_local.worker_id}")
        print(f"  Counter: {thread_local.counter}")

    print("\\n📝 Starting threads with thread-local storage:\\n")

    threads = []
    for i in range(3):
        thread = threading.Thread(target=worker, args=(i,))
        threads.append(thread)
        thread.start()

    # Wait for all
    for thread in threads:
        thread.join()

    print("\\n💡 Key Points:")
    print("  • Each thread has its own copy of thread_local data")
    print("  • No need for locks when accessing thread_local")
    print("  • Data automatically cleaned up when thread exits")
    print("  • Useful for database connections, request contexts, etc.")

    print("\\n" + "=" * 70 + "\\n")
"""


TUTORIAL_DRIVER = """
# ---- driver: the tutorial's main() runs every demonstration; these are its Thread/local ones
thread_properties_and_methods()
thread_joining_patterns()
custom_thread_class_example()
thread_local_storage_example()
"""


def test_001_tutorial(mod):
    # Pattern 1's 1-second join timeout against its 2-second task -> 0.05 s against 0.1 s
    source = T001_TUTORIAL.replace("thread.join(timeout=1.0)", "thread.join(timeout=0.05)")
    text = run(source + TUTORIAL_DRIVER, mod).stdout
    # properties: no ident before start, alive while running, not after; main among the threads
    assert re.findall(r"Is alive: (?:True|False)|Ident: (?:None|\d+)", text)[:6] == [
        "Is alive: False",
        "Ident: None",
        "Is alive: True",
        f"Ident: {ident(text, 1)}",
        "Is alive: False",
        f"Ident: {ident(text, 1)}",
    ]
    assert "  - MainThread (daemon=False, alive=True)" in text
    # joining: the timed join gave up, the thread was then waited for; the others all finished
    assert "Timeout! Thread still running" in text
    assert text.index("Task 1 completed") < text.index("Pattern 2")
    assert re.findall(r"Task [234] completed|All threads completed", text)[-1] == ("All threads completed")
    assert "Thread still running, doing other work..." in text
    assert text.index("Task 5 completed") < text.index("✓ Thread finished")
    # the subclass's results, under the names set after construction
    assert "[Calculator-1] Result: 124999750000" in text
    assert "[Calculator-2] Result: 44999850000" in text
    assert "Thread 1 result: 124999750000" in text and "Thread 2 result: 44999850000" in text
    # thread-local storage: each worker counts 1..5 in its own copy
    counts = re.findall(r"\[Worker-(\d)\] Counter: (\d)", text)
    for w in "012":
        assert [c for who, c in counts if who == w] == list("12345")
    assert sorted(re.findall(r"Worker ID: \d", text)) == [f"Worker ID: {i}" for i in range(3)]
    assert re.findall(r"  Counter: \d", text) == ["  Counter: 5"] * 3


def ident(text, n):
    """The n-th (1-based) thread ident printed in the tutorial's output."""
    return re.findall(r"Ident: (\d+)", text)[n - 1]


# ---------------------------------------------------------------------------------------------
# 002 "Threading Basics"

T002_CREATING = """\
import threading
import time

def worker(name, delay):
    print(f"{name} starting")
    time.sleep(delay)
    print(f"{name} finished")

# Create threads
t1 = threading.Thread(target=worker, args=("Worker 1", 2))
t2 = threading.Thread(target=worker, args=("Worker 2", 3))

# Start threads
t1.start()
t2.start()

# Wait for completion
t1.join()
t2.join()
"""


def test_002_creating_threads(mod):
    got = events(T002_CREATING, mod, r"Worker \d (?:starting|finished)")
    assert sorted(got[:2]) == ["Worker 1 starting", "Worker 2 starting"]
    assert got[2:] == ["Worker 1 finished", "Worker 2 finished"]  # 2 s, then 3 s


T002_SUBCLASS = """\
import threading
import time

class WorkerThread(threading.Thread):
    def __init__(self, name):
        super().__init__()
        self.name = name

    def run(self):
        print(f"{self.name} starting")
        time.sleep(1)
        print(f"{self.name} finished")

thread = WorkerThread("Custom Worker")
thread.start()
thread.join()
"""


def test_002_thread_subclass(mod):
    assert output(T002_SUBCLASS, mod) == ["Custom Worker starting", "Custom Worker finished"]


T002_QUEUE = """\
import threading
import queue
import time

def producer(q):
    for i in range(5):
        time.sleep(0.1)
        q.put(f"Item {i}")
    q.put(None)  # Sentinel

def consumer(q):
    while True:
        item = q.get()
        if item is None:
            break
        print(f"Consumed: {item}")

q = queue.Queue()
t1 = threading.Thread(target=producer, args=(q,))
t2 = threading.Thread(target=consumer, args=(q,))

t1.start()
t2.start()

t1.join()
t2.join()
"""


def test_002_communication_with_a_queue(mod):
    assert output(T002_QUEUE, mod) == [f"Consumed: Item {i}" for i in range(5)]


T002_DAEMON = """\
import threading
import time

def background_task():
    while True:
        print("Background task running")
        time.sleep(1)

# Daemon thread - exits when main thread exits
thread = threading.Thread(target=background_task, daemon=True)
thread.start()

time.sleep(3)
print("Main thread ending, daemon stops")
"""

T002_LOCAL = """\
import threading

# Thread-local data (not shared)
thread_local = threading.local()

def process():
    # Each thread gets its own value
    if not hasattr(thread_local, 'value'):
        thread_local.value = 0
    thread_local.value += 1
    print(f"Thread local value: {thread_local.value}")

threads = [threading.Thread(target=process) for _ in range(5)]

for t in threads:
    t.start()

for t in threads:
    t.join()
"""


def test_002_thread_local_storage(mod):
    assert events(T002_LOCAL, mod, r"Thread local value: \d+") == ["Thread local value: 1"] * 5


# ---------------------------------------------------------------------------------------------
# 003 "Threading Module"

T003_CREATING = """\
import threading
import time

def worker(name, seconds):
    print(f"Thread {name}: starting")
    time.sleep(seconds)
    print(f"Thread {name}: done")

# Create thread
t = threading.Thread(target=worker, args=("A", 2))

# Start thread
t.start()

print("Main: thread started")

# Wait for thread to finish
t.join()

print("Main: thread done")
"""


def test_003_creating_threads(mod):
    got = events(T003_CREATING, mod, r"Thread A: starting|Main: thread started|Thread A: done|Main: thread done")
    assert sorted(got[:2]) == ["Main: thread started", "Thread A: starting"]
    assert got[2:] == ["Thread A: done", "Main: thread done"]


T003_RESULTS = """\
import threading

def worker(n, results, index):
    \"\"\"Store result in shared list.\"\"\"
    result = n * n
    results[index] = result

# Shared storage for results
results = [None, None, None]

threads = []
for i, n in enumerate([10, 20, 30]):
    t = threading.Thread(target=worker, args=(n, results, i))
    threads.append(t)
    t.start()

for t in threads:
    t.join()

print(f"Results: {results}")  # [100, 400, 900]
"""


def test_003_return_values_through_a_shared_list(mod):
    assert output(T003_RESULTS, mod) == ["Results: [100, 400, 900]"]


T003_PRODUCER_CONSUMER = """\
import threading
import queue
import time
import random

def producer(q: queue.Queue, name: str):
    for i in range(5):
        item = f"{name}-item-{i}"
        q.put(item)
        print(f"Producer {name}: added {item}")
        time.sleep(random.uniform(0.1, 0.5))
    q.put(None)  # Signal done

def consumer(q: queue.Queue, name: str):
    while True:
        item = q.get()
        if item is None:
            q.put(None)  # Pass signal
            break
        print(f"Consumer {name}: got {item}")
        q.task_done()

q = queue.Queue(maxsize=3)

# Start threads
t1 = threading.Thread(target=producer, args=(q, "P1"))
t2 = threading.Thread(target=consumer, args=(q, "C1"))
t3 = threading.Thread(target=consumer, args=(q, "C2"))

t1.start()
t2.start()
t3.start()

t1.join()
t2.join()
t3.join()
"""


def test_003_producer_and_two_consumers(mod):
    got = events(T003_PRODUCER_CONSUMER, mod, r"added P1-item-\d|got P1-item-\d")
    items = [f"P1-item-{i}" for i in range(5)]
    assert [e[len("added ") :] for e in got if e.startswith("added")] == items
    assert sorted(e[len("got ") :] for e in got if e.startswith("got")) == items


T003_DAEMON = """\
import threading
import time

def background_worker():
    \"\"\"Runs in background, exits when main thread exits.\"\"\"
    while True:
        print("Background: working...")
        time.sleep(1)

# Daemon thread exits when main thread ends
t = threading.Thread(target=background_worker, daemon=True)
t.start()

# Main thread work
print("Main: doing work")
time.sleep(3)
print("Main: exiting (daemon will stop)")
"""

T003_LOCAL = """\
import threading

# Thread-local storage
local_data = threading.local()

def worker(name):
    local_data.name = name  # Each thread has own copy
    process()

def process():
    print(f"Processing for: {local_data.name}")

threads = [
    threading.Thread(target=worker, args=("Alice",)),
    threading.Thread(target=worker, args=("Bob",)),
]

for t in threads:
    t.start()
for t in threads:
    t.join()
"""


def test_003_per_thread_data(mod):
    assert sorted(events(T003_LOCAL, mod, r"Processing for: (?:Alice|Bob)")) == [
        "Processing for: Alice",
        "Processing for: Bob",
    ]


# ---------------------------------------------------------------------------------------------
# 004 "Python Threading" (W3docs)

T004_START = """\
import threading
import time

def greet(name):
    time.sleep(0.5)         # simulate some work
    print(f'Hello, {name}!')

t = threading.Thread(target=greet, args=('Alice',))
t.start()
print('Thread started — main continues running')
t.join()                    # wait for the thread to finish
print('Thread finished')
# Thread started — main continues running
# Hello, Alice!
# Thread finished
"""


def test_004_start_returns_at_once(mod):
    assert output(T004_START, mod) == ["Thread started — main continues running", "Hello, Alice!", "Thread finished"]


T004_KWARGS = """\
import threading

def connect(host, port=80):
    print(f'Connecting to {host}:{port}')

t = threading.Thread(target=connect, kwargs={'host': 'example.com', 'port': 443})
t.start()
t.join()
# Connecting to example.com:443
"""


def test_004_keyword_arguments(mod):
    assert output(T004_KWARGS, mod) == ["Connecting to example.com:443"]


T004_DOWNLOADS = """\
import threading
import time

def download(url):
    time.sleep(1)           # simulate a 1-second network request
    print(f'Downloaded: {url}')

urls = [
    'https://example.com/data1',
    'https://example.com/data2',
    'https://example.com/data3',
]

start = time.perf_counter()

threads = [threading.Thread(target=download, args=(url,)) for url in urls]
for t in threads:
    t.start()
for t in threads:
    t.join()

elapsed = time.perf_counter() - start
print(f'All downloads finished in {elapsed:.1f}s')
# Downloaded: https://example.com/data1
# Downloaded: https://example.com/data2
# Downloaded: https://example.com/data3
# All downloads finished in 1.0s
"""


OVERLAP_DRIVER = """
# ---- driver: the waits overlap: every download started before any finished
spans = {}
def timed(url):
    begin = time.perf_counter()
    download(url)
    spans[url] = (begin, time.perf_counter())
threads = [threading.Thread(target=timed, args=(url,)) for url in urls]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("overlapped:", max(b for b, e in spans.values()) < min(e for b, e in spans.values()))
"""


def test_004_parallel_downloads_overlap(mod):
    text = run(T004_DOWNLOADS + OVERLAP_DRIVER, mod, speedup=5).stdout  # 1 s -> 0.2 s
    urls = [f"Downloaded: https://example.com/data{i}" for i in (1, 2, 3)]
    got = re.findall(r"Downloaded: https://example\.com/data\d", text)
    assert sorted(got) == sorted(urls * 2)
    assert re.search(r"All downloads finished in \d+\.\ds\n", text)
    assert text.endswith("overlapped: True\n")


T004_SUBCLASS = """\
import threading
import time

class DownloadThread(threading.Thread):
    def __init__(self, url):
        super().__init__()
        self.url = url
        self.result = None

    def run(self):
        time.sleep(0.5)     # simulate download
        self.result = f'Data from {self.url}'

threads = [DownloadThread(f'https://example.com/page{i}') for i in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()

for t in threads:
    print(t.result)
# Data from https://example.com/page0
# Data from https://example.com/page1
# Data from https://example.com/page2
"""


def test_004_results_on_the_subclass(mod):
    assert output(T004_SUBCLASS, mod) == [f"Data from https://example.com/page{i}" for i in range(3)]


T004_DAEMON = """\
import threading
import time

def heartbeat():
    while True:
        print('♥ still running')
        time.sleep(1)

t = threading.Thread(target=heartbeat, daemon=True)
t.start()

time.sleep(2.5)
print('Main thread exiting — daemon will be killed')
# ♥ still running
# ♥ still running
# Main thread exiting — daemon will be killed
"""


@pytest.mark.parametrize(
    "program, background, last",
    [
        (T000_DAEMON, "Background work...", "Main program exits, daemon dies"),
        (T001_DAEMON, "Background running...", "Main exiting..."),
        (T002_DAEMON, "Background task running", "Main thread ending, daemon stops"),
        (T003_DAEMON, "Background: working...", "Main: exiting (daemon will stop)"),
        (T004_DAEMON, "♥ still running", "Main thread exiting — daemon will be killed"),
    ],
    ids=["000", "001", "002", "003", "004"],
)
def test_daemon_threads_do_not_keep_the_process_alive(mod, program, background, last):
    """Each document's daemon program: the loop runs while main sleeps, and the process ends
    when main does (run() would time out otherwise) though the loop never returns."""
    got = events(program, mod, re.escape(background) + "|" + re.escape(last))
    assert got.count(background) >= 1 and got.count(last) == 1


T004_NAMES = """\
import threading

def worker():
    t = threading.current_thread()
    print(f'Running in thread: {t.name}')

t = threading.Thread(target=worker, name='WorkerThread-1')
t.start()
t.join()

print(f'Active threads: {threading.active_count()}')
# Running in thread: WorkerThread-1
# Active threads: 1
"""


def test_004_names_and_active_count(mod):
    assert output(T004_NAMES, mod) == ["Running in thread: WorkerThread-1", "Active threads: 1"]


T004_LOCAL = """\
import threading

local_data = threading.local()

def set_user(name):
    local_data.user = name       # each thread writes its own copy
    print(f'{threading.current_thread().name}: user = {local_data.user}')

threads = [
    threading.Thread(target=set_user, args=(f'user{i}',), name=f'Thread-{i}')
    for i in range(3)
]
for t in threads:
    t.start()
for t in threads:
    t.join()
# Thread-0: user = user0
# Thread-1: user = user1
# Thread-2: user = user2
"""


def test_004_thread_local_data(mod):
    assert sorted(events(T004_LOCAL, mod, r"Thread-\d: user = user\d")) == [
        f"Thread-{i}: user = user{i}" for i in range(3)
    ]


T004_QUEUE = """\
import threading
import queue
import time

q = queue.Queue(maxsize=5)

def producer():
    for i in range(1, 5):
        q.put(f'item-{i}')
        print(f'Produced item-{i}')
        time.sleep(0.05)

def consumer():
    while True:
        item = q.get()
        if item is None:        # sentinel: stop when None is received
            break
        print(f'Consumed {item}')
        q.task_done()

prod = threading.Thread(target=producer)
cons = threading.Thread(target=consumer)

cons.start()
prod.start()
prod.join()
q.put(None)     # signal consumer to stop
cons.join()
# Produced item-1
# Consumed item-1
# Produced item-2
# Consumed item-2
# Produced item-3
# Consumed item-3
# Produced item-4
# Consumed item-4
"""


def test_004_thread_safe_queue(mod):
    got = events(T004_QUEUE, mod, r"(?:Produced|Consumed) item-\d")
    assert [e for e in got if e.startswith("Produced")] == [f"Produced item-{i}" for i in range(1, 5)]
    assert [e for e in got if e.startswith("Consumed")] == [f"Consumed item-{i}" for i in range(1, 5)]
