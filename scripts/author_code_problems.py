"""Authoring script of the code env's ``m1gym`` problem set: ``python scripts/author_code_problems.py``.

The files it writes are the problem set the env reads (``m1gym/envs/code/data/m1gym/<problem>/``):
problem.json with tests, reference.py, wrong.py (and .cpp / checker.py / starter.py where given).
Edit a problem here and rerun; never edit those files by hand. Expected outputs come from the
reference solution, run here on the host (trusted, hand-written code: this script stays out of the
installed package); every hand-written sample's expected output is asserted first, and several
problems are cross-checked against a brute force. Test inputs come from a fixed-seed random
generator, so the set is reproducible byte for byte (``--out DIR`` writes elsewhere, to compare).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "m1gym" / "envs" / "code" / "data" / "m1gym"
P: list[dict] = []


def problem(pid, title, level, tags, statement, ref, wrong, gen, samples=(), checker=None, time_limit=2.0,
            memory=256, ref_cpp=None, wrong_cpp=None, checker_src=None, brute=None, mode="stdio", fn_name=None,
            starter=None):
    P.append(dict(id=pid, title=title, level=level, tags=tags, statement=textwrap.dedent(statement).strip(),
                  ref=textwrap.dedent(ref).strip() + "\n", wrong=textwrap.dedent(wrong).strip() + "\n", gen=gen,
                  samples=list(samples), checker=checker or {"type": "tokens"}, time_limit=time_limit, memory=memory,
                  ref_cpp=ref_cpp and textwrap.dedent(ref_cpp).strip() + "\n",
                  wrong_cpp=wrong_cpp and textwrap.dedent(wrong_cpp).strip() + "\n",
                  checker_src=checker_src and textwrap.dedent(checker_src).strip() + "\n", brute=brute, mode=mode,
                  fn_name=fn_name, starter=starter and textwrap.dedent(starter).strip() + "\n"))


def _fib_brute(n):
    if n > 5000:
        return None
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return f"{a % (10**9 + 7)}\n"


def words(rng, n, alpha="abcde", lo=1, hi=6):
    return ["".join(rng.choice(alpha) for _ in range(rng.randint(lo, hi))) for _ in range(n)]


# ---------------------------------------------------------------------------------- strings
problem("reverse-words", "Reverse the words", 0, ["strings"], """
    You are given one line of words separated by single spaces. Print the words in reverse order,
    separated by single spaces.

    Input: one line with 1 to 1000 words of lowercase letters.
    Output: the words in reverse order.""",
    """
    print(" ".join(input().split()[::-1]))""",
    """
    print(input()[::-1])""",
    lambda rng: [" ".join(words(rng, rng.randint(1, 30))) + "\n" for _ in range(8)],
    samples=[("hello big world\n", "world big hello\n"), ("single\n", "single\n")])

problem("palindrome-ignore-case", "Palindrome, ignoring case", 0, ["strings"], """
    Given a string of letters, print YES if it reads the same forwards and backwards when upper and
    lower case letters are considered equal, otherwise NO.

    Input: one line, a string of 1 to 100000 ASCII letters.
    Output: YES or NO.""",
    """
    s = input().strip().lower()
    print("YES" if s == s[::-1] else "NO")""",
    """
    s = input().strip()
    print("YES" if s == s[::-1] else "NO")""",
    lambda rng: [(lambda w: (w + w[::-1].swapcase() if rng.random() < 0.6 else w) + "\n")(
        "".join(rng.choice("abAB") for _ in range(rng.randint(1, 12)))) for _ in range(10)],
    samples=[("Level\n", "YES\n"), ("abc\n", "NO\n"), ("abBA\n", "YES\n")])

problem("longest-common-prefix", "Longest common prefix", 1, ["strings"], """
    Given n strings, print their longest common prefix, or a single dash `-` if it is empty.

    Input: n (1 <= n <= 1000) on the first line, then n lines, each a non-empty lowercase string.
    Output: the longest common prefix, or `-`.""",
    """
    import sys
    data = sys.stdin.read().split()
    n = int(data[0]); ss = data[1:1 + n]
    p = min(ss, key=len)
    for s in ss:
        while not s.startswith(p):
            p = p[:-1]
    print(p if p else "-")""",
    """
    import sys
    data = sys.stdin.read().split()
    a, b = data[1], data[-1]
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    print(a[:i] or "-")""",
    lambda rng: [(lambda pre, n: f"{n}\n" + "\n".join(pre + w for w in words(rng, n, "ab", 0, 3)) + "\n")(
        "".join(rng.choice("xy") for _ in range(rng.randint(0, 3))), rng.randint(2, 6)).replace("\n\n", "\nz\n")
        for _ in range(10)],
    samples=[("3\nflower\nflow\nflight\n", "fl\n"), ("2\ndog\ncar\n", "-\n"), ("3\nabc\nxbc\nabc\n", "-\n")])

problem("run-length", "Run-length encoding", 1, ["strings"], """
    Compress a string by replacing every maximal run of one character by the character followed by
    the run length, e.g. `aaabcc` becomes `a3b1c2`.

    Input: one line, 1 to 100000 lowercase letters.
    Output: the encoding.""",
    """
    s = input().strip()
    out = []
    i = 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(f"{s[i]}{j - i}")
        i = j
    print("".join(out))""",
    """
    s = input().strip()
    out = []
    run = 1
    for i in range(1, len(s)):
        if s[i] == s[i - 1]:
            run += 1
        else:
            out.append(f"{s[i - 1]}{run}")
            run = 1
    print("".join(out))""",
    lambda rng: ["".join(rng.choice("ab") * rng.randint(1, 12) for _ in range(rng.randint(1, 8))) + "\n"
                 for _ in range(8)],
    samples=[("aaabcc\n", "a3b1c2\n"), ("z\n", "z1\n")])

problem("anagram-classes", "Anagram classes", 2, ["strings", "hashing"], """
    Two words are in the same class when one is an anagram of the other (same letters with the same
    multiplicities). Given n words, print the number of classes.

    Input: n (1 <= n <= 100000), then n lowercase words (total length <= 10^6).
    Output: the number of classes.""",
    """
    import sys
    data = sys.stdin.read().split()
    n = int(data[0])
    print(len({"".join(sorted(w)) for w in data[1:1 + n]}))""",
    """
    import sys
    data = sys.stdin.read().split()
    n = int(data[0])
    print(len({frozenset(w) for w in data[1:1 + n]}))""",
    lambda rng: [(lambda ws: f"{len(ws)}\n" + " ".join(ws) + "\n")(words(rng, rng.randint(3, 40), "aab", 1, 4))
                 for _ in range(8)],
    samples=[("4\nlisten silent enlist google\n", "2\n"), ("2\naab abb\n", "2\n")])

problem("count-occurrences", "Count occurrences", 2, ["strings", "kmp"], """
    Count the occurrences of a pattern in a text, overlapping occurrences included.

    Input: the text on the first line, the pattern on the second (lowercase, lengths up to 200000).
    Output: the number of positions where the pattern occurs.""",
    """
    t = input().strip(); p = input().strip()
    s = p + "#" + t
    pi = [0] * len(s)
    for i in range(1, len(s)):
        k = pi[i - 1]
        while k and s[i] != s[k]:
            k = pi[k - 1]
        if s[i] == s[k]:
            k += 1
        pi[i] = k
    print(sum(1 for v in pi if v == len(p)))""",
    """
    t = input().strip(); p = input().strip()
    print(t.count(p))""",
    lambda rng: ["".join(rng.choice("ab") for _ in range(rng.randint(5, 60))) + "\n" + rng.choice(["aa", "aba", "b", "abab"]) + "\n"
                 for _ in range(8)] + ["a" * 200000 + "\n" + "a" * 1000 + "\n"],
    samples=[("aaaa\naa\n", "3\n"), ("abcabc\nabc\n", "2\n")],
    brute=lambda inp: str(sum(1 for i in range(len(inp.split()[0])) if inp.split()[0].startswith(inp.split()[1], i))) + "\n")

# ---------------------------------------------------------------------------------- math
problem("gcd-lcm", "GCD and LCM", 0, ["math"], """
    Print the greatest common divisor and the least common multiple of two positive integers.

    Input: a and b (1 <= a, b <= 10^18).
    Output: gcd(a, b) and lcm(a, b), separated by a space.""",
    """
    from math import gcd
    a, b = map(int, input().split())
    g = gcd(a, b)
    print(g, a // g * b)""",
    """
    from math import gcd
    a, b = map(int, input().split())
    print(gcd(a, b), a * b)""",
    lambda rng: [f"{rng.randint(1, 10**rng.randint(1, 18)) * k} {rng.randint(1, 10**rng.randint(1, 18)) * k}\n"
                 for k in (2, 3, 6, 10, 12, 7, 1, 4)],
    samples=[("4 6\n", "2 12\n"), ("7 7\n", "7 7\n")],
    ref_cpp="""
    #include <bits/stdc++.h>
    using namespace std;
    int main() {
        unsigned long long a, b; cin >> a >> b;
        unsigned long long g = __gcd(a, b);
        __int128 l = (__int128)(a / g) * b;
        string s; if (l == 0) s = "0";
        while (l > 0) { s += char('0' + (int)(l % 10)); l /= 10; }
        reverse(s.begin(), s.end());
        cout << g << " " << s << "\\n";
    }""",
    wrong_cpp="""
    #include <bits/stdc++.h>
    using namespace std;
    int main() { long long a, b; cin >> a >> b; long long g = __gcd(a, b); cout << g << " " << a * b / g << "\\n"; }""")

