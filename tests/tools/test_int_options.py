"""The tools' integer options go through ``utils.arg_types.int_type``
(built on ``check_int``): out-of-range values are refused with the bound
and the value, non-integers with argparse's 'invalid int value'."""
import argparse

import pytest

from mm_cyclegan.utils.arg_types import int_type
from tests.helpers import load_tool


@pytest.mark.parametrize('text, minimum, maximum, message', [
    ('0', 1, None, 'value must be >= 1, got 0'),
    ('-1', 0, None, 'value must be >= 0, got -1'),
    ('101', 1, 100, 'value must be <= 100, got 101'),
])
def test_out_of_range_is_refused_with_bound_and_value(text, minimum, maximum,
                                                      message):
    parse = int_type(minimum, maximum)
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(text)
    assert str(info.value) == message


def test_bounds_are_inclusive_and_non_ints_rejected():
    parse = int_type(1, 100)
    assert parse('1') == 1 and parse('100') == 100
    with pytest.raises(ValueError):  # argparse: "invalid int value: 'x'"
        parse('x')


@pytest.mark.parametrize('tool, argv, refused', [
    ('translate', ['w', 'in', '--out', 'o', '--quality', '0'],
     'argument --quality: value must be >= 1, got 0'),
    ('translate', ['w', 'in', '--out', 'o', '--batch-size', 'two'],
     "argument --batch-size: invalid int value: 'two'"),
    ('make_demo_data', ['--num-train', '0'],
     'argument --num-train: value must be >= 1, got 0'),
    ('make_demo_data', ['--test-seed-offset', '-5'],
     'argument --test-seed-offset: value must be >= 0, got -5'),
])
def test_tools_refuse_bad_integers(tool, argv, refused, capsys):
    module = load_tool(tool, prefix='int_options')
    with pytest.raises(SystemExit) as info:
        module.parse_args(argv)
    assert info.value.code == 2
    assert refused in capsys.readouterr().err


def test_tools_accept_their_bounds():
    translate = load_tool('translate', prefix='int_options')
    args = translate.parse_args(['w', 'in', '--out', 'o', '--quality',
                                 '100', '--batch-size', '1'])
    assert (args.quality, args.batch_size) == (100, 1)
    demo = load_tool('make_demo_data', prefix='int_options')
    assert demo.parse_args(['--test-seed-offset', '0']).test_seed_offset == 0
