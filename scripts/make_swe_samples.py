"""Builds the SWE sample tasks: each a small repo (buggy base), a gold patch, a test patch."""
import json, subprocess, shutil, tempfile, textwrap
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "m1gym" / "envs" / "swe" / "samples"
TASKS = []

def task(name, issue, files, fix, tests_base, tests_new, f2p, p2p, version="0.1"):
    TASKS.append(dict(name=name, issue=issue, files=files, fix=fix, tests_base=tests_base,
                      tests_new=tests_new, f2p=f2p, p2p=p2p, version=version))

def D(s): return textwrap.dedent(s).lstrip("\n")

# 1 ---------------------------------------------------------------------------------------------
task("textkit", D("""
    `slugify` leaves repeated dashes when the input has runs of punctuation or spaces.

    >>> slugify("Hello,  World!!  Again")
    'hello---world---again'

    Expected `'hello-world-again'`: runs of separators should collapse into one dash, and the slug
    should not start or end with a dash.
    """),
    {"textkit/__init__.py": "from .slug import slugify\nfrom .case import title_case, snake_case\n",
     "textkit/slug.py": D('''
        import re


        def slugify(text: str) -> str:
            """Lowercase ASCII slug with dashes between words."""
            text = text.lower()
            text = re.sub(r"[^a-z0-9]", "-", text)
            return text.strip("-")
        '''),
     "textkit/case.py": D('''
        def title_case(text: str) -> str:
            return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())


        def snake_case(text: str) -> str:
            out = []
            for i, ch in enumerate(text):
                if ch.isupper() and i and text[i - 1].islower():
                    out.append("_")
                out.append(ch.lower())
            return "".join(out).replace(" ", "_")
        '''),
     "setup.cfg": "[metadata]\nname = textkit\n"},
    {"textkit/slug.py": ('text = re.sub(r"[^a-z0-9]", "-", text)', 'text = re.sub(r"[^a-z0-9]+", "-", text)')},
    {"tests/test_case.py": D('''
        from textkit import snake_case, title_case


        def test_title_case():
            assert title_case("hello wORLD") == "Hello World"


        def test_snake_case():
            assert snake_case("HelloWorld") == "hello_world"
        '''),
     "tests/test_slug.py": D('''
        from textkit import slugify


        def test_simple():
            assert slugify("Hello World") == "hello-world"
        ''')},
    {"tests/test_slug.py": D('''
        from textkit import slugify


        def test_simple():
            assert slugify("Hello World") == "hello-world"


        def test_collapses_runs():
            assert slugify("Hello,  World!!  Again") == "hello-world-again"


        def test_no_edge_dashes():
            assert slugify("  --Hi--  ") == "hi"
        ''')},
    ["tests/test_slug.py::test_collapses_runs"],
    ["tests/test_slug.py::test_simple", "tests/test_slug.py::test_no_edge_dashes", "tests/test_case.py::test_title_case",
     "tests/test_case.py::test_snake_case"])

# 2 ---------------------------------------------------------------------------------------------
task("intervals", D("""
    `merge` does not merge intervals that touch at an endpoint.

    merge([(1, 3), (3, 5)]) returns [(1, 3), (3, 5)] but closed intervals that share an endpoint
    overlap, so the result should be [(1, 5)].
    """),
    {"intervals/__init__.py": "from .merge import merge, total_length\n",
     "intervals/merge.py": D('''
        def merge(intervals):
            """Merge overlapping closed intervals given as (start, end) pairs."""
            out = []
            for start, end in sorted(intervals):
                if out and start < out[-1][1]:
                    out[-1] = (out[-1][0], max(out[-1][1], end))
                else:
                    out.append((start, end))
            return out


        def total_length(intervals):
            return sum(end - start for start, end in merge(intervals))
        '''),
     "setup.cfg": "[metadata]\nname = intervals\n"},
    {"intervals/merge.py": ("if out and start < out[-1][1]:", "if out and start <= out[-1][1]:")},
    {"tests/test_merge.py": D('''
        from intervals import merge, total_length


        def test_overlapping():
            assert merge([(1, 4), (2, 6), (8, 9)]) == [(1, 6), (8, 9)]


        def test_total_length():
            assert total_length([(0, 2), (1, 3)]) == 3
        ''')},
    {"tests/test_merge.py": D('''
        from intervals import merge, total_length


        def test_overlapping():
            assert merge([(1, 4), (2, 6), (8, 9)]) == [(1, 6), (8, 9)]


        def test_total_length():
            assert total_length([(0, 2), (1, 3)]) == 3


        def test_touching():
            assert merge([(1, 3), (3, 5)]) == [(1, 5)]
        ''')},
    ["tests/test_merge.py::test_touching"],
    ["tests/test_merge.py::test_overlapping", "tests/test_merge.py::test_total_length"])

