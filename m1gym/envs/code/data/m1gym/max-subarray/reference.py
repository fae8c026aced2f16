import sys
d = list(map(int, sys.stdin.read().split()))
best = cur = d[1]
for x in d[2:1 + d[0]]:
    cur = max(x, cur + x)
    best = max(best, cur)
print(best)
