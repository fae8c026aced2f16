def total(n):
    res, p = 0, 1
    while p <= n:
        high, cur, low = n // (p * 10), (n // p) % 10, n % p
        res += high * 45 * p + (cur * (cur - 1) // 2) * p + cur * (low + 1)
        p *= 10
    return res
print(total(int(input()) - 1))