# 3 ---------------------------------------------------------------------------------------------
task("statlib", D("""
    `median` is wrong for lists with an even number of values.

    median([1, 2, 3, 4]) returns 3, but the median of an even-length list is the mean of the two
    middle values: 2.5.
    """),
    {"statlib/__init__.py": "from .central import mean, median, mode\nfrom .spread import variance\n",
     "statlib/central.py": D('''
        from collections import Counter


        def mean(xs):
            if not xs:
                raise ValueError("mean of empty data")
            return sum(xs) / len(xs)


        def median(xs):
            if not xs:
                raise ValueError("median of empty data")
            s = sorted(xs)
            return s[len(s) // 2]


        def mode(xs):
            return Counter(xs).most_common(1)[0][0]
        '''),
     "statlib/spread.py": D('''
        from .central import mean


        def variance(xs):
            m = mean(xs)
            return sum((x - m) ** 2 for x in xs) / len(xs)
        '''),
     "setup.cfg": "[metadata]\nname = statlib\n"},
    {"statlib/central.py": ("    s = sorted(xs)\n    return s[len(s) // 2]\n",
                            "    s = sorted(xs)\n    mid = len(s) // 2\n    if len(s) % 2:\n        return s[mid]\n    return (s[mid - 1] + s[mid]) / 2\n")},
    {"tests/test_central.py": D('''
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
        ''')},
    {"tests/test_central.py": D('''
        import pytest

        from statlib import mean, median, mode, variance


        def test_mean():
            assert mean([1, 2, 3]) == 2


        def test_median_odd():
            assert median([3, 1, 2]) == 2


        def test_median_even():
            assert median([4, 1, 3, 2]) == 2.5


        def test_mode():
            assert mode([1, 1, 2]) == 1


        def test_variance():
            assert variance([1, 3]) == 1


        def test_empty():
            with pytest.raises(ValueError):
                median([])
        ''')},
    ["tests/test_central.py::test_median_even"],
    ["tests/test_central.py::test_mean", "tests/test_central.py::test_median_odd", "tests/test_central.py::test_mode",
     "tests/test_central.py::test_variance", "tests/test_central.py::test_empty"])

