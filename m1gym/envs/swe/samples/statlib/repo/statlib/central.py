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
