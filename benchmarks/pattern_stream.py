"""A large body made on the fly, so a benchmark never holds one bytes object of its size."""

from __future__ import annotations

import io
from typing import Any


class PatternStream(io.RawIOBase):
    """``size`` bytes made on the fly from a 1 MiB pattern; seekable (like a file), or not."""

    _block = bytes(range(256)) * 4096

    def __init__(self, size: int, seekable: bool = True) -> None:
        self.size, self.pos, self._seekable = size, 0, seekable

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def tell(self) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def read(self, size: int = -1) -> bytes:
        """One allocation per read, as a file's ``read`` (RawIOBase's would copy it again)."""
        remaining = self.size - self.pos
        n = remaining if size is None or size < 0 else min(size, remaining)
        parts, done = [], 0
        while done < n:
            start = (self.pos + done) % len(self._block)
            take = min(n - done, len(self._block) - start)
            parts.append(self._block[start : start + take])
            done += take
        self.pos += n
        return b"".join(parts)

    def readinto(self, buffer: Any) -> int:
        # Fills the whole buffer, as a file does: s3transfer takes a short read as the part's end.
        view = memoryview(buffer)
        n = min(len(view), self.size - self.pos)
        done = 0
        while done < n:
            start = (self.pos + done) % len(self._block)
            take = min(n - done, len(self._block) - start)
            view[done : done + take] = self._block[start : start + take]
            done += take
        self.pos += n
        return n
