"""Per-task tests of logic group A: boolean_expressions, dyck_language, dyck_language_errors,
dyck_language_reasoning_errors, object_counting, object_properties, word_sorting,
word_sorting_mistake, goods_exchange.

For each task, over every level and several seeds:
- an independent solver that reads only the PROMPT TEXT (not the stored puzzle) reaches the gold
  answer, so the prompt states everything needed and the gold answer is right;
- at least three kinds of wrong answers score 0 with a reason: a rule broken, a given changed,
  malformed or truncated;
- equivalent ways of writing the unique answer (order of a set, spacing, case, a tuple literal
  instead of JSON) score 1.
"""

from __future__ import annotations

import json
import re

import pytest

from m1gym import get_env

SEEDS = range(20)
LEVELS = range(5)


def ans(text: str) -> str:
    return f"<answer>{text}</answer>"


def tasks(name: str):
    env = get_env(f"logic/{name}")
    for level in LEVELS:
        for seed in SEEDS:
            yield env, env.generate(seed, level)


def zero(env, task, text: str, why: str = "") -> None:
    s = env.score(task, ans(text))
    assert s.reward == 0.0, f"{env.name}: {why or text!r} scored {s.reward}"
    assert s.reason and not s.reason.startswith("verifier error"), (env.name, why, s.reason)


def one(env, task, text: str) -> None:
    s = env.score(task, ans(text))
    assert s.reward == 1.0, f"{env.name}: {text!r} should pass: {s.reason}"


def truncated(env, task) -> None:
    ref = env.reference(task)
    cut = ref[: ref.rindex("</answer>") - 1]  # lost the end of the answer and the closing tag
    s = env.score(task, cut)
    assert s.reward == 0.0 and s.reason


def prompt_line(task, prefix: str) -> str:
    for line in task.prompt_text.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise AssertionError(f"no line starting {prefix!r}")


# ---- boolean_expressions ------------------------------------------------------------------------

class _Parser:
    """An independent recursive-descent evaluator of the option grammar (shares no code with the task)."""

    def __init__(self, text: str):
        self.toks = re.findall(r"\d+|True|False|not|and|or|<=|>=|==|!=|[<>()+\-*]", text)
        assert "".join(self.toks) == re.sub(r"\s+", "", text), text
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected=None):
        tok = self.toks[self.i]
        assert expected is None or tok == expected, (tok, expected)
        self.i += 1
        return tok

    def parse(self):
        v = self.orr()
        assert self.peek() is None
        return v

    def orr(self):
        v = self.andd()
        while self.peek() == "or":
            self.take()
            w = self.andd()
            v = v or w
        return v

    def andd(self):
        v = self.nott()
        while self.peek() == "and":
            self.take()
            w = self.nott()
            v = v and w
        return v

    def nott(self):
        if self.peek() == "not":
            self.take()
            return not self.nott()
        return self.atom()

    def atom(self):
        tok = self.peek()
        if tok in ("True", "False"):
            self.take()
            return tok == "True"
        if tok == "(":  # a boolean group, or an arithmetic group starting a comparison
            save = self.i
            self.take("(")
            try:
                v = self.orr()
                self.take(")")
                if self.peek() in ("<", ">", "<=", ">=", "==", "!="):
                    raise AssertionError("group was arithmetic")
                if isinstance(v, bool):
                    return v
            except (AssertionError, IndexError):
                pass
            self.i = save
        left = self.arith()
        op = self.take()
        right = self.arith()
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right,
                "==": left == right, "!=": left != right}[op]

    def arith(self):
        v = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            w = self.term()
            v = v + w if op == "+" else v - w
        return v

    def term(self):
        v = self.factor()
        while self.peek() == "*":
            self.take()
            v = v * self.factor()
        return v

    def factor(self):
        tok = self.take()
        if tok == "-":
            return -self.factor()
        if tok == "(":
            v = self.arith()
            self.take(")")
            return v
        return int(tok)


def test_boolean_expressions():
    for env, task in tasks("boolean_expressions"):
        options = re.findall(r"^([A-J])\. (.*)$", task.prompt_text, flags=re.M)
        truth = [label for label, expr in options if _Parser(expr).parse()]
        assert truth == task.answer["solution"], task.prompt_text
        labels = [label for label, _ in options]
        false = [l for l in labels if l not in truth]
        one(env, task, ",".join(reversed(truth)))                    # order of a set is free
        one(env, task, " , ".join(t.lower() for t in truth))          # case and spacing
        zero(env, task, ",".join(truth + false[:1]), "a false option added (rule broken)")
        if len(truth) > 1:
            zero(env, task, ",".join(truth[1:]), "a true option dropped")
        zero(env, task, ",".join(truth + ["Z"]), "an option that does not exist (given changed)")
        zero(env, task, ",".join(truth + truth[:1]), "an option listed twice")
        zero(env, task, "A;;C", "malformed")
        truncated(env, task)


