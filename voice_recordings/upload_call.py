"""An upload as its callers see it: the keywords it takes, declared once, and what it returns.

``upload_audio``, ``upload_transcript``, their ``_async`` twins and ``MinioUploader.upload`` each
take ``**options: Unpack[UploadOptions]`` (what a type checker checks a call against) and are
marked :func:`takes_upload_options`, which shows the options in their signatures as the
keyword-only parameters they are (``help()``, ``inspect``) and refuses a call with one missing
or unknown, as Python refuses a call that does not fit a signature, before anything runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Callable
from typing import Any, Final, TypedDict, TypeVar, cast, get_type_hints

from voice_recordings.bodies import Progress
from voice_recordings.keys import Kind

F = TypeVar("F", bound=Callable[..., Any])


# The required keys, in a base of their own: ``Required[...]`` goes unseen in the string
# annotations of ``from __future__ import annotations`` on Python 3.11.
class _Ids(TypedDict):
    call_uuid: str
    company_id: int | str


class UploadOptions(_Ids, total=False):
    """What an upload takes besides its body, keywords only (two positional strings,
    ``call_uuid`` and ``domain_uuid``, are too easy to swap); ``call_uuid`` and ``company_id``
    are required."""

    domain_uuid: str | None
    secretary_uuid: str | None
    when: dt.datetime | None  # when the call took place (the key's date); default now
    progress: Progress | None  # told the bytes sent as they are sent


_REQUIRED: Final = UploadOptions.__required_keys__


class UploadResult(str):
    """The URL the object is reachable at (it *is* that string), plus what happened.

    ``key`` is where it went, ``spooled`` is True when the server was unavailable and the
    object waits in the local spool (the URL is still right: keys are deterministic).
    """

    key: str
    kind: Kind
    size: int
    spooled: bool
    version_id: str | None

    def __new__(
        cls,
        url: str,
        *,
        key: str,
        kind: Kind,
        size: int,
        spooled: bool = False,
        version_id: str | None = None,
    ) -> UploadResult:
        result = super().__new__(cls, url)
        result.key, result.kind, result.size = key, kind, size
        result.spooled, result.version_id = spooled, version_id
        return result

    @property
    def url(self) -> str:
        """The URL as a plain ``str``."""
        return str.__str__(self)


def options_signature(method: Callable[..., Any]) -> inspect.Signature:
    """``method``'s signature with its ``**options`` spelt out: keyword-only, the required ones
    without a default, the others defaulting to None."""
    signature = inspect.signature(method)
    hints = get_type_hints(UploadOptions)
    spelt_out = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=inspect.Parameter.empty if name in _REQUIRED else None,
            annotation=hints[name],
        )
        for name in UploadOptions.__annotations__
    ]
    kept = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
    return signature.replace(parameters=[*kept, *spelt_out])


def takes_upload_options(method: F) -> F:
    """``method`` (sync or async), with :func:`options_signature` as its signature and its
    keywords checked against it before it runs: an unknown or missing one is the TypeError
    Python words for any call that does not fit (a check of names, no :meth:`Signature.bind`:
    an ``_async`` call's check runs on the event loop)."""
    signature = options_signature(method)
    named = frozenset(signature.parameters)
    positional = sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in signature.parameters.values())
    required = [key for key in UploadOptions.__annotations__ if key in _REQUIRED]
    name = method.__qualname__

    def check(args: tuple[Any, ...], keywords: dict[str, Any]) -> None:
        if len(args) > positional:  # an id given by position
            raise TypeError(
                f"{name}() takes {positional} positional arguments but {len(args)} were given"
            )
        for keyword in keywords:
            if keyword not in named:
                raise TypeError(f"{name}() got an unexpected keyword argument {keyword!r}")
        missing = [repr(keyword) for keyword in required if keyword not in keywords]
        if missing:
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(
                f"{name}() missing {len(missing)} required keyword-only argument{plural}: "
                f"{' and '.join(missing)}"
            )

    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def checked_async(*args: Any, **kwargs: Any) -> Any:
            check(args, kwargs)
            return await method(*args, **kwargs)

        checked: Callable[..., Any] = checked_async
    else:

        @functools.wraps(method)
        def checked_sync(*args: Any, **kwargs: Any) -> Any:
            check(args, kwargs)
            return method(*args, **kwargs)

        checked = checked_sync
    checked.__signature__ = signature  # type: ignore[attr-defined]
    return cast("F", checked)
