import sys
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
edges = sorted((d[4 + 3 * i], d[2 + 3 * i], d[3 + 3 * i]) for i in range(m))
parent = list(range(n + 1))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
total, used = 0, 0
for w, u, v in edges:
    a, b = find(u), find(v)
    if a != b:
        parent[a] = b
        total += w
        used += 1
print(total if used == n - 1 else "IMPOSSIBLE")
