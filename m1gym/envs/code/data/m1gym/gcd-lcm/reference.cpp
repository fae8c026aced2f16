#include <bits/stdc++.h>
using namespace std;
int main() {
    unsigned long long a, b; cin >> a >> b;
    unsigned long long g = __gcd(a, b);
    __int128 l = (__int128)(a / g) * b;
    string s; if (l == 0) s = "0";
    while (l > 0) { s += char('0' + (int)(l % 10)); l /= 10; }
    reverse(s.begin(), s.end());
    cout << g << " " << s << "\n";
}
