import sys
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
print(max(1, n - m))
