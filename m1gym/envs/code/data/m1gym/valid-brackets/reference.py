class Solution:
    def is_valid(self, s):
        pairs = {")": "(", "]": "[", "}": "{"}
        st = []
        for ch in s:
            if ch in pairs:
                if not st or st.pop() != pairs[ch]:
                    return False
            else:
                st.append(ch)
        return not st
