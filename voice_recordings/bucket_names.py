"""The S3 bucket-name rules, in one place (the runtime settings and the stack config share them).

The rules are AWS's general-purpose bucket naming rules
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html) and MinIO's
strict check (minio-go ``pkg/s3utils/utils.go``, ``CheckValidBucketNameStrict``, Apache-2.0,
read, not copied): 3 to 63 characters of lowercase ASCII letters, digits, ``.`` and ``-``,
starting and ending with a letter or digit; no ``..``, ``.-`` or ``-.``; not written as an IPv4
address; none of the prefixes and suffixes AWS reserves.
"""

from __future__ import annotations

import re
from typing import Final

_SHAPE: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS: Final = re.compile(r"[0-9]+(\.[0-9]+){3}")
RESERVED_PREFIXES: Final = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES: Final = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
RULE: Final = (
    "3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a letter or digit, "
    "without '..', '.-' or '-.', not an IP address, not starting with "
    f"{'/'.join(RESERVED_PREFIXES)} nor ending with {'/'.join(RESERVED_SUFFIXES)}"
)


def bucket_name_problem(name: str) -> str | None:
    """What makes ``name`` an invalid S3 bucket name (None when it is valid)."""
    if not _SHAPE.fullmatch(name):
        return (
            "must be 3 to 63 lowercase letters, digits, '.' or '-', starting and ending with a "
            "letter or digit"
        )
    for pair in ("..", ".-", "-."):
        if pair in name:
            return f"must not contain {pair!r}"
    if _IP_ADDRESS.fullmatch(name):
        return "must not be written as an IP address"
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"must not start with {prefix!r} (reserved by S3)"
    for suffix in RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"must not end with {suffix!r} (reserved by S3)"
    return None
