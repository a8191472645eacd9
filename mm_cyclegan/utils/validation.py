"""Validation of user-given options, shared by every component.

Each check returns the (normalised) value or raises an error that names the
option, the bad value and what was expected. Errors are ``TypeError`` for a
value of the wrong type and ``ValueError`` for a bad value; where MMagic's
class of the same name raises ``NotImplementedError`` or ``AssertionError``
for the same mistake, :class:`NotImplementedValueError` and
:class:`AssertionValueError` are both, so code written against MMagic's
contracts keeps catching what it expects.
"""
from __future__ import annotations

import operator
from collections.abc import Collection
from numbers import Real
from typing import Any, Optional

__all__ = [
    'AssertionTypeError', 'AssertionValueError', 'NotImplementedValueError',
    'check_bool', 'check_choice', 'check_int', 'check_number'
]


class NotImplementedValueError(ValueError, NotImplementedError):
    """An unsupported option value (MMagic raises ``NotImplementedError``)."""


class AssertionValueError(ValueError, AssertionError):
    """An invalid option value (MMagic ``assert``-s on it)."""


class AssertionTypeError(TypeError, AssertionError):
    """An option of the wrong type (MMagic ``assert``-s on it)."""


def check_int(name: str,
              value: Any,
              minimum: Optional[int] = None,
              error: type[ValueError] = ValueError) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``.

    Any integer type (``int``, ``numpy.int64``...) is accepted, ``bool``
    is not. Raises ``TypeError`` for a non-integer and ``error`` (a
    ``ValueError`` subclass) for one below ``minimum``.
    """
    if isinstance(value, bool):
        raise TypeError(f'{name} must be an int, got {value!r} (bool)')
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f'{name} must be an int, got {value!r} '
                        f'({type(value).__name__})') from None
    if minimum is not None and number < minimum:
        raise error(f'{name} must be >= {minimum}, got {number}')
    return number


def check_number(name: str,
                 value: Any,
                 minimum: Optional[float] = None,
                 maximum: Optional[float] = None,
                 above: Optional[float] = None) -> float:
    """Return ``value`` as a ``float`` if it is a real number in range.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive
    lower one (``above=0``: positive). ``bool`` is rejected (``True`` is
    almost always a misplaced argument).
    """
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f'{name} must be a number, got {value!r} '
                        f'({type(value).__name__})')
    number = float(value)
    if minimum is not None and number < minimum:
        raise ValueError(f'{name} must be >= {minimum}, got {value}')
    if maximum is not None and number > maximum:
        raise ValueError(f'{name} must be <= {maximum}, got {value}')
    if above is not None and not number > above:
        raise ValueError(f'{name} must be > {above}, got {value}')
    return number


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a ``bool``; raise ``TypeError`` otherwise."""
    if not isinstance(value, bool):
        raise TypeError(f'{name} must be a bool, got {value!r} '
                        f'({type(value).__name__})')
    return value


def check_choice(name: str,
                 value: Any,
                 choices: Collection,
                 error: type[ValueError] = ValueError) -> Any:
    """Return ``value`` if it is one of ``choices``; raise ``error``."""
    try:
        valid = value in choices
    except TypeError:  # unhashable value and a set of choices
        valid = False
    if not valid:
        raise error(f'unknown {name} {value!r}; expected one of '
                    f'{tuple(choices)}')
    return value
