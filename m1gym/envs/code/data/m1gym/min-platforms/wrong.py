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
print(best)