# ---- dyck family ----------------------------------------------------------------------------------

PAIRS = {"(": ")", "[": "]", "{": "}", "<": ">"}


def _stack_scan(seq: str):
    stack = []
    for i, c in enumerate(seq, 1):
        if c in PAIRS:
            stack.append(c)
        elif not stack or PAIRS[stack.pop()] != c:
            return i, stack
    return -1, stack


def test_dyck_language():
    for env, task in tasks("dyck_language"):
        prefix = prompt_line(task, "Sequence:").replace(" ", "")
        err, stack = _stack_scan(prefix)
        assert err == -1
        gold = prefix + "".join(PAIRS[o] for o in reversed(stack))
        assert gold == task.answer["solution"]
        one(env, task, " ".join(gold))                                # spacing is free
        one(env, task, f'"{gold}"')
        wrong_kind = {")": "]", "]": ")", "}": ")", ">": ")"}[gold[-1]]
        zero(env, task, gold[:-1] + wrong_kind, "last closer of the wrong kind (rule broken)")
        zero(env, task, gold + "()", "balanced but longer than needed")
        flipped = ("[" if prefix[0] != "[" else "(") + prefix[1:]
        zero(env, task, flipped + "".join(PAIRS[o] for o in reversed(_stack_scan(flipped)[1]))
             if _stack_scan(flipped)[0] == -1 else flipped, "a given character changed")
        zero(env, task, gold[len(prefix):], "only the completion, not the whole sequence")
        zero(env, task, gold[:-1], "truncated (one closer missing)")
        zero(env, task, "abc", "malformed")
        truncated(env, task)


def test_dyck_language_errors():
    for env, task in tasks("dyck_language_errors"):
        seq = prompt_line(task, "Sequence:").replace(" ", "")
        err, stack = _stack_scan(seq)
        gold = err if err != -1 else -1
        assert err != -1 or not stack, "invalid only at the end: must not be generated"
        assert gold == task.answer["solution"]
        one(env, task, f" {gold} ")
        if gold == -1:
            zero(env, task, "1", "a position for a valid sequence")
            one(env, task, "valid")
        else:
            zero(env, task, "-1", "valid for an invalid sequence")
            zero(env, task, str(gold + 1), "one past the error")
            zero(env, task, str(len(seq) + 5), "outside the sequence")
        zero(env, task, "three", "malformed")
        zero(env, task, f"{gold}, {gold + 1}", "two numbers")
        truncated_resp = env.reference(task).replace("</answer>", "")
        assert env.score(task, truncated_resp).reward == 0.0


def test_dyck_language_reasoning_errors():
    for env, task in tasks("dyck_language_reasoning_errors"):
        seq = prompt_line(task, "Sequence:").replace(" ", "")
        thoughts = re.findall(r"^Thought (\d+): (.*)$", task.prompt_text, flags=re.M)
        stack, wrong = [], []
        steps = [(int(n), body) for n, body in thoughts if " ; stack: " in body]
        assert len(steps) == len(seq)
        for (n, body), ch in zip(steps, seq):
            written_ch, written = body.split(" ; stack: ")
            assert written_ch == ch
            stack.append(ch) if ch in PAIRS else stack.pop()
            if written.split() != (stack or ["empty"]):
                wrong.append(n)
        n_final, final = thoughts[-1]
        m = re.search(r"final stack is (.*), so the sequence is (not balanced|balanced)", final)
        if m.group(1).split() != (stack or ["empty"]) or (m.group(2) == "balanced") != (not stack):
            wrong.append(int(n_final))
        assert wrong == task.answer["solution"], task.prompt_text
        text = ",".join(map(str, wrong)) if wrong else "none"
        one(env, task, text)
        if wrong:
            one(env, task, ", ".join(map(str, reversed(wrong))))      # order free
            zero(env, task, "none", "none when thoughts are wrong")
            zero(env, task, ",".join(map(str, wrong[1:] or [1])), "one wrong thought missed")
        else:
            zero(env, task, "3", "a correct thought flagged")
        zero(env, task, ",".join(map(str, wrong + [1])), "a correct thought added (given changed)")
        zero(env, task, "3;x", "malformed")
        truncated(env, task)


# ---- counting tasks -------------------------------------------------------------------------------

NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def test_object_counting():
    from m1gym.envs.logic.object_counting import CATEGORIES

    for env, task in tasks("object_counting"):
        text = task.prompt_text
        category = re.search(r"How many (.+?) do I have now\?", text).group(1)
        nouns = {}
        for cat, items in CATEGORIES.items():
            for sing, plur in items:
                nouns[sing], nouns[plur] = cat, cat
        have = {}
        inventory = re.match(r"I have (.*?)\. ", text).group(1)
        for part in re.split(r", and |, ", inventory):
            m = re.match(r"(a|an|\w+) (.+)$", part)
            have[m.group(2)] = 1 if m.group(1) in ("a", "an") else NUMBER_WORDS[m.group(1)]
        plural = {s: p for items in CATEGORIES.values() for s, p in items}
        singular = {p: s for s, p in plural.items()}

        def key(noun):
            return noun if noun in have else plural.get(noun, singular.get(noun))

        for m in re.finditer(r"I (gave away|lost|sold) (\w+) of my (.+?)\.", text):
            have[key(m.group(3))] -= NUMBER_WORDS[m.group(2)]
        for m in re.finditer(r"I (bought|was given) (\w+) more (.+?)\.", text):
            have[key(m.group(3))] += NUMBER_WORDS[m.group(2)]
        gold = sum(n for noun, n in have.items() if nouns[noun] == category)
        assert gold == task.answer["solution"], text
        one(env, task, f"{gold}.")
        zero(env, task, str(gold + 1), "one too many (a distractor counted)")
        zero(env, task, str(gold - 1), "one too few (an item missed)")
        zero(env, task, f"{gold} {category}", "malformed (trailing words)")
        zero(env, task, "seventeen", "number as a word")
        truncated(env, task)


def test_object_properties():
    for env, task in tasks("object_properties"):
        text = task.prompt_text
        objs = {}
        first = re.match(r"I have (.*?)\.(?: Then|\n)", text).group(1)
        for m in re.finditer(r"an? (\w+) (\w+) (\w+) (\w+)", first):
            objs[m.group(4)] = {"size": m.group(1), "color": m.group(2), "material": m.group(3)}
        events = re.search(r"Then, in this order: (.*)\n", text)
        for sent in re.findall(r"I [^.]*\.", events.group(1) if events else ""):
            if m := re.fullmatch(r"I paint the (\w+) (\w+)\.", sent):
                objs[m.group(1)]["color"] = m.group(2)
            elif m := re.fullmatch(r"I repaint the (\w+) in the colour of the (\w+)\.", sent):
                objs[m.group(1)]["color"] = objs[m.group(2)]["color"]
            elif m := re.match(r"I replace the (\w+) and the (\w+) with copies", sent):
                a, b = objs[m.group(1)], objs[m.group(2)]
                a["size"], b["size"] = b["size"], a["size"]
            elif m := re.fullmatch(r"I give the (\w+) to a friend\.", sent):
                del objs[m.group(1)]
            elif m := re.fullmatch(r"I buy an? (\w+) (\w+) (\w+) (\w+)\.", sent):
                objs[m.group(4)] = {"size": m.group(1), "color": m.group(2), "material": m.group(3)}
            elif m := re.fullmatch(r"I trade my (\w+) for my neighbour's (\w+) (\w+) (\w+) (\w+)\.", sent):
                del objs[m.group(1)]
                objs[m.group(5)] = {"size": m.group(2), "color": m.group(3), "material": m.group(4)}
            else:
                raise AssertionError(f"unparsed event {sent!r}")
        q = re.search(r"at the end (?:are (not both |not )?(.+)|do not have all three of these properties: (.+))\?",
                      text)
        negate = bool(q.group(1) or q.group(3))
        wanted = set(re.split(r" and |, ", q.group(2) or q.group(3)))
        count = sum(wanted <= set(o.values()) for o in objs.values())
        gold = len(objs) - count if negate else count
        assert gold == task.answer["solution"], text
        one(env, task, str(gold))
        zero(env, task, str(gold + 1), "one too many")
        zero(env, task, str(len(objs) + 3), "more than there are objects")
        zero(env, task, "two", "malformed")
        truncated(env, task)


# ---- word sorting -------------------------------------------------------------------------------

def _alphabet(task) -> str:
    m = re.search(r"(?:The full order is|earliest first\)): ([a-z ]+)\.", task.prompt_text)
    return m.group(1).replace(" ", "") if m else "abcdefghijklmnopqrstuvwxyz"


def _key(alphabet):
    rank = {c: i for i, c in enumerate(alphabet)}
    return lambda w: [rank[c] for c in w]


def test_word_sorting():
    for env, task in tasks("word_sorting"):
        words = prompt_line(task, "Words:").split()
        gold = sorted(words, key=_key(_alphabet(task)))
        assert gold == task.answer["solution"]
        one(env, task, json.dumps(gold))                              # JSON list form
        one(env, task, " ".join(gold).upper())                        # spaces, case
        swapped = gold[:]
        swapped[0], swapped[1] = swapped[1], swapped[0]
        zero(env, task, ", ".join(swapped), "two words out of order (rule broken)")
        changed = gold[:-1] + [gold[-1] + "q"]
        zero(env, task, ", ".join(changed), "a given word changed")
        zero(env, task, ", ".join(gold[:-1]), "a word missing")
        zero(env, task, ", ".join(gold + gold[:1]), "a word repeated")
        zero(env, task, '["a", 1]', "malformed JSON list")
        truncated(env, task)


