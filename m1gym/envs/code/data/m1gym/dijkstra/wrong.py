import sys
from collections import deque
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = d[2 + 3 * i: 5 + 3 * i]
    adj[u].append((v, w))
dist = [-1] * (n + 1); dist[1] = 0
q = deque([1])
while q:
    u = q.popleft()
    for v, w in adj[u]:
        if dist[v] < 0:
            dist[v] = dist[u] + w
            q.append(v)
print(" ".join(map(str, dist[1:])))
