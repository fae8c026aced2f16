import pytest

from statlib import mean, median, mode, variance


def test_mean():
    assert mean([1, 2, 3]) == 2


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_mode():
    assert mode([1, 1, 2]) == 1


def test_variance():
    assert variance([1, 3]) == 1


def test_empty():
    with pytest.raises(ValueError):
        median([])