def test_word_sorting_mistake():
    for env, task in tasks("word_sorting_mistake"):
        words = prompt_line(task, "Words:").split()
        key = _key(_alphabet(task))
        steps = re.findall(r"^Step \d+: the earliest remaining word is (\w+)\.", task.prompt_text, flags=re.M)
        remaining, gold = list(words), "No"
        for i, w in enumerate(steps, 1):
            if w != min(remaining, key=key):
                gold = i
                break
            remaining.remove(w)
        assert gold == task.answer["solution"]
        if gold == "No":
            one(env, task, "no")
            zero(env, task, "1", "a step when every step is right")
        else:
            one(env, task, f"Step {gold}")
            zero(env, task, "No", "No when a step is wrong")
            zero(env, task, str(gold + 1), "a later step")
            if gold > 1:
                zero(env, task, str(gold - 1), "an earlier (right) step")
        zero(env, task, "3.5", "malformed")
        truncated(env, task)


# ---- goods_exchange -----------------------------------------------------------------------------

def test_goods_exchange():
    for env, task in tasks("goods_exchange"):
        text = task.prompt_text
        owner = {m.group(1): m.group(2) for m in re.finditer(r"^- (\w+) has the (\w+)\.$", text, flags=re.M)}
        for line in re.findall(r"^\d+\. (.*)$", text, flags=re.M):
            holder = {i: p for p, i in owner.items()}
            if m := re.fullmatch(r"(\w+) and (\w+) swap their items\.", line):
                a, b = m.groups()
            elif m := re.fullmatch(r"Whoever holds the (\w+) swaps items with (\w+)\.", line):
                a, b = holder[m.group(1)], m.group(2)
            elif m := re.fullmatch(r"The person holding the (\w+) and the person holding the (\w+) swap items\.", line):
                a, b = holder[m.group(1)], holder[m.group(2)]
            elif m := re.match(r"(\w+), (\w+) and (\w+) pass their items round", line):
                ring = m.groups()
                items = [owner[p] for p in ring]
                for i, p in enumerate(ring):
                    owner[p] = items[i - 1]
                continue
            else:
                raise AssertionError(f"unparsed exchange {line!r}")
            owner[a], owner[b] = owner[b], owner[a]
        assert owner == task.answer["solution"], text
        people = list(owner)
        one(env, task, json.dumps(dict(reversed(list(owner.items())))))   # key order free
        one(env, task, json.dumps({p.lower(): i.upper() for p, i in owner.items()}))
        one(env, task, "(" + ", ".join(f"('{p}', '{i}')" for p, i in owner.items()) + ")")  # SynLogic tuples
        swapped = dict(owner)
        swapped[people[0]], swapped[people[1]] = owner[people[1]], owner[people[0]]
        zero(env, task, json.dumps(swapped), "two holders swapped (rule broken)")
        renamed = dict(owner)
        renamed["Zed"] = renamed.pop(people[0])
        zero(env, task, json.dumps(renamed), "a person renamed (given changed)")
        dup = dict(owner)
        dup[people[0]] = owner[people[1]]
        zero(env, task, json.dumps(dup), "one item given to two people")
        zero(env, task, json.dumps(dict(list(owner.items())[1:])), "a person missing")
        zero(env, task, json.dumps(owner)[:-2], "truncated JSON")
        zero(env, task, "[('a', 'b'), ('c',)]", "malformed pairs")
        truncated(env, task)


def test_reasons_name_the_problem():
    env = get_env("logic/dyck_language")
    task = env.generate(3, 2)
    gold = task.answer["solution"]
    assert "shortest" in env.score(task, ans(gold + "[]")).reason
    assert "given" in env.score(task, ans(("[" if gold[0] != "[" else "(") + gold[1:])).reason
    env = get_env("logic/word_sorting")
    task = env.generate(1, 1)
    g = task.answer["solution"]
    assert "must come after" in env.score(task, ans(", ".join([g[1], g[0], *g[2:]]))).reason
    assert "missing" in env.score(task, ans(", ".join(g[1:]))).reason


@pytest.mark.parametrize("name", ["boolean_expressions", "dyck_language", "dyck_language_errors",
                                  "dyck_language_reasoning_errors", "object_counting", "object_properties",
                                  "word_sorting", "word_sorting_mistake", "goods_exchange"])
def test_reference_has_reasoning_and_levels_grow(name):
    env = get_env(f"logic/{name}")
    t0, t4 = env.generate(0, 0), env.generate(0, 4)
    assert "<think>" in env.reference(t0)
    assert len(t4.prompt_text) > len(t0.prompt_text)
