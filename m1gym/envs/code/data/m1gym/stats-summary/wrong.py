def summary(xs):
    s = sorted(xs)
    return [sum(s) / len(s), s[len(s) // 2]]
