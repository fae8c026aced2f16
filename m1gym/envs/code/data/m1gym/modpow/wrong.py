a, b, m = map(int, input().split())
print(pow(a % m, b % m, m))
