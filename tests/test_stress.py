"""Stress, bounded and repeated, against the stdlib and rthreading (the same invariants hold for
both): producers and consumers over every queue class with random timeouts, non-blocking
failures and a shutdown in the middle; Condition notify/notify_all storms; a Barrier aborted and
reset under load; a pool with raising, cancelled and slow tasks mixed.

Randomness is seeded: each case runs with seeds SEED, SEED+1, ... (SEED from the environment
variable RTHREADING_STRESS_SEED, else random) and a failure names its seed.
"""

import collections
import os
import queue as std_queue
import random
import threading
import time
import concurrent.futures as std_futures

import pytest

import rthreading
import rthreading.futures as r_futures
import rthreading.queue as r_queue

pytestmark = pytest.mark.thread_unsafe(reason="starts many threads of its own")

SEED = int(os.environ.get("RTHREADING_STRESS_SEED", random.randrange(1 << 30)))
REPS = 2
QUEUES = {"queue": std_queue, "rthreading.queue": r_queue}
THREADING = {"threading": threading, "rthreading": rthreading}
FUTURES = {"concurrent.futures": std_futures, "rthreading.futures": r_futures}


def seeds():
    return [SEED + i for i in range(REPS)]


def join_all(threads, what, seed, limit=30.0):
    end = time.monotonic() + limit
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"seed {seed}: {what}: threads never finished (lost wake-up?): {stuck}"


# --- queues ------------------------------------------------------------------------------------

STOP = (float("inf"), -1, -1)  # sorts after every item in a PriorityQueue


def queue_run(qmod, cls_name, seed, shutdown):
    """Producers and consumers over one queue; returns (produced, accepted, refused, received,
    leftover) for the invariants."""
    rnd = random.Random(seed)
    n_prod, n_cons, per_prod = rnd.randint(2, 4), rnd.randint(2, 4), rnd.randint(150, 400)
    cls = getattr(qmod, cls_name)
    simple = cls_name == "SimpleQueue"
    q = cls() if simple else cls(rnd.choice([0, 1, 3, 16]))
    timeouts = [0, 0.0001, 0.001, 0.005]
    accepted, refused, received = [], [], []
    record = threading.Lock()
    ShutDown = getattr(qmod, "ShutDown", ())

    def producer(p, r):
        mine_ok, mine_refused = [], []
        for i in range(per_prod):
            item = (p, i, r.random())
            how = r.random()
            try:
                if how < 0.25 and not simple:
                    q.put_nowait(item)
                elif how < 0.6 and not simple:
                    q.put(item, timeout=r.choice(timeouts))
                else:
                    q.put(item)
                mine_ok.append(item)
            except std_queue.Full:
                mine_refused.append(item)
            except ShutDown:
                mine_refused.append(item)
                break  # the rest is never offered
        with record:
            accepted.extend(mine_ok)
            refused.extend(mine_refused)

    def consumer(r):
        mine = []
        while True:
            how = r.random()
            try:
                if how < 0.25:
                    item = q.get_nowait()
                elif how < 0.6:
                    item = q.get(timeout=r.choice(timeouts))
                else:
                    item = q.get(timeout=5)  # bounded: "forever" would hide a hang until timeout
            except std_queue.Empty:
                continue
            except ShutDown:
                break
            if not simple:
                q.task_done()
            if item == STOP:
                break
            mine.append(item)
        with record:
            received.extend(mine)

    producers = [
        threading.Thread(target=producer, args=(p, random.Random(rnd.random())), name=f"producer-{p}")
        for p in range(n_prod)
    ]
    consumers = [
        threading.Thread(target=consumer, args=(random.Random(rnd.random()),), name=f"consumer-{c}")
        for c in range(n_cons)
    ]
    for t in consumers + producers:
        t.start()
    if shutdown:
        time.sleep(rnd.choice([0, 0.001, 0.005, 0.02]))
        q.shutdown()
        join_all(producers + consumers, f"{cls_name} with shutdown", seed)
    else:
        join_all(producers, f"{cls_name} producers", seed)
        for _ in consumers:
            q.put(STOP)
        join_all(consumers, f"{cls_name} consumers", seed)
    leftover = []  # a LifoQueue's consumers meet the STOPs before the last items
    while True:
        try:
            item = q.get_nowait()
        except (std_queue.Empty, *((ShutDown,) if shutdown else ())):
            break
        if not simple:
            q.task_done()
        if item != STOP:
            leftover.append(item)
    if not simple:
        assert q.unfinished_tasks == 0, f"seed {seed}"
        q.join()  # returns at once
    produced = n_prod * per_prod
    return produced, accepted, refused, received + leftover


