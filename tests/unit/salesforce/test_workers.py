"""`LifoThreadPool`: bounded, newest idle thread first, shutdown."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from chat_salesforce.workers import LifoThreadPool


def test_results_and_exceptions_reach_the_futures() -> None:
    pool = LifoThreadPool(2)
    try:
        assert pool.submit(lambda a, b: a + b, 2, b=3).result(timeout=5) == 5
        failing = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=5)
    finally:
        pool.shutdown()


def test_calls_one_at_a_time_reuse_the_same_thread_after_a_burst() -> None:
    pool = LifoThreadPool(4)
    gate = threading.Event()
    try:
        burst = [pool.submit(gate.wait, 5) for _ in range(4)]
        gate.set()
        assert all(f.result(timeout=5) for f in burst)
        names = {pool.submit(lambda: threading.current_thread().name).result(5) for _ in range(20)}
        assert len(names) == 1
    finally:
        pool.shutdown()


def test_at_most_max_workers_run_at_once_and_the_rest_queue() -> None:
    pool = LifoThreadPool(2)
    gate = threading.Event()
    running = 0
    peak = 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        gate.wait(5)
        with lock:
            running -= 1

    try:
        futures = [pool.submit(work) for _ in range(6)]
        gate.set()
        for future in futures:
            future.result(timeout=5)
        assert peak == 2
    finally:
        pool.shutdown()


def test_shutdown_cancels_queued_calls_and_refuses_new_ones() -> None:
    pool = LifoThreadPool(1)
    gate = threading.Event()
    running = pool.submit(gate.wait, 5)
    queued = pool.submit(lambda: "never")
    pool.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(CancelledError):
        queued.result(timeout=5)
    with pytest.raises(RuntimeError):
        pool.submit(lambda: None)
    gate.set()
    assert running.result(timeout=5) is True
    pool.shutdown(wait=True)
