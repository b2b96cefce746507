"""Which known name a stray one misspells: the "did you mean" of the settings.

A misspelt variable (``MINIO_SECERT_KEY``) would otherwise be ignored in silence, and its
setting take its default.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection
from typing import Final

# How close a stray name with the known names' prefix must be to one of them to be taken for a
# misspelling of it (difflib's ratio: MINIO_SECERT_KEY to MINIO_SECRET_KEY is 0.94; the
# provider's own MINIO_USER to MINIO_USE_SSL, 0.77, is not one).
CUTOFF: Final = 0.85


def one_edit_apart(a: str, b: str) -> bool:
    """Whether one edit turns ``a`` into ``b``: a character inserted, deleted or replaced, or
    two neighbours swapped (``REGOIN``)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    head = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    a_tail, b_tail = a[head:], b[head:]
    if len(a) == len(b):
        swapped = len(a_tail) > 1 and a_tail[:2] == b_tail[1::-1] and a_tail[2:] == b_tail[2:]
        return swapped or a_tail[1:] == b_tail[1:]
    return a_tail[1:] == b_tail if len(a) > len(b) else a_tail == b_tail[1:]


def meant_name(name: str, known: Collection[str], prefix: str) -> str | None:
    """The upper-case name of ``known`` that ``name`` misspells, or None: the same name in
    another case (``minio_bucket``), any name one edit from a known one (``MINIOBUCKET``,
    ``MINIO_BUKCET``: the prefix's typos too), or a name with ``prefix`` close to one by
    difflib's ratio (``MINIO_SECERT_KEYS``)."""
    if name in known:
        return None
    upper = name.upper()
    if upper in known:
        return upper
    near = [candidate for candidate in known if one_edit_apart(upper, candidate)]
    if near:
        return near[0]
    if upper.startswith(prefix):
        close = difflib.get_close_matches(upper, known, n=1, cutoff=CUTOFF)
        return close[0] if close else None
    return None
