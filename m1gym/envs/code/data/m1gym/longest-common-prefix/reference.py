import sys
data = sys.stdin.read().split()
n = int(data[0]); ss = data[1:1 + n]
p = min(ss, key=len)
for s in ss:
    while not s.startswith(p):
        p = p[:-1]
print(p if p else "-")