# 4 ---------------------------------------------------------------------------------------------
task("lrucache", D("""
    LRUCache evicts the wrong entry: reading a key with `get` does not mark it as recently used.

        c = LRUCache(2); c.put("a", 1); c.put("b", 2); c.get("a"); c.put("c", 3)

    evicts "a", but "b" is the least recently used key and should be evicted instead.
    """),
    {"lrucache/__init__.py": "from .cache import LRUCache\n",
     "lrucache/cache.py": D('''
        from collections import OrderedDict


        class LRUCache:
            def __init__(self, capacity: int):
                if capacity < 1:
                    raise ValueError("capacity must be >= 1")
                self.capacity = capacity
                self._data = OrderedDict()

            def get(self, key, default=None):
                if key not in self._data:
                    return default
                return self._data[key]

            def put(self, key, value):
                if key in self._data:
                    self._data.move_to_end(key)
                self._data[key] = value
                if len(self._data) > self.capacity:
                    self._data.popitem(last=False)

            def __len__(self):
                return len(self._data)
        '''),
     "setup.cfg": "[metadata]\nname = lrucache\n"},
    {"lrucache/cache.py": ("            return default\n        return self._data[key]\n",
                           "            return default\n        self._data.move_to_end(key)\n        return self._data[key]\n")},
    {"tests/test_cache.py": D('''
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
        ''')},
    {"tests/test_cache.py": D('''
        import pytest

        from lrucache import LRUCache


        def test_put_evicts_oldest():
            c = LRUCache(2)
            c.put("a", 1)
            c.put("b", 2)
            c.put("c", 3)
            assert c.get("a") is None and len(c) == 2


        def test_get_refreshes():
            c = LRUCache(2)
            c.put("a", 1)
            c.put("b", 2)
            c.get("a")
            c.put("c", 3)
            assert c.get("a") == 1 and c.get("b") is None


        def test_bad_capacity():
            with pytest.raises(ValueError):
                LRUCache(0)
        ''')},
    ["tests/test_cache.py::test_get_refreshes"],
    ["tests/test_cache.py::test_put_evicts_oldest", "tests/test_cache.py::test_bad_capacity"])

# 5 ---------------------------------------------------------------------------------------------
task("durations", D("""
    `parse_duration("1h30m")` returns 1830 seconds instead of 5400.

    Hours are multiplied by 60 instead of 3600; minutes and seconds are right.
    """),
    {"durations/__init__.py": "from .parse import parse_duration\nfrom .format import format_duration\n",
     "durations/parse.py": D('''
        import re

        _UNITS = {"h": 60, "m": 60, "s": 1}
        _PART = re.compile(r"(\\d+)([hms])")


        def parse_duration(text: str) -> int:
            """'1h30m15s' -> seconds."""
            text = text.strip().lower()
            if not text or _PART.sub("", text):
                raise ValueError(f"bad duration {text!r}")
            return sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
        '''),
     "durations/format.py": D('''
        def format_duration(seconds: int) -> str:
            h, rest = divmod(int(seconds), 3600)
            m, s = divmod(rest, 60)
            parts = [f"{v}{u}" for v, u in ((h, "h"), (m, "m"), (s, "s")) if v]
            return "".join(parts) or "0s"
        '''),
     "setup.cfg": "[metadata]\nname = durations\n"},
    {"durations/parse.py": ('_UNITS = {"h": 60, "m": 60, "s": 1}', '_UNITS = {"h": 3600, "m": 60, "s": 1}')},
    {"tests/test_durations.py": D('''
        import pytest

        from durations import format_duration, parse_duration


        def test_minutes_seconds():
            assert parse_duration("2m5s") == 125


        def test_format():
            assert format_duration(3725) == "1h2m5s"


        def test_bad():
            with pytest.raises(ValueError):
                parse_duration("soon")
        ''')},
    {"tests/test_durations.py": D('''
        import pytest

        from durations import format_duration, parse_duration


        def test_minutes_seconds():
            assert parse_duration("2m5s") == 125


        def test_hours():
            assert parse_duration("1h30m") == 5400


        def test_round_trip():
            assert parse_duration(format_duration(3725)) == 3725


        def test_format():
            assert format_duration(3725) == "1h2m5s"


        def test_bad():
            with pytest.raises(ValueError):
                parse_duration("soon")
        ''')},
    ["tests/test_durations.py::test_hours", "tests/test_durations.py::test_round_trip"],
    ["tests/test_durations.py::test_minutes_seconds", "tests/test_durations.py::test_format", "tests/test_durations.py::test_bad"])

