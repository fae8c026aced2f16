import sys
d = list(map(int, sys.stdin.read().split()))
n = d[0]
xs, ys = d[1:2 * n + 1:2], d[2:2 * n + 2:2]
s = sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))
print(f"{abs(s) / 2:.6f}")
