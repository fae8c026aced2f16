t = input().strip(); p = input().strip()
s = p + "#" + t
pi = [0] * len(s)
for i in range(1, len(s)):
    k = pi[i - 1]
    while k and s[i] != s[k]:
        k = pi[k - 1]
    if s[i] == s[k]:
        k += 1
    pi[i] = k
print(sum(1 for v in pi if v == len(p)))
