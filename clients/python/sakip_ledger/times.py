"""Times of the ledger: microseconds since the Unix epoch (UTC) on the wire,
aware datetimes in Python, Western Indonesia Time (WIB, UTC+7) on screen.

The ledger records every event's transaction time as UTC microseconds. This
module converts between those integers and *aware* ``datetime`` objects (a
naive datetime is refused: its zone would be a guess) and formats them in
WIB, the zone of the reports::

    >>> from datetime import datetime
    >>> to_micros(datetime(2024, 7, 15, 9, 30, tzinfo=WIB))
    1721010600000000
    >>> format_wib(1721010600000000)
    '2024-07-15 09:30:00 WIB'
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Union

#: Western Indonesia Time, UTC+7 (no daylight saving time).
WIB = _dt.timezone(_dt.timedelta(hours=7), "WIB")

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def to_micros(when: _dt.datetime) -> int:
    """Microseconds since the Unix epoch of an aware datetime.

    Raises ``ValueError`` for a naive datetime (no ``tzinfo``): attach a zone,
    e.g. ``when.replace(tzinfo=WIB)``.
    """
    if not isinstance(when, _dt.datetime):
        raise TypeError(f"expected a datetime, got {type(when).__name__}")
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(
            f"naive datetime {when.isoformat()}: give it a zone, e.g. tzinfo=sakip_ledger.WIB")
    delta = when - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int, tz: _dt.tzinfo = WIB) -> _dt.datetime:
    """The aware datetime (in ``tz``, WIB by default) of epoch microseconds."""
    return (_EPOCH + _dt.timedelta(microseconds=int(micros))).astimezone(tz)


def format_wib(micros: int, with_millis: bool = False) -> str:
    """``'2024-07-15 09:30:00 WIB'``: epoch microseconds shown in WIB, zone named."""
    when = from_micros(micros, WIB)
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    if with_millis:
        text += f".{when.microsecond // 1000:03d}"
    return text + " WIB"


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_moment_text(text: str, date_means_end_of_day: bool = True) -> _dt.datetime:
    """Parses a time typed by a person into an aware datetime.

    Accepted: ISO 8601 with a zone (``2024-07-15T10:00:00+07:00``,
    ``2024-07-15T03:00:00Z``); without a zone the time is taken as WIB
    (``2024-07-15 10:00``); a bare date (``2024-07-15``) means the end of
    that day in WIB (23:59:59.999999), so that "as of 15 July" includes
    everything recorded on 15 July, or its start with
    ``date_means_end_of_day=False``. Raises ``ValueError`` otherwise.
    """
    text = text.strip()
    if _DATE_ONLY.match(text):
        day = _dt.date.fromisoformat(text)
        clock = _dt.time(23, 59, 59, 999_999) if date_means_end_of_day else _dt.time(0, 0)
        return _dt.datetime.combine(day, clock, tzinfo=WIB)
    normalized = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        when = _dt.datetime.fromisoformat(normalized)
    except ValueError:
        raise ValueError(
            f"'{text}' is not a time: use 2024-07-15, 2024-07-15 10:00 (WIB) "
            "or 2024-07-15T10:00:00+07:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=WIB)
    return when


TimeLike = Union[_dt.datetime, int]