problem("modpow", "Modular power", 1, ["math"], """
    Print a^b mod m.

    Input: a, b, m (0 <= a <= 10^18, 0 <= b <= 10^18, 1 <= m <= 10^18).
    Output: a^b mod m.""",
    """
    a, b, m = map(int, input().split())
    print(pow(a, b, m))""",
    """
    a, b, m = map(int, input().split())
    print(pow(a % m, b % m, m))""",
    lambda rng: [f"{rng.randint(0, 10**18)} {rng.randint(0, 10**18)} {rng.randint(2, 10**rng.randint(1, 18))}\n"
                 for _ in range(9)] + ["5 0 1\n"],
    samples=[("2 10 1000\n", "24\n"), ("3 0 7\n", "1\n")])

problem("prime-count", "Counting primes", 1, ["math", "sieve"], """
    Print the number of primes p with p <= n.

    Input: n (1 <= n <= 5000000).
    Output: the number of primes not larger than n.""",
    """
    n = int(input())
    sieve = bytearray([1]) * (n + 1)
    sieve[0] = 0
    if n >= 1:
        sieve[1] = 0
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, n + 1, i)))
    print(sum(sieve))""",
    """
    n = int(input())
    sieve = bytearray([1]) * (n + 1)
    sieve[0] = 0
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = bytearray(len(range(i * i, n + 1, i)))
    print(sum(sieve))""",
    lambda rng: [f"{n}\n" for n in (1, 2, 10, 97, 1000, 65536, 999983, 5000000)],
    samples=[("10\n", "4\n"), ("1\n", "0\n")],
    ref_cpp="""
    #include <bits/stdc++.h>
    using namespace std;
    int main() {
        int n; cin >> n;
        vector<char> s(n + 1, 1); s[0] = 0; if (n >= 1) s[1] = 0;
        for (long long i = 2; i * i <= n; i++) if (s[i]) for (long long j = i * i; j <= n; j += i) s[j] = 0;
        cout << count(s.begin(), s.end(), 1) << "\\n";
    }""")

