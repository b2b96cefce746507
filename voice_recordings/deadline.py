"""A wall-clock deadline for one upload (``MINIO_UPLOAD_DEADLINE``), whatever the server does.

botocore's timeouts are per socket operation: a server that accepts the connection and never
answers costs a full read timeout per attempt, and one that trickles a byte a second never trips
a read timeout at all. So a deadline is enforced at three points, for the requests of one upload
only (replay, probes and presigning keep the client's ordinary timeouts):

- when a request starts (``before-send``, in the thread that sends it: s3transfer's threads too),
  the upload's deadline is looked up by the request's path (``/{bucket}/{key}``); a connection
  opened for it connects within what is left of the deadline, and an expired deadline refuses
  to start the request at all;
- when the deadline expires, a watchdog thread shuts down the sockets of the upload's requests
  in flight (``shutdown``, not ``close``: the sending thread wakes with an error and cleans up);
- before botocore retries a failed request (``needs-retry``), the upload gives up if the
  deadline has passed or the longest backoff of standard mode would end after it.

The hooks need a connection class of ours, set on the client's pool manager (botocore offers no
public way to reach the sockets); :func:`install` does it once per client. The same class gives a
handoff thread's turn away while it waits on the network (:mod:`voice_recordings.turns`).
"""

from __future__ import annotations

import contextlib
import heapq
import http.client
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit

from botocore.awsrequest import (
    AWSHTTPConnection,
    AWSHTTPConnectionPool,
    AWSHTTPSConnection,
    AWSHTTPSConnectionPool,
)

from voice_recordings.diagnostics import FIX_UNREACHABLE
from voice_recordings.errors import StorageError
from voice_recordings.turns import pause, resume, waiting

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# botocore standard mode: the delay before retry n+1 is random, below min(2**(n-1), 20) seconds.
_MAX_BACKOFF: Final = 20.0
_INSTALLED: Final = "_voice_recordings_deadlines"
# The one watchdog thread every deadline of the process shares (named, so it shows in a dump).
WATCHDOG_THREAD_NAME: Final = "voice-recordings-deadlines"


class UploadDeadlineExceeded(StorageError):
    """The upload did not finish within ``MINIO_UPLOAD_DEADLINE`` (the recording is spooled).

    Always ``category="deadline"``, transient, with the unreachable server's fix.
    """

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(message, key=key, category="deadline", fix=FIX_UNREACHABLE, transient=True)


class Deadline:
    """One upload's deadline: the requests it has in flight, and the timer that ends them."""

    def __init__(self, seconds: float, since: float | None = None) -> None:
        self.seconds = seconds
        # ``since``: when the clock started (the handoff's call, not the moment a worker thread
        # picked it up), on time.monotonic()'s clock.
        self.at = (time.monotonic() if since is None else since) + seconds
        self.expired = False
        self.finished = False
        self._lock = threading.Lock()
        self._connections: set[_DeadlineMixin] = set()

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self.at - time.monotonic())

    def attach(self, connection: _DeadlineMixin) -> None:
        """``connection`` now sends for this upload; refused once the deadline has passed."""
        with self._lock:
            if self.expired or self.remaining() <= 0:
                raise UploadDeadlineExceeded(self.message())
            self._connections.add(connection)

    def detach(self, connection: _DeadlineMixin) -> None:
        """``connection`` no longer sends for this upload (it is being reused)."""
        with self._lock:
            self._connections.discard(connection)

    def expire(self) -> None:
        """The deadline passed: wake every request of this upload still in flight."""
        with self._lock:
            if self.finished:
                return
            self.expired = True
            connections, self._connections = self._connections, set()
        for connection in connections:
            sock = connection.sock
            if sock is not None:
                # The socket level, under any TLS wrapper: the sending thread's read or write
                # fails at once and its connection is discarded by urllib3.
                with contextlib.suppress(OSError):
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def finish(self) -> None:
        """The upload ended: nothing to wake any more."""
        with self._lock:
            self.finished = True
            self._connections.clear()

    def message(self) -> str:
        """What the error says (the setting and its value)."""
        return f"the upload did not finish within MINIO_UPLOAD_DEADLINE={self.seconds:g}s"


