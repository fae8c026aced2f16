import sys
d = list(map(int, sys.stdin.read().split()))
legs = list(zip(d[1::2], d[2::2]))
print(f"{sum(v for _, v in legs) / len(legs):.9f}")
