import pytest

from lrucache import LRUCache


def test_put_evicts_oldest():
    c = LRUCache(2)
    c.put("a", 1)
    c.put("b", 2)
    c.put("c", 3)
    assert c.get("a") is None and len(c) == 2


def test_bad_capacity():
    with pytest.raises(ValueError):
        LRUCache(0)
