import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run a test module with one torch thread (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``).

    The ensemble's test models are tiny: one thread is as fast as two, and OpenMP barriers on a 2-core machine shared
    with other test processes can slow multi-threaded small kernels down by an order of magnitude.
    """
    from lsgan_theory.resources import torch_threads

    with torch_threads(1):
        yield


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler for the test's duration.

    A test that sends itself SIGINT checks the engine's deferral of Python's ``default_int_handler``.  A process
    started in the background by a non-interactive shell (``cmd &``, as some CI runners and ``nohup`` jobs do)
    inherits SIGINT *ignored*, Python then installs no handler, and the engine rightly leaves the signal alone; the
    fixture restores the interactive situation the test is about, and puts the inherited action back afterwards.
    """
    import signal

    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)
