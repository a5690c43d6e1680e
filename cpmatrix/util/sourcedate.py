"""``SOURCE_DATE_EPOCH`` (reproducible-builds.org): the one time every build and archive stamps.

Read from the environment here, once, and checked: the build's install step and the archives
both ask :func:`source_date_epoch`.
"""

from __future__ import annotations

import os

from cpmatrix.util.errors import UsageError

DEFAULT_SOURCE_DATE_EPOCH = 315532800
"""1980-01-01T00:00:00Z: the earliest time a zip can store too, so one value serves both."""


MAX_SOURCE_DATE_EPOCH = (1 << 32) - 1
"""gzip's MTIME field (32 bits); a ustar header holds up to 8**11 - 1, which is larger."""


def source_date_epoch() -> int:
    """``$SOURCE_DATE_EPOCH`` (reproducible-builds.org), else a fixed default."""
    text = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return DEFAULT_SOURCE_DATE_EPOCH
    try:
        value = int(text)
    except ValueError:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={text!r} is not a whole number of seconds",
            hint="unset it, or set it to e.g. the last commit's time: git log -1 --format=%ct",
        ) from None
    if not 0 <= value <= MAX_SOURCE_DATE_EPOCH:
        raise UsageError(
            f"SOURCE_DATE_EPOCH={text[:40]} is outside 0 … {MAX_SOURCE_DATE_EPOCH} "
            "(1970 to 2106): a gzip header holds 32 bits of seconds",
            hint="set it to e.g. the last commit's time: git log -1 --format=%ct",
        )
    return value
