"""rthreading.AtomicInt: no stdlib analogue, so each operation is checked against the same
operation on a plain Python int (the model), including the overflow rule: an operation whose
result leaves the signed 64-bit range raises OverflowError and changes nothing."""

import operator
import threading
import weakref

import pytest

from rthreading import AtomicInt

MAX, MIN = 2**63 - 1, -(2**63)


def test_defaults_and_repr():
    a = AtomicInt()
    assert a.get() == 0 and repr(a) == "AtomicInt(0)"
    a = AtomicInt(-5)
    assert repr(a) == "AtomicInt(-5)" and int(a) == -5
    assert AtomicInt(value=7).get() == 7
    weakref.ref(a)


def test_api_against_a_plain_int():
    a, x = AtomicInt(10), 10
    assert a.add() == (x := x + 1)
    assert a.add(5) == (x := x + 5)
    assert a.sub() == (x := x - 1)
    assert a.sub(20) == (x := x - 20)
    old = x
    assert a.fetch_add(3) == old and a.get() == (x := x + 3)
    assert a.fetch_add() == x and a.get() == (x := x + 1)
    assert a.exchange(42) == x and a.get() == 42
    assert a.compare_exchange(42, 7) is True and a.get() == 7
    assert a.compare_exchange(42, 8) is False and a.get() == 7
    a.set(-3)
    assert a.get() == -3


def test_in_place_operators_keep_the_object():
    a = AtomicInt(1)
    b = a
    a += 4
    assert a is b and a.get() == 5
    a -= 10
    assert a is b and a.get() == -5
    with pytest.raises(TypeError, match=r"unsupported operand type\(s\) for \+=: 'AtomicInt' and 'float'"):
        a += 1.5
    with pytest.raises(TypeError, match=r"-="):
        a -= "x"
    assert a is b and a.get() == -5


def test_int_index_bool():
    a = AtomicInt(3)
    assert int(a) == 3 and operator.index(a) == 3
    assert [10, 20, 30, 40][a] == 40 and hex(a) == "0x3"
    assert bool(a) and not bool(AtomicInt(0))


@pytest.mark.parametrize(
    ("start", "op", "arg"),
    [
        (MAX, "add", 1),
        (MAX, "fetch_add", 1),
        (MIN, "sub", 1),
        (MIN, "add", -1),
        (0, "sub", MIN),
        (-1, "add", MIN),
        (1, "add", MAX),
        (MAX, "iadd", 1),
        (MIN, "isub", 1),
    ],
)
def test_overflow_changes_nothing(start, op, arg):
    a = AtomicInt(start)
    with pytest.raises(OverflowError):
        if op == "iadd":
            a += arg
        elif op == "isub":
            a -= arg
        else:
            getattr(a, op)(arg)
    assert a.get() == start


@pytest.mark.parametrize("big", [2**63, MIN - 1, 2**100])
def test_arguments_out_of_range(big):
    a = AtomicInt(5)
    for call in (
        lambda: AtomicInt(big),
        lambda: a.set(big),
        lambda: a.add(big),
        lambda: a.sub(big),
        lambda: a.fetch_add(big),
        lambda: a.exchange(big),
        lambda: a.compare_exchange(5, big),
    ):
        with pytest.raises(OverflowError):
            call()
    with pytest.raises(OverflowError):
        a += big
    assert a.get() == 5


def test_bad_argument_types():
    a = AtomicInt()
    for call in (lambda: AtomicInt(1.0), lambda: a.add(1.0), lambda: a.set("1"), lambda: a.add(None)):
        with pytest.raises(TypeError):
            call()
    assert a.get() == 0
    assert a.add(True) == 1  # bool is an int, as everywhere


def test_boundaries_reachable():
    a = AtomicInt(MAX - 1)
    assert a.add() == MAX
    a.set(MIN + 1)
    assert a.sub() == MIN


@pytest.mark.thread_unsafe(reason="starts 8 threads of its own")
def test_exact_under_8_threads():
    a = AtomicInt()
    n, k = 20_000, 8
    start = threading.Barrier(k)

    def work(i):
        nonlocal a  # `a += n` rebinds the name (to the same object)
        start.wait()
        for _ in range(n):
            if i % 2:
                a.add(3)
                a += 1
            else:
                a.fetch_add(2)
                a.sub(1)
                a += 3

    threads = [threading.Thread(target=work, args=(i,)) for i in range(k)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    assert a.get() == 4 * n * k


@pytest.mark.thread_unsafe(reason="starts threads of its own")
def test_compare_exchange_is_exclusive():
    """Each of 4 threads increments through a CAS loop: no increment is lost."""
    a = AtomicInt()

    def work():
        for _ in range(5000):
            while True:
                v = a.get()
                if a.compare_exchange(v, v + 1):
                    break

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert a.get() == 20_000
