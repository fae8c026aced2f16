# checker.py input.txt output.txt answer.txt: prints OK when the output is a valid answer
import sys
inp = open(sys.argv[1]).read().split()
out = open(sys.argv[2]).read().split()
ans = open(sys.argv[3]).read().split()
n, m = int(inp[0]), int(inp[1])
edges = [(int(inp[2 + 2 * i]), int(inp[3 + 2 * i])) for i in range(m)]
if ans == ["IMPOSSIBLE"]:
    print("OK" if out == ["IMPOSSIBLE"] else "WRONG expected IMPOSSIBLE")
    sys.exit(0)
if len(out) != n or not all(t.isdigit() for t in out):
    print("WRONG not a permutation"); sys.exit(0)
order = [int(t) for t in out]
if sorted(order) != list(range(1, n + 1)):
    print("WRONG not a permutation"); sys.exit(0)
pos = {v: i for i, v in enumerate(order)}
bad = [(u, v) for u, v in edges if pos[u] > pos[v]]
print("OK" if not bad else "WRONG edge %d->%d violated" % bad[0])
