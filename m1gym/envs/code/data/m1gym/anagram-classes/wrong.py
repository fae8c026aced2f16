import sys
data = sys.stdin.read().split()
n = int(data[0])
print(len({frozenset(w) for w in data[1:1 + n]}))
