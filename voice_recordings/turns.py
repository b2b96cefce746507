"""Turns at running Python for the handoff threads, so the event loop keeps its share of the GIL.

Why: CPython passes the GIL between the threads that want it, a switch interval (5 ms) at a time
when its holder keeps running, and to whichever waiter wakes first, not in order. With 32
handoff threads preparing requests, or spooling after their deadline, all at once, the
application's event loop came back from its own steps tens of milliseconds late (7-30 ms on a
quiet 2-core machine, 22-52 ms beside one other busy process; issue 26).
A handoff runs little Python (about 1 ms: the key and metadata, botocore's request and
signature, a spool entry's bookkeeping, the URL) and spends most of its time waiting, on the
network or the disk, with the GIL released. So a handoff thread runs Python only while it holds
a *turn* (:data:`HANDOFF_TURNS` of them) and gives it up while it waits (connecting, sending,
waiting for and reading an answer, creating, writing and fsyncing a spool entry, a retry's
backoff, a multipart upload's own threads):
the waits of every handoff still overlap, while the loop competes for the GIL with one thread,
not 32. A thread waiting for a turn waits on a lock, which holds no GIL. The count is the
process's, not the interpreter's (``sys.setswitchinterval`` is the application's to set).

A freed turn goes to the longest waiter, so a handoff is never overtaken again and again by
threads coming back from the network. A holder blocked somewhere nobody foresaw (an application's
log handler writing to a full pipe) cannot stall the others: a waiter that has seen no turn
change hands for :data:`PATIENCE` goes ahead without one, so the deadline
(:mod:`voice_recordings.deadline`) still holds.

Only the handoff pool's threads take turns (:meth:`Turns.run`); in any other thread (the
synchronous ``upload_*``, replay, the CLI, s3transfer's workers) :func:`waiting` and the client
hooks do nothing.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")

# One: the loop then competes with a single handoff thread for the GIL (measured during a
# 200-handoff burst: its latest tick 3-14 ms late; with two turns 8-47 ms, once 181; issue 26,
# docs/developing.md).
HANDOFF_TURNS: Final = 1
# How long waiters trust that turns are moving: a turn that has not changed hands for this long
# is held by a thread blocked somewhere unforeseen, and waiters go ahead without one. Well above
# the longest stretch of Python a handoff runs (a few ms), well below the least deadline (1 s).
PATIENCE: Final = 0.1
_INSTALLED: Final = "_voice_recordings_turns"


class Turns:
    """``count`` turns, handed to waiting threads first come, first served."""

    def __init__(self, count: int = HANDOFF_TURNS, patience: float = PATIENCE) -> None:
        self.count, self.patience = count, patience
        self._lock = threading.Lock()
        self._free = count
        self._waiters: deque[threading.Lock] = deque()
        self._moved = time.monotonic()  # when a turn last changed hands

    def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` in this thread, holding a turn except where it waits (:func:`waiting`)."""
        _this_thread.turns, _this_thread.held = self, self._take()
        try:
            return work()
        finally:
            if _this_thread.held:
                self._give()
            _this_thread.turns, _this_thread.held = None, False

    def _take(self) -> bool:
        """Wait for a turn: True once held, False when turns stopped moving (go ahead)."""
        with self._lock:
            if self._free:
                self._free -= 1
                self._moved = time.monotonic()
                return True
            if time.monotonic() - self._moved >= self.patience:
                return False  # a holder is blocked: no use queuing behind it again
            ticket = threading.Lock()
            ticket.acquire()
            self._waiters.append(ticket)
        while not ticket.acquire(timeout=self.patience):
            with self._lock:
                if ticket not in self._waiters:
                    break  # handed over as the wait timed out: it is released, take it below
                if time.monotonic() - self._moved >= self.patience:
                    self._waiters.remove(ticket)
                    return False
        else:
            return True
        ticket.acquire()
        return True

    def _give(self) -> None:
        with self._lock:
            self._moved = time.monotonic()
            if self._waiters:
                self._waiters.popleft().release()  # straight to the longest waiter
            else:
                self._free += 1


class _ThisThread(threading.local):
    turns: Turns | None = None  # the turns this thread runs a handoff under
    held: bool = False


_this_thread = _ThisThread()


def pause() -> bool:
    """Give up this thread's turn, if it holds one (it is about to wait); True if it did."""
    turns = _this_thread.turns
    if turns is None or not _this_thread.held:
        return False
    _this_thread.held = False
    turns._give()
    return True


def resume() -> None:
    """Take a turn again, if this thread runs a handoff and holds none (its wait is over)."""
    turns = _this_thread.turns
    if turns is not None and not _this_thread.held:
        _this_thread.held = turns._take()


@contextlib.contextmanager
def waiting() -> Iterator[None]:
    """Around a wait (I/O, a sleep, another thread): this thread's turn is someone else's
    meanwhile; taken back after. A no-op outside a handoff, and inside another ``waiting``."""
    paused = pause()
    try:
        yield
    finally:
        if paused:
            resume()


def install(client: S3Client) -> None:
    """Give up the turn for botocore's backoff before a retry (it sleeps in the sending thread)
    and take it back when the next attempt, or the call, goes on (once per client)."""
    if getattr(client, _INSTALLED, False):
        return

    def before_backoff(response: Any = None, caught_exception: Any = None, **_: Any) -> None:
        # Called for every attempt; only a failed one may be followed by a sleep.
        failed = response is not None and response[0].status_code >= 300
        if failed or caught_exception is not None:
            pause()

    def after_backoff(**_: Any) -> None:
        resume()

    events = client.meta.events
    events.register_last("needs-retry.s3", before_backoff)
    # request-created: the retry's request, before it is signed; after-call(-error): no retry.
    events.register_first("request-created.s3", after_backoff)
    events.register_first("after-call.s3", after_backoff)
    events.register_first("after-call-error.s3", after_backoff)
    setattr(client, _INSTALLED, True)
