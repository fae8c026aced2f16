from intervals import merge, total_length


def test_overlapping():
    assert merge([(1, 4), (2, 6), (8, 9)]) == [(1, 6), (8, 9)]


def test_total_length():
    assert total_length([(0, 2), (1, 3)]) == 3
