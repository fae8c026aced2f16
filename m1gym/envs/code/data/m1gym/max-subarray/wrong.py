import sys
d = list(map(int, sys.stdin.read().split()))
best = cur = 0
for x in d[1:1 + d[0]]:
    cur = max(0, cur + x)
    best = max(best, cur)
print(best)
