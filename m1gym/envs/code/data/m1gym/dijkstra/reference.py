import sys, heapq
d = list(map(int, sys.stdin.read().split()))
n, m = d[0], d[1]
adj = [[] for _ in range(n + 1)]
for i in range(m):
    u, v, w = d[2 + 3 * i: 5 + 3 * i]
    adj[u].append((v, w))
INF = float("inf")
dist = [INF] * (n + 1); dist[1] = 0
h = [(0, 1)]
while h:
    du, u = heapq.heappop(h)
    if du > dist[u]:
        continue
    for v, w in adj[u]:
        if du + w < dist[v]:
            dist[v] = du + w
            heapq.heappush(h, (dist[v], v))
print(" ".join(str(x) if x < INF else "-1" for x in dist[1:]))
