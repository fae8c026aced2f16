class Solution:
    def is_valid(self, s):
        return all(s.count(o) == s.count(c) for o, c in ("()", "[]", "{}"))