class Deadlines:
    """The deadlines of one client's uploads in progress, by request path ``/{bucket}/{key}``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: dict[str, list[Deadline]] = {}

    @contextlib.contextmanager
    def bound(
        self, bucket: str, key: str, seconds: float, since: float | None = None
    ) -> Iterator[Deadline]:
        """Bound every request for ``key`` made inside the block to ``seconds`` from ``since``
        (a ``time.monotonic()`` reading; default now)."""
        deadline = Deadline(seconds, since)
        path = f"/{bucket}/{key}"
        with self._lock:
            self._by_path.setdefault(path, []).append(deadline)
        _watchdog.watch(deadline)
        try:
            yield deadline
        finally:
            deadline.finish()
            with self._lock:
                waiting = self._by_path[path]
                waiting.remove(deadline)
                if not waiting:
                    del self._by_path[path]

    def for_url(self, url: str) -> Deadline | None:
        """The deadline of the upload a request URL belongs to (the earliest, if several)."""
        path = urlsplit(url).path
        with self._lock:
            waiting = self._by_path.get(path)
            return min(waiting, key=lambda d: d.at) if waiting else None


class _Watchdog:
    """One thread for every deadline of the process: it sleeps until the earliest one and
    expires it (a timer thread per upload would cost more than the uploader's whole overhead)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: Deadline) -> None:
        """Expire ``deadline`` at its time, unless it has finished by then."""
        with self._cond:
            heapq.heappush(self._heap, (deadline.at, next(self._order), deadline))
            if self._thread is None or not self._thread.is_alive():  # first use, or a fork
                self._thread = threading.Thread(
                    target=self._run, name=WATCHDOG_THREAD_NAME, daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is deadline:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            due: list[Deadline] = []
            with self._cond:
                while not due:
                    now = time.monotonic()
                    while self._heap and (self._heap[0][2].finished or self._heap[0][0] <= now):
                        deadline = heapq.heappop(self._heap)[2]
                        if not deadline.finished:
                            due.append(deadline)
                    if not due:
                        self._cond.wait(self._heap[0][0] - now if self._heap else None)
            for deadline in due:  # outside the lock: shutting sockets down may take a moment
                deadline.expire()


_watchdog = _Watchdog()

# The deadline of the request this thread is sending (set by the client's before-send hook).
_current = threading.local()


def _this_thread() -> Deadline | None:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    return deadline


class _WaitingResponse(http.client.HTTPResponse):
    """An answer whose body reads give the handoff's turn away: it may come slowly, or never.
    An empty body (a PUT's answer) has nothing to wait for."""

    def _waiting(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext() if self.length == 0 else waiting()

    def read(self, amt: int | None = None) -> bytes:
        with self._waiting():
            return super().read(amt)

    def readinto(self, b: Any) -> int:
        with self._waiting():
            return super().readinto(b)

    def read1(self, n: int = -1) -> bytes:
        with self._waiting():
            return super().read1(n)

    def readline(self, limit: int | None = -1) -> bytes:
        with self._waiting():
            return super().readline(-1 if limit is None else limit)

    def peek(self, n: int = -1) -> bytes:
        with self._waiting():
            return super().peek(n)


class _DeadlineMixin:
    """Connects within the deadline, and registers for the deadline's wake-up while it sends;
    connecting, and sending until the answer's headers, are waits: a handoff's turn is someone
    else's meanwhile (:mod:`voice_recordings.turns`)."""

    sock: socket.socket | None
    timeout: Any
    _deadline: Deadline | None = None
    response_class = _WaitingResponse

    def _bind(self) -> Deadline | None:
        previous, deadline = self._deadline, _this_thread()
        if previous is not None and previous is not deadline:
            previous.detach(self)
        self._deadline = deadline
        if deadline is not None:
            deadline.attach(self)
        return deadline

    def connect(self) -> None:
        deadline = self._bind()
        if deadline is not None and isinstance(self.timeout, int | float):
            self.timeout = max(0.001, min(float(self.timeout), deadline.remaining()))
        with waiting():
            super().connect()  # type: ignore[misc]
        if deadline is not None and deadline.expired:
            # The deadline passed while connecting, before there was a socket to shut down
            # (a listener whose backlog is full answers late): nothing may be sent on it.
            self.close()  # type: ignore[attr-defined]
            raise UploadDeadlineExceeded(deadline.message())

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self._bind()
        # From sending the request to the answer's headers the thread waits on the network (for
        # the server to read, for "100 Continue", for the answer): one wait, the turn taken back
        # when getresponse returns, or now if the request fails.
        pause()
        try:
            return super().request(*args, **kwargs)  # type: ignore[misc]
        except BaseException:
            resume()
            raise

    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().getresponse(*args, **kwargs)  # type: ignore[misc]
        finally:
            resume()


class _HTTPConnection(_DeadlineMixin, AWSHTTPConnection):  # type: ignore[misc]
    pass


class _HTTPSConnection(_DeadlineMixin, AWSHTTPSConnection):  # type: ignore[misc]
    pass


class _HTTPConnectionPool(AWSHTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSConnectionPool(AWSHTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def install(client: S3Client) -> Deadlines:
    """Give ``client`` deadline-aware connections and hooks (once); return its registry."""
    installed: Deadlines | None = getattr(client, _INSTALLED, None)
    if installed is not None:
        return installed
    deadlines = Deadlines()
    session = client._endpoint.http_session  # type: ignore[attr-defined]
    # The pool manager (and every proxy manager) shares this dict: one place to swap classes.
    pools = session._pool_classes_by_scheme
    pools["http"], pools["https"] = _HTTPConnectionPool, _HTTPSConnectionPool

    def before_send(request: Any, **_: Any) -> None:
        _current.deadline = deadlines.for_url(request.url)

    def needs_retry(
        request_dict: dict[str, Any],
        attempts: int,
        response: Any = None,
        caught_exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        deadline = deadlines.for_url(request_dict.get("url", ""))
        if deadline is None:
            return
        status = response[0].status_code if response is not None else None
        failed = caught_exception is not None or status in (429, 500, 502, 503, 504)
        longest_wait = min(_MAX_BACKOFF, 2.0 ** (attempts - 1))
        if failed and (deadline.expired or deadline.remaining() <= longest_wait):
            raise UploadDeadlineExceeded(deadline.message()) from caught_exception

    client.meta.events.register("before-send.s3", before_send)
    client.meta.events.register_first("needs-retry.s3", needs_retry)
    setattr(client, _INSTALLED, deadlines)
    return deadlines