problem("digit-sum-total", "Sum of digit sums", 2, ["math", "digits"], """
    Let S(x) be the sum of the decimal digits of x. Print S(1) + S(2) + ... + S(n).

    Input: n (1 <= n <= 10^15).
    Output: the sum.""",
    """
    def total(n):
        # sum of digit sums of 0..n
        res, p = 0, 1
        while p <= n:
            high, cur, low = n // (p * 10), (n // p) % 10, n % p
            res += high * 45 * p + (cur * (cur - 1) // 2) * p + cur * (low + 1)
            p *= 10
        return res
    print(total(int(input())))""",
    """
    def total(n):
        res, p = 0, 1
        while p <= n:
            high, cur, low = n // (p * 10), (n // p) % 10, n % p
            res += high * 45 * p + (cur * (cur - 1) // 2) * p + cur * (low + 1)
            p *= 10
        return res
    print(total(int(input()) - 1))""",
    lambda rng: [f"{n}\n" for n in (1, 9, 10, 99, 1234, 10**6 + 7, rng.randint(1, 10**15), 10**15)],
    samples=[("12\n", "51\n"), ("9\n", "45\n")],
    brute=lambda inp: str(sum(sum(map(int, str(x))) for x in range(1, int(inp) + 1))) + "\n" if int(inp) <= 10**6 + 7 else None)

problem("fibonacci-mod", "Huge Fibonacci", 2, ["math", "matrix"], """
    F(0) = 0, F(1) = 1, F(n) = F(n-1) + F(n-2). Print F(n) mod 1000000007.

    Input: n (0 <= n <= 10^18).
    Output: F(n) mod 1000000007.""",
    """
    M = 10**9 + 7
    def fib(n):
        if n == 0:
            return (0, 1)
        a, b = fib(n >> 1)
        c = a * ((2 * b - a) % M) % M
        d = (a * a + b * b) % M
        return (d, (c + d) % M) if n & 1 else (c, d)
    print(fib(int(input()))[0])""",
    """
    M = 10**9 + 7
    def fib(n):
        if n == 0:
            return (0, 1)
        a, b = fib(n >> 1)
        c = a * ((2 * b - a) % M) % M
        d = (a * a + b * b) % M
        return (d, (c + d) % M) if n & 1 else (c, d)
    print(fib(int(input()))[1])""",
    lambda rng: [f"{n}\n" for n in (0, 1, 2, 10, 50, 1000, rng.randint(1, 10**18), 10**18)],
    samples=[("10\n", "55\n"), ("0\n", "0\n")],
    brute=lambda inp: _fib_brute(int(inp)))

# ---------------------------------------------------------------------------------- DP
problem("coin-change-ways", "Coin change: number of ways", 1, ["dp"], """
    Count the ways to pay amount A with coins of the given values, each value usable any number of
    times; ways that differ only in the order of coins are the same. Print the count mod 1000000007.

    Input: n and A (1 <= n <= 100, 0 <= A <= 100000), then n distinct coin values (1..100000).
    Output: the number of ways mod 1000000007.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, A, coins = d[0], d[1], d[2:2 + d[0]]
    M = 10**9 + 7
    ways = [0] * (A + 1); ways[0] = 1
    for c in coins:
        for x in range(c, A + 1):
            ways[x] = (ways[x] + ways[x - c]) % M
    print(ways[A])""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, A, coins = d[0], d[1], d[2:2 + d[0]]
    M = 10**9 + 7
    ways = [0] * (A + 1); ways[0] = 1
    for x in range(1, A + 1):
        for c in coins:
            if c <= x:
                ways[x] = (ways[x] + ways[x - c]) % M
    print(ways[A])""",
    lambda rng: [(lambda cs, a: f"{len(cs)} {a}\n{' '.join(map(str, cs))}\n")(
        rng.sample(range(1, 30), rng.randint(1, 6)), rng.randint(0, 200)) for _ in range(8)],
    samples=[("3 5\n1 2 5\n", "4\n"), ("1 3\n2\n", "0\n")])

