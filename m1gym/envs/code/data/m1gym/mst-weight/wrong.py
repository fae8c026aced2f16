import sys
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
ws = sorted(d[4 + 3 * i] for i in range(m))
print(sum(ws[:n - 1]) if m >= n - 1 else "IMPOSSIBLE")
