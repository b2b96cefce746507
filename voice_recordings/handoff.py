"""The handoff's own threads: ``upload_*_async`` never queues in the event loop's executor.

``asyncio.to_thread`` runs work in the loop's default executor (a few threads per core, shared
with everything else the application sends there): a burst of handoffs against a server that
never answers would fill it, each waiting its turn before its deadline even started, and the
application's own ``to_thread`` work would starve behind them. So the uploader has a pool of its
own (one per process, shared by its uploaders and started with the first), as many threads
as a client keeps connections, and each handoff's deadline counts from
its call (``since``), not from the moment a thread picks it up: one that waited its whole
deadline in the queue is spooled at once.

The event loop's thread only queues work: the pool's threads are started by a thread of their
own (starting 32 threads from the loop, as ``ThreadPoolExecutor`` does on ``submit``, stalled it
for tens of milliseconds). The pool's threads run Python one at a time, each giving its turn
up while it waits (:mod:`voice_recordings.turns`): 32 threads running Python at once kept the
loop from the GIL for tens of milliseconds. At interpreter exit the handoffs in progress finish
(each within its deadline) before the process ends, as ``ThreadPoolExecutor``'s threads would.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import queue
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Final, TypeVar

from voice_recordings.client import MAX_POOL_CONNECTIONS
from voice_recordings.turns import Turns

T = TypeVar("T")

# One thread per connection the client keeps: more threads would only wait for a connection.
HANDOFF_THREADS: Final = MAX_POOL_CONNECTIONS
# Every thread of the pool is named from this (and its starter too), so it shows in a dump.
THREAD_NAME: Final = "voice-recordings-handoff"

_Work = tuple[Callable[[], Any], "Future[Any]"] | None


class HandoffPool:
    """:data:`HANDOFF_THREADS` threads that run handoffs for an event loop."""

    def __init__(self, threads: int = HANDOFF_THREADS) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._work: queue.SimpleQueue[_Work] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._turns = Turns()
        self._pid = 0
        _POOLS.add(self)

    def _start(self) -> None:
        """Start the threads (once per process: a fork's child has none of its parent's)."""
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self._workers = os.getpid(), []
            # A fork's child may have copied a turn, or the turns' lock, held by a thread it
            # does not have: fresh turns.
            self._turns = Turns()
        threading.Thread(target=self._spawn, name=f"{THREAD_NAME}-start").start()

    def _spawn(self) -> None:
        for number in range(self.threads):
            worker = threading.Thread(
                target=self._serve, name=f"{THREAD_NAME}-{number}", daemon=True
            )
            worker.start()
            self._workers.append(worker)

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            work, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(self._turns.run(work))
            except BaseException as exc:  # handed to the awaiting coroutine, as an executor does
                future.set_exception(exc)
        self._work.put(None)  # pass the stop on to the next thread

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` in one of the pool's threads; the event loop keeps running meanwhile."""
        self._start()
        future: Future[T] = Future()
        self._work.put((work, future))
        return await asyncio.wrap_future(future)

    def close(self, wait: bool = False) -> None:
        """Let the threads end once the queued handoffs are done (``wait``: until then)."""
        self._work.put(None)
        if wait:
            for worker in list(self._workers):
                worker.join()
        with self._lock:
            self._pid = 0
            self._work = queue.SimpleQueue()


_POOLS: Final[weakref.WeakSet[HandoffPool]] = weakref.WeakSet()
_SHARED: Final = HandoffPool()


def shared_pool() -> HandoffPool:
    """The process's one handoff pool, its threads started now (in a thread of their own) so a
    first burst finds them waiting: every uploader of the process shares it, as they share the
    cores."""
    _SHARED._start()
    return _SHARED


@atexit.register
def _finish_handoffs() -> None:
    # The threads are daemons (an idle pool never holds the process), so at exit the handoffs
    # already queued are finished here: a recording handed over is stored or spooled, not lost.
    for pool in list(_POOLS):
        pool.close(wait=True)
