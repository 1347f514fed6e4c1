"""Exact figures and their Indonesian presentation.

The ledger never uses floating point for a figure: decimals travel as plain
strings (``"95.45"``, ``"1077194452"``) and computed figures as exact
fractions (``sakip.v1.Figure.exact``, ``"p/q"``). This module turns them into
``fractions.Fraction`` and formats them the Indonesian way (thousands ``.``,
decimals ``,``), rounding half-up only at the very end::

    >>> format_id("1077194452")
    '1.077.194.452,00'
    >>> format_id("109680/1909")
    '57,45'
    >>> format_rupiah("1077194452")
    'Rp1.077.194.452,00'
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Union

_PLAIN = re.compile(r"^-?\d+(\.\d+)?$")
_RATIO = re.compile(r"^-?\d+/\d+$")

Exact = Union[str, int, Fraction]


def to_fraction(value: Exact) -> Fraction:
    """The exact value of a plain decimal (``"95.45"``), a ratio (``"100/3"``),
    an int or a Fraction. Raises ``ValueError`` on anything else (notably
    floats, exponents and Indonesian notation, which are ambiguous)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"not an exact value: {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    text = value.strip()
    if _PLAIN.match(text) or _RATIO.match(text):
        return Fraction(text)
    raise ValueError(f"not a plain decimal or p/q ratio: {value!r}")


def round_half_up(value: Exact, decimals: int = 2) -> Fraction:
    """``value`` rounded half-up (away from zero at .5) to ``decimals`` places."""
    exact = to_fraction(value)
    scale = 10 ** decimals
    scaled = abs(exact) * scale
    rounded = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    return Fraction(-rounded if exact < 0 else rounded, scale)


def _digits(value: Exact, decimals: int) -> tuple[str, str, str]:
    rounded = round_half_up(value, decimals)
    sign = "-" if rounded < 0 else ""
    units = abs(rounded) * 10 ** decimals
    assert units.denominator == 1
    text = str(units.numerator).rjust(decimals + 1, "0")
    whole, frac = (text[:-decimals], text[-decimals:]) if decimals else (text, "")
    return sign, whole, frac


def format_plain(value: Exact, decimals: int = 2) -> str:
    """``"57.45"``: rounded half-up, ``.`` as the decimal mark, no grouping."""
    sign, whole, frac = _digits(value, decimals)
    return sign + whole + ("." + frac if decimals else "")


def format_id(value: Exact, decimals: int = 2) -> str:
    """``"1.077.194.452,00"``: Indonesian notation, rounded half-up."""
    sign, whole, frac = _digits(value, decimals)
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + ".".join(groups) + ("," + frac if decimals else "")


def format_rupiah(value: Exact, decimals: int = 2) -> str:
    """``"Rp1.077.194.452,00"``."""
    text = format_id(value, decimals)
    return ("-Rp" + text[1:]) if text.startswith("-") else "Rp" + text


def figure_fraction(figure) -> Fraction | None:
    """The exact value of a ``sakip.v1.Figure``, or ``None`` when it has no
    value (``present`` is false; its ``formula`` says why)."""
    if not figure.present:
        return None
    return to_fraction(figure.exact)


def figure_text(figure, absent: str = "-") -> str:
    """A figure as the report prints it: Indonesian, 2 decimals, or ``absent``."""
    if not figure.present:
        return absent
    return figure.indonesian or format_id(figure.exact)
