import sys
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
parent = list(range(n + 1))
def find(x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x
comps = n
for i in range(m):
    a, b = find(d[2 + 2 * i]), find(d[3 + 2 * i])
    if a != b:
        parent[a] = b
        comps -= 1
print(comps)
