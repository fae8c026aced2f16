import sys
from collections import deque
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
adj = [[] for _ in range(n + 1)]
indeg = [0] * (n + 1)
for i in range(m):
    u, v = d[2 + 2 * i], d[3 + 2 * i]
    adj[u].append(v); indeg[v] += 1
q = deque(sorted((v for v in range(1, n + 1) if indeg[v] == 0), reverse=True))
order = []
while q:
    u = q.popleft(); order.append(u)
    for v in adj[u]:
        indeg[v] -= 1
        if indeg[v] == 0:
            q.append(v)
print(" ".join(map(str, order)) if len(order) == n else "IMPOSSIBLE")
