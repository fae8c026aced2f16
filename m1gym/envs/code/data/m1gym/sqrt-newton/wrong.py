import sys, math
d = sys.stdin.read().split()
print("\n".join(f"{math.sqrt(int(x)):.3f}" for x in d[1:1 + int(d[0])]))