# 6 ---------------------------------------------------------------------------------------------
task("ledger", D("""
    `Account.withdraw` lets the balance go negative.

    An account with balance 50 accepts `withdraw(80)` and ends at -30. Withdrawals larger than the
    balance must raise `InsufficientFunds` and leave the balance unchanged.
    """),
    {"ledger/__init__.py": "from .account import Account, InsufficientFunds\n",
     "ledger/account.py": D('''
        class InsufficientFunds(Exception):
            pass


        class Account:
            def __init__(self, owner: str, balance: int = 0):
                self.owner = owner
                self.balance = balance
                self.history = []

            def deposit(self, amount: int) -> None:
                if amount <= 0:
                    raise ValueError("deposit must be positive")
                self.balance += amount
                self.history.append(("deposit", amount))

            def withdraw(self, amount: int) -> None:
                if amount <= 0:
                    raise ValueError("withdrawal must be positive")
                self.balance -= amount
                self.history.append(("withdraw", amount))
        '''),
     "setup.cfg": "[metadata]\nname = ledger\n"},
    {"ledger/account.py": ('            raise ValueError("withdrawal must be positive")\n        self.balance -= amount\n',
                           '            raise ValueError("withdrawal must be positive")\n        if amount > self.balance:\n            raise InsufficientFunds(f"balance {self.balance} < {amount}")\n        self.balance -= amount\n')},
    {"tests/test_account.py": D('''
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
        ''')},
    {"tests/test_account.py": D('''
        import pytest

        from ledger import Account, InsufficientFunds


        def test_deposit_withdraw():
            a = Account("ann", 10)
            a.deposit(5)
            a.withdraw(3)
            assert a.balance == 12 and len(a.history) == 2


        def test_positive_only():
            with pytest.raises(ValueError):
                Account("ann").deposit(0)


        def test_no_overdraft():
            a = Account("ann", 50)
            with pytest.raises(InsufficientFunds):
                a.withdraw(80)
            assert a.balance == 50 and a.history == []
        ''')},
    ["tests/test_account.py::test_no_overdraft"],
    ["tests/test_account.py::test_deposit_withdraw", "tests/test_account.py::test_positive_only"])


# A fixed identity and date make the base commit hash reproducible: the SWE image builder commits the
# shipped repo the same way and gets the same base_commit.
GIT_ENV = {"GIT_AUTHOR_NAME": "m1gym", "GIT_AUTHOR_EMAIL": "samples@m1gym.invalid",
           "GIT_COMMITTER_NAME": "m1gym", "GIT_COMMITTER_EMAIL": "samples@m1gym.invalid",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def git(cwd, *args):
    import os

    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}).stdout

def write(root, files):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)

shutil.rmtree(OUT, ignore_errors=True)
for t in TASKS:
    work = Path(tempfile.gettempdir()) / "m1gym-swe-build" / t["name"]
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    write(work, t["files"])
    write(work, t["tests_base"])
    git(work, "init", "-q"); git(work, "add", "-A")
    git(work, "commit", "-qm", "base")
    base = git(work, "rev-parse", "HEAD").strip()
    # gold patch
    for rel, (old, new) in t["fix"].items():
        p = work / rel
        src = p.read_text()
        assert old in src, (t["name"], rel)
        p.write_text(src.replace(old, new, 1))
    gold = git(work, "diff")
    git(work, "checkout", "-q", ".")
    write(work, t["tests_new"])
    test_patch = git(work, "diff")
    git(work, "checkout", "-q", ".")
    dest = OUT / t["name"]
    (dest / "repo").mkdir(parents=True)
    write(dest / "repo", {**t["files"], **t["tests_base"]})
    (dest / "gold.patch").write_text(gold)
    (dest / "test.patch").write_text(test_patch)
    inst = {"instance_id": f"m1gym__{t['name']}-1", "repo": f"m1gym/{t['name']}", "base_commit": base,
            "problem_statement": t["issue"], "FAIL_TO_PASS": t["f2p"], "PASS_TO_PASS": t["p2p"],
            "version": t["version"], "environment_setup_commit": base, "test_cmd": "python -m pytest -q -p no:cacheprovider"}
    (dest / "instance.json").write_text(json.dumps(inst, indent=2) + "\n")
    print(t["name"], base[:8], len(gold), len(test_patch))
