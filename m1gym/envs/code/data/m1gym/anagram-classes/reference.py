import sys
data = sys.stdin.read().split()
n = int(data[0])
print(len({"".join(sorted(w)) for w in data[1:1 + n]}))
