import sys
d = list(map(int, sys.stdin.read().split()))
n = d[0]
print(" ".join(map(str, range(1, n + 1))))
