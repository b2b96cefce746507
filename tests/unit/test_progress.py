"""``voice-recordings upload``'s progress line reads right at every size: never ``0.0 MiB of
0.0 MiB``, both figures in the total's unit, exact at the unit boundaries."""

from __future__ import annotations

import io
import re
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voice_recordings.cli.progress import UNITS, ProgressPrinter, progress_text, size_text

KIB, MIB, GIB = (dict(UNITS)[name] for name in ("KiB", "MiB", "GiB"))
_FIGURE = re.compile(r"([0-9.]+) (bytes?|KiB|MiB|GiB)")


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (2, "2 bytes"),
        (972, "972 bytes"),  # shows as 0.9 KiB: not yet one
        (3 * KIB, "3.0 KiB"),
        (5000, "4.9 KiB"),
        (MIB - 1, "1.0 MiB"),  # 1023.99... KiB would read 1024.0 KiB
        (MIB, "1.0 MiB"),
        (MIB + 1, "1.0 MiB"),
        (64 * MIB, "64.0 MiB"),
        (GIB, "1.0 GiB"),
    ],
)
def test_a_size_reads_in_the_unit_it_shows_best_in(size: int, text: str) -> None:
    assert size_text(size) == text


@pytest.mark.parametrize(
    ("total", "line"),
    [
        (1, "upload: 1 byte of 1 byte (100%)"),
        (512, "upload: 512 bytes of 512 bytes (100%)"),
        (3 * KIB, "upload: 3.0 KiB of 3.0 KiB (100%)"),
        (MIB, "upload: 1.0 MiB of 1.0 MiB (100%)"),
        (4 * MIB, "upload: 4.0 MiB of 4.0 MiB (100%)"),
    ],
)
def test_the_last_line_of_an_upload(total: int, line: str) -> None:
    stream = io.StringIO()
    progress = ProgressPrinter("upload", total, stream)
    progress(total)
    progress.finish()
    assert stream.getvalue().splitlines()[-1] == line


@pytest.mark.parametrize("sent", [0, 1, 3 * KIB, MIB])
def test_a_pipe_has_no_total_and_says_what_was_sent(sent: int) -> None:
    stream = io.StringIO()
    progress = ProgressPrinter("uploading -", None, stream)
    progress(sent)
    progress.finish()
    assert stream.getvalue().splitlines()[-1] == f"uploading -: {size_text(sent)}"


@given(total=st.integers(1, 2 * 1024**4), share=st.fractions(0, 1))
def test_the_total_never_reads_as_nothing_and_both_figures_share_its_unit(
    total: int, share: Fraction
) -> None:
    done = int(total * share)
    text = progress_text(done, total)
    (sent, sent_unit), (whole, whole_unit) = _FIGURE.findall(text)
    assert float(whole) > 0, text
    assert sent_unit.rstrip("s") == whole_unit.rstrip("s"), text
    assert "0.0 MiB of 0.0 MiB" not in text
    assert (sent == whole) if done == total else float(sent) <= float(whole), text
    assert text.endswith(f"({100 * done // total}%)")
