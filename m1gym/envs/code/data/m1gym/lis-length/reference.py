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
print(len(tails))