problem("lis-length", "Longest increasing subsequence", 2, ["dp", "binary search"], """
    Print the length of the longest strictly increasing subsequence of the sequence.

    Input: n (1 <= n <= 200000), then n integers (|a_i| <= 10^9).
    Output: the length.""",
    """
    import sys
    from bisect import bisect_left
    d = list(map(int, sys.stdin.read().split()))
    tails = []
    for x in d[1:1 + d[0]]:
        i = bisect_left(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    print(len(tails))""",
    """
    import sys
    from bisect import bisect_right
    d = list(map(int, sys.stdin.read().split()))
    tails = []
    for x in d[1:1 + d[0]]:
        i = bisect_right(tails, x)
        if i == len(tails):
            tails.append(x)
        else:
            tails[i] = x
    print(len(tails))""",
    lambda rng: [(lambda a: f"{len(a)}\n{' '.join(map(str, a))}\n")([rng.randint(0, 8) for _ in range(rng.randint(3, 25))])
                 for _ in range(8)] + [(lambda a: f"{len(a)}\n{' '.join(map(str, a))}\n")(
                     [rng.randint(-10**9, 10**9) for _ in range(200000)])],
    samples=[("6\n10 9 2 5 3 7\n", "3\n"), ("3\n2 2 2\n", "1\n")],
    ref_cpp="""
    #include <bits/stdc++.h>
    using namespace std;
    int main() {
        int n; scanf("%d", &n); vector<long long> t;
        for (int i = 0; i < n; i++) { long long x; scanf("%lld", &x);
            auto it = lower_bound(t.begin(), t.end(), x); if (it == t.end()) t.push_back(x); else *it = x; }
        printf("%d\\n", (int)t.size());
    }""",
    wrong_cpp="""
    #include <bits/stdc++.h>
    using namespace std;
    int main() {
        int n; scanf("%d", &n); vector<long long> t;
        for (int i = 0; i < n; i++) { long long x; scanf("%lld", &x);
            auto it = upper_bound(t.begin(), t.end(), x); if (it == t.end()) t.push_back(x); else *it = x; }
        printf("%d\\n", (int)t.size());
    }""")

problem("edit-distance", "Edit distance", 2, ["dp", "strings"], """
    Print the minimum number of single-character insertions, deletions and substitutions that turn
    the first string into the second.

    Input: two lines, lowercase strings of length 1..2000.
    Output: the edit distance.""",
    """
    a = input().strip(); b = input().strip()
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    print(prev[-1])""",
    """
    a = input().strip(); b = input().strip()
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1])
        prev = cur
    print(len(a) + len(b) - 2 * prev[-1])""",
    lambda rng: ["".join(rng.choice("abc") for _ in range(rng.randint(1, 12))) + "\n" +
                 "".join(rng.choice("abc") for _ in range(rng.randint(1, 12))) + "\n" for _ in range(8)],
    samples=[("kitten\nsitting\n", "3\n"), ("abc\nabc\n", "0\n")])

problem("knapsack-01", "0/1 knapsack", 2, ["dp"], """
    Each of n items has a weight and a value and can be taken at most once. Print the largest total
    value with total weight at most W.

    Input: n and W (1 <= n <= 100, 1 <= W <= 10000), then n lines "weight value" (1 <= weight <= W,
    0 <= value <= 10^9).
    Output: the best total value.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, W = d[0], d[1]
    best = [0] * (W + 1)
    for i in range(n):
        w, v = d[2 + 2 * i], d[3 + 2 * i]
        for c in range(W, w - 1, -1):
            if best[c - w] + v > best[c]:
                best[c] = best[c - w] + v
    print(best[W])""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, W = d[0], d[1]
    best = [0] * (W + 1)
    for i in range(n):
        w, v = d[2 + 2 * i], d[3 + 2 * i]
        for c in range(w, W + 1):
            if best[c - w] + v > best[c]:
                best[c] = best[c - w] + v
    print(best[W])""",
    lambda rng: [(lambda n, W: f"{n} {W}\n" + "".join(f"{rng.randint(1, W)} {rng.randint(0, 100)}\n" for _ in range(n)))(
        rng.randint(1, 8), rng.randint(5, 30)) for _ in range(8)],
    samples=[("3 50\n10 60\n20 100\n30 120\n", "220\n"), ("1 10\n3 5\n", "5\n")])

problem("max-subarray", "Maximum subarray sum", 0, ["dp", "greedy"], """
    Print the largest sum of a non-empty contiguous subarray.

    Input: n (1 <= n <= 200000), then n integers (|a_i| <= 10^9).
    Output: the largest sum.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    best = cur = d[1]
    for x in d[2:1 + d[0]]:
        cur = max(x, cur + x)
        best = max(best, cur)
    print(best)""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    best = cur = 0
    for x in d[1:1 + d[0]]:
        cur = max(0, cur + x)
        best = max(best, cur)
    print(best)""",
    lambda rng: [(lambda a: f"{len(a)}\n{' '.join(map(str, a))}\n")([rng.randint(-10, 6) for _ in range(rng.randint(1, 20))])
                 for _ in range(7)] + ["3\n-5 -2 -9\n"],
    samples=[("9\n-2 1 -3 4 -1 2 1 -5 4\n", "6\n"), ("1\n-7\n", "-7\n")])

