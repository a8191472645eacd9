"""``argparse`` types for the tools' integer options, built on
:func:`~mm_cyclegan.utils.validation.check_int` so that the command lines
refuse what the Python API refuses, with the same messages."""
from __future__ import annotations

import argparse
from typing import Callable, Optional

from mm_cyclegan.utils.validation import check_int, check_number

__all__ = ['int_type']


def int_type(minimum: Optional[int] = None,
             maximum: Optional[int] = None) -> Callable[[str], int]:
    """An ``argparse`` ``type`` for an int in ``[minimum, maximum]``.

    Text that is not an int gets argparse's usual "invalid int value"; an
    int out of range gets "value must be >= minimum, got ..." (or ``<=``).
    """

    def parse(text: str) -> int:
        value = int(text)  # ValueError: argparse says 'invalid int value'
        try:
            check_int('value', value, minimum)
            if maximum is not None:
                check_number('value', value, maximum=maximum)
        except ValueError as err:
            raise argparse.ArgumentTypeError(str(err)) from None
        return value

    parse.__name__ = 'int'  # named in argparse's message for non-ints
    return parse
