import sys
d = list(map(int, sys.stdin.read().split()))
n, A, coins = d[0], d[1], d[2:2 + d[0]]
M = 10**9 + 7
ways = [0] * (A + 1); ways[0] = 1
for x in range(1, A + 1):
    for c in coins:
        if c <= x:
            ways[x] = (ways[x] + ways[x - c]) % M
print(ways[A])
