import pytest

from ledger import Account


def test_deposit_withdraw():
    a = Account("ann", 10)
    a.deposit(5)
    a.withdraw(3)
    assert a.balance == 12 and len(a.history) == 2


def test_positive_only():
    with pytest.raises(ValueError):
        Account("ann").deposit(0)
