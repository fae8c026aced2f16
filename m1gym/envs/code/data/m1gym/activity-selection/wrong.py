import sys
d = list(map(int, sys.stdin.read().split()))
iv = sorted(zip(d[1::2], d[2::2]))
end, cnt = -1, 0
for s, e in iv:
    if s >= end:
        cnt += 1
        end = e
print(cnt)