# ---------------------------------------------------------------------------------- greedy
problem("activity-selection", "Activity selection", 1, ["greedy", "sorting"], """
    Each activity occupies the half-open time interval [s, e). Print the largest number of activities
    that can be chosen so that no two overlap.

    Input: n (1 <= n <= 200000), then n lines "s e" (0 <= s < e <= 10^9).
    Output: the largest number of pairwise disjoint activities.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    iv = sorted(zip(d[1::2], d[2::2]), key=lambda t: t[1])
    end, cnt = -1, 0
    for s, e in iv:
        if s >= end:
            cnt += 1
            end = e
    print(cnt)""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    iv = sorted(zip(d[1::2], d[2::2]))
    end, cnt = -1, 0
    for s, e in iv:
        if s >= end:
            cnt += 1
            end = e
    print(cnt)""",
    lambda rng: [(lambda n: f"{n}\n" + "".join((lambda s: f"{s} {s + rng.randint(1, 10)}\n")(rng.randint(0, 30)) for _ in range(n)))(
        rng.randint(1, 12)) for _ in range(8)],
    samples=[("3\n1 10\n2 3\n3 4\n", "2\n"), ("2\n1 2\n2 3\n", "2\n")])

problem("min-platforms", "Minimum platforms", 1, ["greedy", "sweep"], """
    Trains occupy a platform from arrival to departure, both inclusive (a train arriving at the minute
    another departs needs another platform). Print the minimum number of platforms.

    Input: n (1 <= n <= 200000), then n lines "arrival departure" (0 <= arrival <= departure <= 10^9).
    Output: the minimum number of platforms.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    ev = []
    for a, b in zip(d[1::2], d[2::2]):
        ev.append((a, 0)); ev.append((b, 1))
    ev.sort()
    cur = best = 0
    for _, kind in ev:
        cur += 1 if kind == 0 else -1
        best = max(best, cur)
    print(best)""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    ev = []
    for a, b in zip(d[1::2], d[2::2]):
        ev.append((a, 1)); ev.append((b, 0))
    ev.sort()
    cur = best = 0
    for _, kind in ev:
        cur += 1 if kind == 1 else -1
        best = max(best, cur)
    print(best)""",
    lambda rng: [(lambda n: f"{n}\n" + "".join((lambda s: f"{s} {s + rng.randint(0, 5)}\n")(rng.randint(0, 15)) for _ in range(n)))(
        rng.randint(1, 10)) for _ in range(8)] + ["2\n1 5\n5 9\n"],
    samples=[("3\n900 910\n905 1000\n1010 1020\n", "2\n"), ("2\n1 5\n5 9\n", "2\n")])

# ---------------------------------------------------------------------------------- graphs
problem("bfs-shortest-path", "Shortest path, unweighted", 1, ["graphs", "bfs"], """
    An undirected graph has vertices 1..n. Print the number of edges on a shortest path from 1 to n,
    or -1 if n can not be reached.

    Input: n and m (2 <= n <= 100000, 0 <= m <= 200000), then m lines "u v".
    Output: the distance, or -1.""",
    """
    import sys
    from collections import deque
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v = d[2 + 2 * i], d[3 + 2 * i]
        adj[u].append(v); adj[v].append(u)
    dist = [-1] * (n + 1); dist[1] = 0
    q = deque([1])
    while q:
        u = q.popleft()
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    print(dist[n])""",
    """
    import sys
    from collections import deque
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v = d[2 + 2 * i], d[3 + 2 * i]
        adj[u].append(v)
    dist = [-1] * (n + 1); dist[1] = 0
    q = deque([1])
    while q:
        u = q.popleft()
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                q.append(v)
    print(dist[n])""",
    lambda rng: [(lambda n, m: f"{n} {m}\n" + "".join(f"{rng.randint(1, n)} {rng.randint(1, n)}\n" for _ in range(m)))(
        rng.randint(2, 9), rng.randint(0, 12)) for _ in range(8)] + ["3 2\n2 1\n3 2\n"],
    samples=[("4 4\n1 2\n2 3\n3 4\n1 3\n", "2\n"), ("3 1\n1 2\n", "-1\n")])

problem("dijkstra", "Shortest paths, weighted", 2, ["graphs", "dijkstra"], """
    A directed graph has vertices 1..n and edges with non-negative weights. Print the shortest
    distance from vertex 1 to every vertex (-1 when unreachable), space separated.

    Input: n and m (1 <= n <= 100000, 0 <= m <= 200000), then m lines "u v w" (0 <= w <= 10^9).
    Output: n numbers.""",
    """
    import sys, heapq
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = d[2 + 3 * i: 5 + 3 * i]
        adj[u].append((v, w))
    INF = float("inf")
    dist = [INF] * (n + 1); dist[1] = 0
    h = [(0, 1)]
    while h:
        du, u = heapq.heappop(h)
        if du > dist[u]:
            continue
        for v, w in adj[u]:
            if du + w < dist[v]:
                dist[v] = du + w
                heapq.heappush(h, (dist[v], v))
    print(" ".join(str(x) if x < INF else "-1" for x in dist[1:]))""",
    """
    import sys
    from collections import deque
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    adj = [[] for _ in range(n + 1)]
    for i in range(m):
        u, v, w = d[2 + 3 * i: 5 + 3 * i]
        adj[u].append((v, w))
    dist = [-1] * (n + 1); dist[1] = 0
    q = deque([1])
    while q:
        u = q.popleft()
        for v, w in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + w
                q.append(v)
    print(" ".join(map(str, dist[1:])))""",
    lambda rng: [(lambda n, m: f"{n} {m}\n" + "".join(f"{rng.randint(1, n)} {rng.randint(1, n)} {rng.randint(0, 9)}\n" for _ in range(m)))(
        rng.randint(2, 8), rng.randint(1, 16)) for _ in range(8)],
    samples=[("3 3\n1 2 5\n1 3 1\n3 2 1\n", "0 2 1\n"), ("2 0\n", "0 -1\n")])