def check_queue_invariants(seed, produced, accepted, refused, delivered):
    counts = collections.Counter(delivered)
    dup = [item for item, n in counts.items() if n > 1]
    assert not dup, f"seed {seed}: delivered twice: {dup[:5]}"
    assert collections.Counter(accepted) == counts, (
        f"seed {seed}: lost {len(set(accepted) - set(counts))}, never accepted {len(set(counts) - set(accepted))}"
    )
    assert not set(accepted) & set(refused), f"seed {seed}"
    assert len(accepted) + len(refused) <= produced, f"seed {seed}"


@pytest.mark.parametrize("cls_name", ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"])
@pytest.mark.parametrize("qmod_name", list(QUEUES))
@pytest.mark.timeout(120)
def test_queue_producers_consumers(qmod_name, cls_name):
    for seed in seeds():
        produced, accepted, refused, delivered = queue_run(QUEUES[qmod_name], cls_name, seed, shutdown=False)
        check_queue_invariants(seed, produced, accepted, refused, delivered)
        assert len(accepted) + len(refused) == produced, f"seed {seed}"


@pytest.mark.parametrize("cls_name", ["Queue", "LifoQueue", "PriorityQueue"])
@pytest.mark.parametrize("qmod_name", list(QUEUES))
@pytest.mark.timeout(120)
def test_queue_shutdown_in_the_middle(qmod_name, cls_name):
    qmod = QUEUES[qmod_name]
    if not hasattr(qmod.Queue, "shutdown"):
        pytest.skip("the stdlib's queues have shutdown() from 3.13")
    for seed in seeds():
        produced, accepted, refused, delivered = queue_run(qmod, cls_name, seed, shutdown=True)
        check_queue_invariants(seed, produced, accepted, refused, delivered)


@pytest.mark.parametrize("cls_name", ["Queue", "LifoQueue", "PriorityQueue"])
@pytest.mark.parametrize("qmod_name", list(QUEUES))
@pytest.mark.timeout(60)
def test_queue_immediate_shutdown_under_load(qmod_name, cls_name):
    """shutdown(immediate=True) drops what is queued: nothing is delivered twice or made up,
    everybody blocked is released, join() returns."""
    qmod = QUEUES[qmod_name]
    if not hasattr(qmod.Queue, "shutdown"):
        pytest.skip("the stdlib's queues have shutdown() from 3.13")
    for seed in seeds():
        rnd = random.Random(seed)
        q = getattr(qmod, cls_name)(rnd.choice([0, 2, 8]))
        got, put = [], []
        lock = threading.Lock()

        def producer(p):
            for i in range(3_000):
                try:
                    q.put((p, i))
                except qmod.ShutDown:
                    return
                with lock:
                    put.append((p, i))

        def consumer():
            while True:
                try:
                    item = q.get()
                except qmod.ShutDown:
                    return
                with lock:
                    got.append(item)
                q.task_done()

        threads = [threading.Thread(target=producer, args=(p,)) for p in range(2)]
        threads += [threading.Thread(target=consumer) for _ in range(2)]
        joiner = threading.Thread(target=q.join)
        for t in threads + [joiner]:
            t.start()
        time.sleep(rnd.choice([0.001, 0.01]))
        q.shutdown(immediate=True)
        join_all(threads + [joiner], f"{cls_name} immediate shutdown", seed)
        assert len(got) == len(set(got)), f"seed {seed}"
        assert set(got) <= set(put), f"seed {seed}"
        assert q.qsize() == 0 and q.unfinished_tasks == 0, f"seed {seed}"


# --- Condition storms -----------------------------------------------------------------------------


@pytest.mark.parametrize("mod_name", list(THREADING))
@pytest.mark.timeout(120)
def test_condition_notify_storm(mod_name):
    """Waiters take tokens that notifiers hand out with notify(n) / notify_all(): every token
    is taken exactly once and every waiter wakes for the last ones (a lost wake-up hangs)."""
    mod = THREADING[mod_name]
    for seed in seeds():
        rnd = random.Random(seed)
        lock = rnd.choice([mod.Lock, mod.RLock])()
        cond = mod.Condition(lock)
        n_waiters, n_notifiers, rounds = rnd.randint(3, 6), rnd.randint(1, 3), 300
        state = {"tokens": 0, "done": 0}
        taken = [0] * n_waiters
        total = n_notifiers * rounds

        def waiter(w, r):
            while True:
                with cond:
                    if r.random() < 0.5:
                        cond.wait_for(lambda: state["tokens"] or state["done"] == n_notifiers)
                    else:
                        while not state["tokens"] and state["done"] < n_notifiers:
                            cond.wait(r.choice([None, None, 0.001, 0.01]))
                    if state["tokens"]:
                        state["tokens"] -= 1
                        taken[w] += 1
                    elif state["done"] == n_notifiers:
                        return

        def notifier(r):
            for _ in range(rounds):
                with cond:
                    state["tokens"] += 1
                    how = r.random()
                    if how < 0.4:
                        cond.notify()
                    elif how < 0.7:
                        cond.notify(r.randint(1, n_waiters))
                    else:
                        cond.notify_all()
                if r.random() < 0.1:
                    time.sleep(0)
            with cond:
                state["done"] += 1
                cond.notify_all()

        threads = [threading.Thread(target=waiter, args=(w, random.Random(rnd.random()))) for w in range(n_waiters)]
        threads += [threading.Thread(target=notifier, args=(random.Random(rnd.random()),)) for _ in range(n_notifiers)]
        for t in threads:
            t.start()
        join_all(threads, "condition storm", seed)
        assert sum(taken) == total and state["tokens"] == 0, f"seed {seed}: {taken}"
        assert lock.acquire(False), f"seed {seed}: the lock was left held"
        lock.release()


@pytest.mark.parametrize("mod_name", list(THREADING))
@pytest.mark.timeout(60)
def test_semaphore_and_event_storm(mod_name):
    """A semaphore's count is conserved under acquire (timed, non-blocking) / release storms;
    Event set/clear storms never strand a waiter once the event stays set."""
    mod = THREADING[mod_name]
    for seed in seeds():
        rnd = random.Random(seed)
        start = rnd.randint(1, 4)
        sem = mod.BoundedSemaphore(start)
        event = mod.Event()

        def worker(r):
            for _ in range(500):
                how = r.random()
                if how < 0.3:
                    ok = sem.acquire(False)
                elif how < 0.6:
                    ok = sem.acquire(timeout=r.choice([0, 0.0005, 0.002]))
                else:
                    ok = sem.acquire()
                if ok:
                    sem.release()
                if r.random() < 0.2:
                    event.wait(0.0005)

        def flipper(r):
            for _ in range(300):
                event.set() if r.random() < 0.5 else event.clear()
            event.set()

        threads = [
            threading.Thread(target=worker, args=(random.Random(rnd.random()),)) for _ in range(rnd.randint(3, 6))
        ]
        threads.append(threading.Thread(target=flipper, args=(random.Random(rnd.random()),)))
        waiters = [threading.Thread(target=event.wait) for _ in range(3)]
        for t in threads + waiters:
            t.start()
        join_all(threads + waiters, "semaphore/event storm", seed)
        assert [sem.acquire(False) for _ in range(start + 1)] == [True] * start + [False]
        for _ in range(start):
            sem.release()
        with pytest.raises(ValueError):
            sem.release()


# --- Barrier --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mod_name", list(THREADING))
@pytest.mark.timeout(60)
def test_barrier_abort_and_reset_under_load(mod_name):
    """Parties keep waiting (some with timeouts) while a chaos thread aborts and resets: every
    wait returns an index in range or raises BrokenBarrierError, nobody hangs, and once the chaos
    stops and the barrier is reset, a full round passes with every index once."""
    mod = THREADING[mod_name]
    for seed in seeds():
        rnd = random.Random(seed)
        parties = rnd.randint(2, 5)
        barrier = mod.Barrier(parties)
        stop = threading.Event()
        bad = []
        outcomes = collections.Counter()
        rec = threading.Lock()

        def party(r):
            while not stop.is_set():
                try:
                    i = barrier.wait(r.choice([None, 0.01, 0.05]))
                    if not 0 <= i < parties:
                        bad.append(i)
                    key = "passed"
                except mod.BrokenBarrierError:
                    key = "broken"
                    time.sleep(0.0005)
                with rec:
                    outcomes[key] += 1

        def chaos(r):
            for _ in range(40):
                time.sleep(r.choice([0.0005, 0.002, 0.005]))
                barrier.abort() if r.random() < 0.5 else barrier.reset()
            stop.set()
            barrier.abort()  # releases everybody still waiting

        threads = [threading.Thread(target=party, args=(random.Random(rnd.random()),)) for _ in range(parties)]
        threads.append(threading.Thread(target=chaos, args=(random.Random(rnd.random()),)))
        for t in threads:
            t.start()
        join_all(threads, "barrier chaos", seed)
        assert not bad, f"seed {seed}: indices out of range {bad}"
        assert barrier.n_waiting == 0, f"seed {seed}"
        barrier.reset()
        assert not barrier.broken
        indices = []
        final = [threading.Thread(target=lambda: indices.append(barrier.wait(10))) for _ in range(parties)]
        for t in final:
            t.start()
        join_all(final, "barrier after reset", seed)
        assert sorted(indices) == list(range(parties)), f"seed {seed}"


# --- the pool -------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def task(kind, i):
    if kind == "raise":
        raise Boom(i)
    if kind == "slow":
        time.sleep(0.001)
    return i * 2


@pytest.mark.parametrize("fmod_name", list(FUTURES))
@pytest.mark.timeout(120)
def test_pool_mixed_tasks(fmod_name):
    """Raising, slow, cancelled and plain tasks mixed, submitted from several threads, some
    pools shut down with cancel_futures in the middle: every future ends exactly one way, its
    callbacks run once, as_completed yields each once, results and exceptions are the right ones."""
    fmod = FUTURES[fmod_name]
    for seed in seeds():
        rnd = random.Random(seed)
        ex = fmod.ThreadPoolExecutor(rnd.randint(1, 4))
        futures = {}
        called = collections.Counter()
        rec = threading.Lock()
        cancel_mid = rnd.random() < 0.5
        refused = []

        def submitter(s, r):
            for i in range(150):
                kind = r.choice(["plain", "plain", "raise", "slow", "cancel"])
                key = (s, i)
                try:
                    f = ex.submit(task, kind, i)
                except RuntimeError:
                    refused.append(key)  # shut down meanwhile
                    continue
                cancelled = f.cancel() if kind == "cancel" else False
                f.add_done_callback(lambda f, key=key: called.update([key]))
                with rec:
                    futures[key] = (kind, f, cancelled)

        submitters = [threading.Thread(target=submitter, args=(s, random.Random(rnd.random()))) for s in range(3)]
        for t in submitters:
            t.start()
        if cancel_mid:
            time.sleep(rnd.choice([0.001, 0.01]))
            ex.shutdown(wait=False, cancel_futures=True)
        join_all(submitters, "submitters", seed)
        ex.shutdown(wait=True)
        fs = [f for _, f, _ in futures.values()]
        assert all(f.done() for f in fs), f"seed {seed}"
        # (as_completed waits for cancelled futures that no worker notified: not those)
        live = [f for f in fs if not f.cancelled()]
        seen = list(fmod.as_completed(live, timeout=10))
        assert len(seen) == len(set(map(id, seen))) == len(live), f"seed {seed}"
        assert set(called) == set(futures) and set(called.values()) == {1}, f"seed {seed}"
        for (s, i), (kind, f, cancelled) in futures.items():
            if cancelled:
                assert f.cancelled(), f"seed {seed}"
            if f.cancelled():
                assert kind == "cancel" or cancel_mid, f"seed {seed}: {kind} cancelled"
                with pytest.raises(fmod.CancelledError):
                    f.result(0)
            elif kind == "raise":
                assert isinstance(f.exception(0), Boom) and f.exception(0).args == (i,)
            else:
                assert f.result(0) == i * 2, f"seed {seed}"
        if not cancel_mid:
            assert not refused, f"seed {seed}"
