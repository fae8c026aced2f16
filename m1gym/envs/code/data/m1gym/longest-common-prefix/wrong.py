import sys
data = sys.stdin.read().split()
a, b = data[1], data[-1]
i = 0
while i < min(len(a), len(b)) and a[i] == b[i]:
    i += 1
print(a[:i] or "-")
