"""What both demos share: their checks (printed as they run), an S3 call's error code, a resource
type's short name."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError


class Checks:
    """The demo's checks, in order; printed as they happen and summed up at the end."""

    def __init__(self) -> None:
        self.results: list[tuple[str, bool]] = []

    def __call__(self, name: str, ok: bool) -> bool:
        self.results.append((name, ok))
        print(f"  [{'OK' if ok else 'FAILED'}] {name}")
        return ok

    @property
    def all_ok(self) -> bool:
        """True when there were checks and every one held."""
        return bool(self.results) and all(ok for _, ok in self.results)


def short_type(token: str) -> str:
    """``minio:index/s3Bucket:S3Bucket`` -> ``S3Bucket``; ``pulumi:providers:minio`` kept."""
    return token if token.startswith("pulumi:providers:") else token.rsplit(":", 1)[-1]


def error_code(call: Callable[[], object]) -> str | None:
    """The S3 error code ``call`` failed with, or None if it succeeded."""
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None
