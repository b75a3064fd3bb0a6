"""Fixtures. Most tests are differential: they take one of the module fixtures below and run
the same scenario against the stdlib and against rthreading, asserting the same outcome. The
helpers the test modules share are in helpers.py."""

import pytest

from helpers import FUTURES_MODULES, MODULES, QUEUE_MODULES


@pytest.fixture(params=list(MODULES), ids=list(MODULES))
def mod(request):
    """The module under test: the stdlib's threading, then rthreading."""
    return MODULES[request.param]


@pytest.fixture(params=list(FUTURES_MODULES), ids=list(FUTURES_MODULES))
def fm(request):
    """The futures module under test: concurrent.futures, then rthreading.futures."""
    return FUTURES_MODULES[request.param]


@pytest.fixture(params=list(QUEUE_MODULES), ids=list(QUEUE_MODULES))
def qmod(request):
    """The queue module under test: the stdlib's queue, then rthreading.queue."""
    return QUEUE_MODULES[request.param]