problem("connected-components", "Connected components", 1, ["graphs", "dsu"], """
    Print the number of connected components of an undirected graph with vertices 1..n.

    Input: n and m (1 <= n <= 100000, 0 <= m <= 200000), then m lines "u v".
    Output: the number of components.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    parent = list(range(n + 1))
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    comps = n
    for i in range(m):
        a, b = find(d[2 + 2 * i]), find(d[3 + 2 * i])
        if a != b:
            parent[a] = b
            comps -= 1
    print(comps)""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    print(max(1, n - m))""",
    lambda rng: [(lambda n, m: f"{n} {m}\n" + "".join(f"{rng.randint(1, n)} {rng.randint(1, n)}\n" for _ in range(m)))(
        rng.randint(1, 12), rng.randint(0, 10)) for _ in range(8)],
    samples=[("5 3\n1 2\n2 3\n4 5\n", "2\n"), ("3 3\n1 2\n2 3\n3 1\n", "1\n")])

problem("mst-weight", "Minimum spanning tree", 3, ["graphs", "mst"], """
    Print the total weight of a minimum spanning tree of an undirected weighted graph with vertices
    1..n, or IMPOSSIBLE if the graph is not connected.

    Input: n and m (1 <= n <= 100000, 0 <= m <= 200000), then m lines "u v w" (|w| <= 10^9).
    Output: the weight, or IMPOSSIBLE.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    edges = sorted((d[4 + 3 * i], d[2 + 3 * i], d[3 + 3 * i]) for i in range(m))
    parent = list(range(n + 1))
    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    total, used = 0, 0
    for w, u, v in edges:
        a, b = find(u), find(v)
        if a != b:
            parent[a] = b
            total += w
            used += 1
    print(total if used == n - 1 else "IMPOSSIBLE")""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    ws = sorted(d[4 + 3 * i] for i in range(m))
    print(sum(ws[:n - 1]) if m >= n - 1 else "IMPOSSIBLE")""",
    lambda rng: [(lambda n, m: f"{n} {m}\n" + "".join(f"{rng.randint(1, n)} {rng.randint(1, n)} {rng.randint(-5, 20)}\n" for _ in range(m)))(
        rng.randint(2, 7), rng.randint(1, 14)) for _ in range(8)],
    samples=[("3 3\n1 2 1\n2 3 2\n1 3 3\n", "3\n"), ("3 1\n1 2 4\n", "IMPOSSIBLE\n")])

problem("topological-order", "Any topological order", 3, ["graphs", "topological sort"], """
    A directed graph has vertices 1..n. Print any order of all vertices in which every edge u -> v has
    u before v, or IMPOSSIBLE if the graph has a cycle. Any valid order is accepted.

    Input: n and m (1 <= n <= 100000, 0 <= m <= 200000), then m lines "u v".
    Output: n space-separated vertices, or IMPOSSIBLE.""",
    """
    import sys
    from collections import deque
    d = list(map(int, sys.stdin.read().split()))
    n, m = d[0], d[1]
    adj = [[] for _ in range(n + 1)]
    indeg = [0] * (n + 1)
    for i in range(m):
        u, v = d[2 + 2 * i], d[3 + 2 * i]
        adj[u].append(v); indeg[v] += 1
    q = deque(sorted((v for v in range(1, n + 1) if indeg[v] == 0), reverse=True))
    order = []
    while q:
        u = q.popleft(); order.append(u)
        for v in adj[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                q.append(v)
    print(" ".join(map(str, order)) if len(order) == n else "IMPOSSIBLE")""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n = d[0]
    print(" ".join(map(str, range(1, n + 1))))""",
    lambda rng: [(lambda n: (lambda perm, es: f"{n} {len(es)}\n" + "".join(f"{perm[a]} {perm[b]}\n" for a, b in es))(
        rng.sample(range(1, n + 1), n), sorted({tuple(sorted(rng.sample(range(n), 2))) for _ in range(n)})))(rng.randint(3, 9))
        for _ in range(7)] + ["3 3\n1 2\n2 3\n3 1\n"],
    samples=[("3 2\n3 1\n1 2\n", "3 1 2\n"), ("2 2\n1 2\n2 1\n", "IMPOSSIBLE\n")],
    checker_src="""
    # checker.py input.txt output.txt answer.txt: prints OK when the output is a valid answer
    import sys
    inp = open(sys.argv[1]).read().split()
    out = open(sys.argv[2]).read().split()
    ans = open(sys.argv[3]).read().split()
    n, m = int(inp[0]), int(inp[1])
    edges = [(int(inp[2 + 2 * i]), int(inp[3 + 2 * i])) for i in range(m)]
    if ans == ["IMPOSSIBLE"]:
        print("OK" if out == ["IMPOSSIBLE"] else "WRONG expected IMPOSSIBLE")
        sys.exit(0)
    if len(out) != n or not all(t.isdigit() for t in out):
        print("WRONG not a permutation"); sys.exit(0)
    order = [int(t) for t in out]
    if sorted(order) != list(range(1, n + 1)):
        print("WRONG not a permutation"); sys.exit(0)
    pos = {v: i for i, v in enumerate(order)}
    bad = [(u, v) for u, v in edges if pos[u] > pos[v]]
    print("OK" if not bad else "WRONG edge %d->%d violated" % bad[0])
    """)

