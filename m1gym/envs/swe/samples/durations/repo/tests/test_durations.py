import pytest

from durations import format_duration, parse_duration


def test_minutes_seconds():
    assert parse_duration("2m5s") == 125


def test_format():
    assert format_duration(3725) == "1h2m5s"


def test_bad():
    with pytest.raises(ValueError):
        parse_duration("soon")
