import sys
d = list(map(int, sys.stdin.read().split()))
legs = list(zip(d[1::2], d[2::2]))
print(f"{sum(a for a, _ in legs) / sum(a / v for a, v in legs):.9f}")