# ---------------------------------------------------------------------------------- floats
problem("circle-area", "Circle area", 0, ["math", "geometry", "float"], """
    Print the area of a circle of radius r.

    Input: r (0 < r <= 10^4), a real number.
    Output: the area; absolute or relative error up to 1e-6 is accepted.""",
    """
    import math
    r = float(input())
    print(f"{math.pi * r * r:.10f}")""",
    """
    r = float(input())
    print(f"{3.14 * r * r:.10f}")""",
    lambda rng: [f"{rng.uniform(0.1, 10**4):.4f}\n" for _ in range(8)],
    samples=[("1\n", "3.1415926536\n"), ("2.5\n", "19.6349540849\n")],
    checker={"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6})

problem("polygon-area", "Polygon area", 1, ["geometry", "float"], """
    Print the area of a simple polygon given by its vertices in order (clockwise or counter-clockwise).

    Input: n (3 <= n <= 100000), then n lines "x y" (integers, |x|, |y| <= 10^6).
    Output: the area; absolute or relative error up to 1e-6 is accepted.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n = d[0]
    xs, ys = d[1:2 * n + 1:2], d[2:2 * n + 2:2]
    s = sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))
    print(f"{abs(s) / 2:.6f}")""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    n = d[0]
    xs, ys = d[1:2 * n + 1:2], d[2:2 * n + 2:2]
    s = sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))
    print(f"{s / 2:.6f}")""",
    lambda rng: [(lambda k, r, sgn: f"{k}\n" + "".join(
        f"{round(r * math.cos(sgn * 2 * math.pi * i / k))} {round(r * math.sin(sgn * 2 * math.pi * i / k))}\n"
        for i in range(k)))(rng.randint(3, 12), rng.randint(5, 1000), rng.choice([1, -1])) for _ in range(8)],
    samples=[("4\n0 0\n2 0\n2 2\n0 2\n", "4.000000\n"), ("3\n0 0\n0 3\n4 0\n", "6.000000\n")],
    checker={"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6})

problem("average-speed", "Average speed", 1, ["math", "float"], """
    A car drives n legs; leg i covers d_i kilometres at constant speed v_i km/h. Print the average
    speed of the whole trip (total distance divided by total time).

    Input: n (1 <= n <= 100000), then n lines "d v" (integers, 1 <= d, v <= 1000).
    Output: the average speed; absolute or relative error up to 1e-6 is accepted.""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    legs = list(zip(d[1::2], d[2::2]))
    print(f"{sum(a for a, _ in legs) / sum(a / v for a, v in legs):.9f}")""",
    """
    import sys
    d = list(map(int, sys.stdin.read().split()))
    legs = list(zip(d[1::2], d[2::2]))
    print(f"{sum(v for _, v in legs) / len(legs):.9f}")""",
    lambda rng: [(lambda n: f"{n}\n" + "".join(f"{rng.randint(1, 1000)} {rng.randint(1, 1000)}\n" for _ in range(n)))(
        rng.randint(2, 10)) for _ in range(8)],
    samples=[("2\n60 60\n60 30\n", "40.000000000\n"), ("1\n5 7\n", "7.000000000\n")],
    checker={"type": "float", "abs_tol": 1e-6, "rel_tol": 1e-6})

problem("sqrt-newton", "Square roots", 0, ["math", "float"], """
    For each query x print the square root of x.

    Input: q (1 <= q <= 100000), then q integers x (0 <= x <= 10^12), one per line.
    Output: q lines; absolute or relative error up to 1e-9 is accepted.""",
    """
    import sys, math
    d = sys.stdin.read().split()
    print("\\n".join(f"{math.sqrt(int(x)):.12f}" for x in d[1:1 + int(d[0])]))""",
    """
    import sys, math
    d = sys.stdin.read().split()
    print("\\n".join(f"{math.sqrt(int(x)):.3f}" for x in d[1:1 + int(d[0])]))""",
    lambda rng: [(lambda q: f"{q}\n" + "".join(f"{rng.randint(0, 10**12)}\n" for _ in range(q)))(rng.randint(1, 6)) for _ in range(8)],
    samples=[("2\n4\n2\n", "2.000000000000\n1.414213562373\n")],
    checker={"type": "float", "abs_tol": 1e-9, "rel_tol": 1e-9})

# ---------------------------------------------------------------------------------- call-based
problem("two-sum", "Two sum (function)", 1, ["arrays", "hashing", "call"], """
    Write `two_sum(nums, target)`: `nums` is a list of integers and exactly one pair of distinct
    indices i < j has nums[i] + nums[j] == target. Return [i, j].""",
    """
    def two_sum(nums, target):
        seen = {}
        for j, x in enumerate(nums):
            if target - x in seen:
                return [seen[target - x], j]
            seen.setdefault(x, j)""",
    """
    def two_sum(nums, target):
        seen = {}
        for j, x in enumerate(nums):
            if target - x in seen:
                return [target - x, x]
            seen[x] = j""",
    None, mode="call", fn_name="two_sum",
    starter="""
    def two_sum(nums: list[int], target: int) -> list[int]:
        ...""",
    samples=[([[2, 7, 11, 15], 9], [0, 1]), ([[3, 2, 4], 6], [1, 2]), ([[1, 5, 1, 8], 9], [0, 3]),
             ([[-3, 4, 3, 90], 0], [0, 2]), ([[10, 20, 30, 40, 50], 90], [3, 4]), ([[5, 5], 10], [0, 1])])

problem("valid-brackets", "Balanced brackets (method)", 0, ["strings", "stack", "call"], """
    Write `class Solution` with a method `is_valid(self, s)`: `s` holds only the characters ()[]{}.
    Return true when every bracket is closed by the same kind in the right order.""",
    """
    class Solution:
        def is_valid(self, s):
            pairs = {")": "(", "]": "[", "}": "{"}
            st = []
            for ch in s:
                if ch in pairs:
                    if not st or st.pop() != pairs[ch]:
                        return False
                else:
                    st.append(ch)
            return not st""",
    """
    class Solution:
        def is_valid(self, s):
            return all(s.count(o) == s.count(c) for o, c in ("()", "[]", "{}"))""",
    None, mode="call", fn_name="is_valid",
    starter="""
    class Solution:
        def is_valid(self, s: str) -> bool:
            ...""",
    samples=[(["()[]{}"], True), (["(]"], False), (["([)]"], False), (["{[]}"], True), ([""], True),
             (["(("], False), (["){"], False), (["[({})]()"], True)])

problem("stats-summary", "Mean and median (function)", 1, ["math", "float", "call"], """
    Write `summary(xs)`: return [mean, median] of a non-empty list of numbers (the median of an even
    count is the mean of the two middle values). Floats within 1e-9 are accepted.""",
    """
    def summary(xs):
        s = sorted(xs)
        n = len(s)
        med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
        return [sum(s) / n, med]""",
    """
    def summary(xs):
        s = sorted(xs)
        return [sum(s) / len(s), s[len(s) // 2]]""",
    None, mode="call", fn_name="summary", checker={"type": "float", "abs_tol": 1e-9, "rel_tol": 1e-9},
    samples=[([[1, 2, 3]], [2.0, 2]), ([[4, 1, 3, 2]], [2.5, 2.5]), ([[0.5]], [0.5, 0.5]), ([[10, -10]], [0.0, 0.0]),
             ([[1, 1, 2, 5, 9, 100]], [19.666666666666668, 3.5])])


# ---------------------------------------------------------------------------------- build

def run_py(code: str, inp: str) -> str:
    r = subprocess.run([sys.executable, "-c", code], input=inp, capture_output=True, text=True, timeout=60)
    if r.returncode:
        raise RuntimeError(f"reference failed: {r.stderr[-500:]}")
    return r.stdout


def call_py(code: str, fn: str, args):
    ns: dict = {}
    exec(compile(code, "<reference>", "exec"), ns)  # trusted, hand-written reference (authoring only)
    f = ns.get(fn) or getattr(ns["Solution"](), fn)
    return f(*json.loads(json.dumps(args)))


def build(dest: Path = OUT) -> None:
    if dest.exists():
        # replaced whole (a dropped problem must not linger); only ever a problem set
        strays = [p.name for p in dest.iterdir() if not (p / "problem.json").is_file()]
        if strays:
            sys.exit(f"{dest} holds {', '.join(sorted(strays)[:5])}, not only problem folders; refusing to delete it")
        shutil.rmtree(dest)
    rng = random.Random(20260525)
    for spec in P:
        d = dest / spec["id"]
        d.mkdir(parents=True)
        tests = []
        if spec["mode"] == "stdio":
            for inp, want in spec["samples"]:
                got = run_py(spec["ref"], inp)
                assert got.split() == want.split() or spec["checker"]["type"] == "float" or spec["checker_src"], \
                    (spec["id"], inp, got, want)
                if spec["checker"]["type"] == "float":
                    assert all(abs(float(a) - float(b)) < 1e-6 for a, b in zip(got.split(), want.split())), (spec["id"], got)
                tests.append({"input": inp, "output": got})
            for inp in spec["gen"](rng):
                out = run_py(spec["ref"], inp)
                if spec["brute"] is not None:
                    b = spec["brute"](inp)
                    assert b is None or b.split() == out.split(), (spec["id"], inp, out, b)
                tests.append({"input": inp, "output": out})
        else:
            for args, want in spec["samples"]:
                got = call_py(spec["ref"], spec["fn_name"], args)
                assert json.dumps(got) == json.dumps(want) or abs(got[0] - want[0]) < 1e-9, (spec["id"], args, got, want)
                tests.append({"args": args, "expected": got})
        meta = {"id": spec["id"], "title": spec["title"], "level": spec["level"], "tags": spec["tags"],
                "statement": spec["statement"], "mode": spec["mode"], "fn_name": spec["fn_name"],
                "time_limit_s": spec["time_limit"], "memory_mb": spec["memory"], "checker": spec["checker"],
                "source": "m1gym", "examples": 2, "tests": tests}
        (d / "problem.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
        (d / "reference.py").write_text(spec["ref"])
        (d / "wrong.py").write_text(spec["wrong"])
        for key, fname in (("ref_cpp", "reference.cpp"), ("wrong_cpp", "wrong.cpp"), ("checker_src", "checker.py"),
                           ("starter", "starter.py")):
            if spec[key]:
                (d / fname).write_text(spec[key])
        print(f"{spec['id']:<24} level {spec['level']}  {len(tests)} tests")
    print(f"{len(P)} problems written to {dest}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"problem set folder to (re)write (default {OUT})")
    build(ap.parse_args().out)
