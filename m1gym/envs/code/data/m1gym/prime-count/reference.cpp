#include <bits/stdc++.h>
using namespace std;
int main() {
    int n; cin >> n;
    vector<char> s(n + 1, 1); s[0] = 0; if (n >= 1) s[1] = 0;
    for (long long i = 2; i * i <= n; i++) if (s[i]) for (long long j = i * i; j <= n; j += i) s[j] = 0;
    cout << count(s.begin(), s.end(), 1) << "\n";
}
