"""The handoff threads' turns (voice_recordings.turns): what the burst's lag and deadline rely on.

One thread runs a handoff's Python at a time while the others' waits overlap; a freed turn goes
to the longest waiter; a holder blocked where nobody gave the turn away holds the others up for
no longer than the patience; outside a handoff, nothing changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from voice_recordings import turns
from voice_recordings.turns import Turns


def _run_all(pool: Turns, works: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=pool.run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_one_thread_runs_python_at_a_time_while_the_waits_overlap() -> None:
    pool = Turns(1)
    lock = threading.Lock()
    running = waiting = most_running = most_waiting = 0

    def work() -> None:
        nonlocal running, waiting, most_running, most_waiting
        for _ in range(3):
            with lock:
                running += 1
                most_running = max(most_running, running)
            time.sleep(0.002)  # "Python" (sleeping with the turn held, to widen the window)
            with lock:
                running -= 1
            with turns.waiting():  # the network
                with lock:
                    waiting += 1
                    most_waiting = max(most_waiting, waiting)
                time.sleep(0.05)
                with lock:
                    waiting -= 1

    started = time.monotonic()
    _run_all(pool, [work] * 8)

    assert most_running == 1
    assert most_waiting > 1
    assert time.monotonic() - started < 8 * 3 * 0.05  # the waits overlapped


def test_a_freed_turn_goes_to_the_longest_waiter() -> None:
    pool = Turns(1)
    order: list[int] = []
    hold = threading.Event()
    holding = threading.Event()

    def first() -> None:
        holding.set()
        hold.wait()

    holder = threading.Thread(target=pool.run, args=(first,))
    holder.start()
    holding.wait()
    waiters = []
    for number in range(5):
        thread = threading.Thread(target=pool.run, args=(lambda n=number: order.append(n),))
        thread.start()
        waiters.append(thread)
        time.sleep(0.01)  # queued in this order
    hold.set()
    for thread in [holder, *waiters]:
        thread.join(timeout=10)

    assert order == [0, 1, 2, 3, 4]


def test_a_holder_blocked_without_giving_its_turn_away_holds_the_others_up_only_so_long() -> None:
    pool = Turns(1, patience=0.05)
    released = threading.Event()
    holding = threading.Event()
    done_at: list[float] = []

    def blocked() -> None:  # e.g. a log handler writing to a full pipe
        holding.set()
        released.wait(5)

    def quick() -> None:
        done_at.append(time.monotonic())

    holder = threading.Thread(target=pool.run, args=(blocked,))
    holder.start()
    holding.wait()
    started = time.monotonic()
    _run_all(pool, [quick] * 4)
    waited = time.monotonic() - started
    started = time.monotonic()
    for _ in range(10):  # once turns have stopped moving, nobody queues behind them again
        pool.run(quick)
    then = time.monotonic() - started
    released.set()
    holder.join(timeout=10)

    assert len(done_at) == 14
    assert waited < 1.0  # about the patience, not the 5 s the holder was blocked for
    assert then < 5 * pool.patience  # not a patience each


def test_outside_a_handoff_waiting_pause_and_resume_change_nothing() -> None:
    assert turns.pause() is False
    turns.resume()
    with turns.waiting():
        pass
    pool = Turns(1)

    def nested() -> None:
        with turns.waiting(), turns.waiting():  # the inner one has no turn to give
            pass

    _run_all(pool, [nested, nested])
