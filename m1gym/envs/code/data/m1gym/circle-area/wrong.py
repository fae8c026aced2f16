r = float(input())
print(f"{3.14 * r * r:.10f}")
