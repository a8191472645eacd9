"""The shared option checks: what they accept, and errors naming the value."""
import numpy as np
import pytest

from mm_cyclegan.utils.validation import (
    AssertionTypeError,
    AssertionValueError,
    NotImplementedValueError,
    check_bool,
    check_choice,
    check_int,
    check_number,
)


def test_error_classes_are_both_kinds():
    for cls, bases in ((NotImplementedValueError,
                        (ValueError, NotImplementedError)),
                       (AssertionValueError, (ValueError, AssertionError)),
                       (AssertionTypeError, (TypeError, AssertionError))):
        with pytest.raises(bases) as info:
            raise cls('message')
        assert all(isinstance(info.value, base) for base in bases)


def test_check_int():
    assert check_int('n', 3, 1) == 3
    value = check_int('n', np.int64(5), 0)
    assert value == 5 and type(value) is int
    assert check_int('n', -7) == -7  # no minimum
    with pytest.raises(ValueError, match=r'n must be >= 1, got 0'):
        check_int('n', 0, 1)
    with pytest.raises(AssertionValueError, match='-1'):
        check_int('n', -1, 0, error=AssertionValueError)
    for bad in (True, 2.0, '2', None):
        with pytest.raises(TypeError, match=f'n must be an int, got {bad!r}'):
            check_int('n', bad, 0)


def test_check_number():
    assert check_number('w', 2) == 2.0
    assert check_number('w', np.float32(0.5), 0, 1) == 0.5
    with pytest.raises(ValueError, match=r'w must be >= 0, got -0.5'):
        check_number('w', -0.5, minimum=0)
    with pytest.raises(ValueError, match=r'w must be <= 1, got 2'):
        check_number('w', 2, maximum=1)
    for bad in (False, '1', None):
        with pytest.raises(TypeError, match=f'w must be a number, got '
                           f'{bad!r}'):
            check_number('w', bad)


def test_check_number_above_is_exclusive():
    assert check_number('sigma', 1e-9, above=0) == 1e-9
    for bad in (0, -1.5, float('nan')):
        with pytest.raises(ValueError, match=f'sigma must be > 0, got '
                           f'{bad}'):
            check_number('sigma', bad, above=0)


def test_check_bool_and_choice():
    assert check_bool('flag', False) is False
    with pytest.raises(TypeError, match="flag must be a bool, got 'yes'"):
        check_bool('flag', 'yes')
    assert check_choice('mode', 'a', ('a', 'b')) == 'a'
    with pytest.raises(
            ValueError, match=r"unknown mode 'c'; expected one of \('a', "):
        check_choice('mode', 'c', ('a', 'b'))
    with pytest.raises(NotImplementedError, match=r"\['a'\]"):
        check_choice('mode', ['a'], {'a', 'b'},
                     error=NotImplementedValueError)
