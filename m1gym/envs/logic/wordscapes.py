"""Wordscapes: fill a crossword layout from a word list, each word used exactly once.

The layout (open and blocked cells) is shown with the list of words. Every slot (maximal run of 2
or more open cells across or down) must read one listed word, and every listed word fills exactly
one slot. The verifier checks by position: it reads every slot of the layout from the answer grid,
so a word placed in the wrong slot, or a word that only appears inside a longer run, fails.
The generator builds a random crossword from a built-in English word list and re-checks that its
slots are exactly the placed words.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass

from ...core import Score
from .base import AnswerParseError, GenerationError, LogicTask, MAX_GENERATION_ATTEMPTS, grid_text, \
    parse_cell_grid, register_logic

WORDS = sorted(set("""
ace act add age ago aid aim air all and ant any ape arc are ark arm art ash ask ate awe axe bad bag
ban bar bat bay bed bee beg bet bid big bin bit bow box boy bud bug bun bus but buy cab can cap car
cat cow cry cub cup cut dad day den dew did die dig dim dip dog dot dry due dug dye ear eat egg elf
elk elm end era eve eye fan far fat fee few fig fin fit fix fly foe fog for fox fry fun fur gap gas
gem get gum gun gut guy gym had ham has hat hay hen her hid him hip his hit hog hop hot how hub hue
hug hut ice ill ink inn ion ivy jam jar jaw jet job jog joy jug keg key kid kin kit lab lad lap law
lay led leg let lid lie lip lit log lot low mad man map mat may men met mix mob mop mud mug nap net
new nod nor not now nut oak oar oat odd off oil old one orb ore our out owl own pad pan paw pay pea
pen pet pie pig pin pit pod pop pot pub pun pup put rag ram ran rat raw ray red rib rid rig rim rip
rob rod rot row rub rug run rye sad sag sap sat saw say sea see set sew shy sin sip sit six ski sky
sly sob sod son sow soy spa spy sub sum sun tab tag tan tap tar tea ten the tie tin tip toe ton top
toy try tub tug two urn use van vat vet via vow wag war was wax way web wed wet who why wig win wit
woe wok won yak yam yes yet you zap zip zoo
able acid aged also area army away baby back bake ball band bank barn base bath bean bear beat bell
belt bend best bike bird bite blue boat body bold bone book boot born boss both bowl bulb burn bush
busy cake calm camp card care cart case cash cave cell chef chin city clay clip club coal coat code
coin cold cook cool copy core corn cost crew crop cube cure dark data date dawn deal dear deep deer
desk dice diet dish dive dock door dose down draw drop drum duck dust duty earn east easy edge else
epic even exit face fact fair fall farm fast fate fear feed feel file fill film find fine fire firm
fish five flag flat flow foam fold folk food foot form fort four free frog fuel full game gate gear
gift girl give glad glow glue goal goat gold golf good gray grid grin grow gulf hair half hall hand
hard harm hawk head heal heap heat herb hero hide high hill hint hold hole home hook hope horn host
hour huge hunt idea inch iron item jazz join joke jump jury keen keep kind king kite knee knot lake
lamb lamp land lane last late lawn lead leaf lean left lens life lift like lime line link lion list
live load loan lock loft long loop lord love luck lung mail main make mall many mark mask meal meat
melt menu mild milk mind mine mint miss mode mood moon moss most moth move much nail name navy near
neat neck need nest news next nice node none noon nose note oven over pace pack page pain pair palm
park part pass past path peak pear pine pink pipe plan play plot plum poem poet pole pond pool poor
port pose post pour pull pump pure push quiz race rain rank rare rate read real rest rice rich ride
ring rise risk road rock role roof room root rope rose ruby rule rush safe sail salt same sand save
seal seat seed self sell send ship shoe shop shot show sign silk sing site size skin slow snow soap
sock soft soil song soup sour spin star stay step stem stop suit swim tail tale talk tall tank tape
task team tent term test text tide tile time tiny tool tour town tree trip true tube tune turn twin
type unit vase vast verb very vest view vine vote wage wait wake walk wall warm wash wave weak wear
week well west whale wide wife wild wind wine wing wire wise wish wolf wood wool word work yard year
zero zone
about above actor adult alarm album alert alive apple arena armor arrow aside badge baker basic
beach beard begin bench berry birth black blade blank blend block bloom board bonus boost brain
brave bread brick brief bring broad brown brush build cabin camel candy cargo chain chair chalk
charm chart chase cheap check chess chest chief child civic claim class clean clear clerk climb clock
cloud coach coast coral count cover craft crane cream crisp crown curve cycle dairy dance delta depth
diary dinner dozen draft drama dream dress drift drink drive eagle early earth elbow empty enjoy
entry equal event exact extra fable faith false fancy feast fence ferry field final flame fleet
flour fluid focus force forge frame fresh front frost fruit giant glass globe grain grape grass
great green group guard guest guide habit happy harsh heart heavy hedge honey horse hotel house human
humor ideal image index inner input ivory jelly jewel judge juice knife label labor layer lemon level
light limit linen local logic lunar lunch magic major maple march match metal meter minor model money
month moral motor mouse mouth movie music nerve never night noble noise north novel nurse ocean offer
olive onion opera orbit order organ other outer owner paint panel paper party patch peace pearl pedal
phone photo piano pilot pitch place plain plane plant plate point polar pouch power press price pride
prime print prize proof proud pupil queen quick quiet radio raise range rapid raven reach ready
relay ridge right river robin robot rough round route royal ruler rural salad sauce scale scene
scout sense shade shape share sharp sheep shelf shell shift shine shirt shore short skill slate sleep
slice smile smoke snake solar solid sound south space spare spark speed spice spine spoon sport squad
stage stair stamp stand steam steel stick stone storm story stove straw strip sugar sunny sweet table
taste teach thick thumb tiger toast token topic torch total tower track trade trail train treat trend
trial tribe truck trust truth twist uncle union upper urban usual valid value vapor video visit
vital vivid vocal voice wagon waste watch water wheat wheel white whole width world worth yield young
youth zebra
""".upper().split()))


@dataclass
class Knobs:
    h: int = 6
    w: int = 6
    n_words: int = 4
    hint_rate: float = 0.2  #: share of open cells shown with their letter


def slots(layout: list[str]) -> list[tuple[str, int, int, int]]:
    """Every maximal run of >= 2 open cells: (direction 'across'/'down', row, col, length)."""
    h, w = len(layout), len(layout[0])
    out = []
    for r in range(h):
        c = 0
        while c < w:
            if layout[r][c] != "#":
                s = c
                while c < w and layout[r][c] != "#":
                    c += 1
                if c - s >= 2:
                    out.append(("across", r, s, c - s))
            else:
                c += 1
    for c in range(w):
        r = 0
        while r < h:
            if layout[r][c] != "#":
                s = r
                while r < h and layout[r][c] != "#":
                    r += 1
                if r - s >= 2:
                    out.append(("down", s, c, r - s))
            else:
                r += 1
    return out


def read_slot(g: list[list[str]], slot: tuple[str, int, int, int]) -> str:
    d, r, c, n = slot
    return "".join(g[r][c + i] if d == "across" else g[r + i][c] for i in range(n))


class Wordscapes(LogicTask):
    task_name = "wordscapes"
    description = "Wordscapes: fill every crossword slot with a listed word, each used once"
    answer_format = 'JSON grid of letters, "#" for blocked cells'
    Knobs = Knobs
    level_table = {
        0: {"h": 5, "w": 5, "n_words": 3, "hint_rate": 0.3},
        1: {"h": 6, "w": 6, "n_words": 4, "hint_rate": 0.2},
        2: {"h": 7, "w": 7, "n_words": 6, "hint_rate": 0.1},
        3: {"h": 9, "w": 9, "n_words": 8, "hint_rate": 0.05},
        4: {"h": 11, "w": 11, "n_words": 11, "hint_rate": 0.0},
    }

    def build(self, rng: random.Random, k: Knobs) -> dict:
        h, w = k.h, k.w
        if h < 4 or w < 4 or k.n_words < 2:
            raise ValueError(f"wordscapes: need h, w >= 4 and n_words >= 2, got {k}")
        pool = [x for x in WORDS if len(x) <= max(h, w)]
        for _ in range(MAX_GENERATION_ATTEMPTS):
            g = [["#"] * w for _ in range(h)]
            placed: list[str] = []
            first = rng.choice([x for x in pool if len(x) <= w and len(x) >= 4])
            r0, c0 = rng.randrange(h), rng.randrange(w - len(first) + 1)
            for i, ch in enumerate(first):
                g[r0][c0 + i] = ch
            placed.append(first)
            tries = 0
            while len(placed) < k.n_words and tries < 400:
                tries += 1
                word = rng.choice(pool)
                if word in placed:
                    continue
                spots = self._spots(g, word)
                if not spots:
                    continue
                d, r, c = rng.choice(spots)
                old = [row[:] for row in g]
                for i, ch in enumerate(word):
                    if d == "across":
                        g[r][c + i] = ch
                    else:
                        g[r + i][c] = ch
                layout = ["".join("#" if ch == "#" else "." for ch in row) for row in g]
                words_now = sorted(read_slot(g, s) for s in slots(layout))
                if words_now != sorted(placed + [word]):
                    g = old
                    continue
                placed.append(word)
            if len(placed) < k.n_words:
                continue
            rows_used = [r for r in range(h) if any(ch != "#" for ch in g[r])]
            cols_used = [c for c in range(w) if any(g[r][c] != "#" for r in range(h))]
            g = [row[cols_used[0]:cols_used[-1] + 1] for row in g[rows_used[0]:rows_used[-1] + 1]]
            h, w = len(g), len(g[0])
            layout = ["".join("#" if ch == "#" else "." for ch in row) for row in g]
            open_cells = [(r, c) for r in range(h) for c in range(w) if g[r][c] != "#"]
            rng.shuffle(open_cells)
            hints = {x for x in open_cells[:round(k.hint_rate * len(open_cells))]}
            shown = ["".join(g[r][c] if (r, c) in hints else layout[r][c] for c in range(w)) for r in range(h)]
            words = sorted(placed, key=lambda x: (len(x), x))
            puzzle = {"h": h, "w": w, "layout": shown, "words": words, "solution": g}
            if self.check(puzzle, grid_text(g)).reward == 1.0:
                return puzzle
        raise GenerationError(f"wordscapes: no instance for {k}")

    @staticmethod
    def _spots(g: list[list[str]], word: str) -> list[tuple[str, int, int]]:
        """Placements of ``word`` crossing at least one placed letter, with free cells before and after."""
        h, w = len(g), len(g[0])
        starts = set()
        for r in range(h):
            for c in range(w):
                ch = g[r][c]
                if ch == "#":
                    continue
                for i, x in enumerate(word):
                    if x == ch:
                        starts.add(("across", r, c - i))
                        starts.add(("down", r - i, c))
        out = []
        for d, r, c in sorted(starts):
            dr, dc = (0, 1) if d == "across" else (1, 0)
            er, ec = r + dr * (len(word) - 1), c + dc * (len(word) - 1)
            if r < 0 or c < 0 or er >= h or ec >= w:
                continue
            br, bc = r - dr, c - dc
            if 0 <= br and 0 <= bc and g[br][bc] != "#":
                continue
            ar, ac = er + dr, ec + dc
            if ar < h and ac < w and g[ar][ac] != "#":
                continue
            cross = 0
            ok = True
            for i, ch in enumerate(word):
                x = g[r + dr * i][c + dc * i]
                if x == "#":
                    continue
                if x != ch:
                    ok = False
                    break
                cross += 1
            if ok and 0 < cross < len(word):
                out.append((d, r, c))
        return out

    def prompt(self, p: dict) -> str:
        h, w = p["h"], p["w"]
        rows = "\n".join(" ".join("_" if ch == "." else ch for ch in row) for row in p["layout"])
        return (
            f"Crossword fill on a {h}x{w} grid. '#' is a blocked cell, '_' an open cell to fill, and a letter an "
            f"open cell whose letter is given:\n{rows}\n\n"
            f"Words ({len(p['words'])}): {', '.join(p['words'])}\n\n"
            "Write one letter in every open cell so that every slot (a maximal horizontal or vertical run of 2 "
            "or more open cells) reads one of the listed words, from left to right or from top to bottom, and "
            "every listed word fills exactly one slot (each word is used exactly once). Given letters stay.\n\n"
            "Answer with the full grid as a JSON list of rows, one uppercase letter per open cell and \"#\" for "
            "every blocked cell. Example format for a 2x3 grid: [[\"C\",\"A\",\"T\"],[\"#\",\"#\",\"O\"]]"
        )

    def check(self, p: dict, answer: str) -> Score:
        h, w, layout = p["h"], p["w"], p["layout"]
        g = parse_cell_grid(answer, h, w)
        for r in range(h):
            for c in range(w):
                v = g[r][c].upper()
                g[r][c] = v
                want = layout[r][c]
                if want == "#":
                    if v != "#":
                        return Score.fail(f"cell ({r},{c}) is blocked and must stay '#'", format_ok=True)
                    continue
                if len(v) != 1 or not ("A" <= v <= "Z"):
                    if v == "#":
                        return Score.fail(f"cell ({r},{c}) is open and needs a letter", format_ok=True)
                    raise AnswerParseError(f"cell ({r},{c}) holds {v!r}; open cells take one letter A-Z")
                if want != "." and v != want:
                    return Score.fail(f"cell ({r},{c}) must keep its given letter {want}", format_ok=True)
        plain = ["".join("#" if ch == "#" else "." for ch in row) for row in layout]
        need = Counter(p["words"])
        used: Counter = Counter()
        for s in slots(plain):
            word = read_slot(g, s)
            if word not in need:
                return Score.fail(f"{s[0]} slot at ({s[1]},{s[2]}) reads {word}, not a listed word", format_ok=True)
            used[word] += 1
            if used[word] > need[word]:
                return Score.fail(f"{word} fills more than one slot", format_ok=True)
        missing = sorted((need - used).elements())
        if missing:
            return Score.fail(f"word(s) not placed: {', '.join(missing)}", format_ok=True)
        return Score.ok()

    def random_answer(self, p: dict, rng: random.Random) -> str:
        g = [["#" if ch == "#" else ch for ch in row] for row in p["layout"]]
        plain = ["".join("#" if ch == "#" else "." for ch in row) for row in p["layout"]]
        for d, r, c, n in slots(plain):
            fits = [x for x in p["words"] if len(x) == n]
            word = rng.choice(fits) if fits else "A" * n
            for i, ch in enumerate(word):
                if d == "across":
                    g[r][c + i] = ch
                else:
                    g[r + i][c] = ch
        return grid_text([[ch if ch != "." else "A" for ch in row] for row in g])

    def solution_text(self, p: dict) -> str:
        return grid_text(p["solution"])

    def reasoning(self, p: dict) -> str:
        plain = ["".join("#" if ch == "#" else "." for ch in row) for row in p["layout"]]
        lines = [f"{d} slot at ({r},{c}), length {n}: {read_slot(p['solution'], (d, r, c, n))}"
                 for d, r, c, n in slots(plain)]
        return ("Match slot lengths to word lengths and make the crossing letters agree:\n" + "\n".join(lines))

    @classmethod
    def from_synlogic(cls, question: str, answer, metadata: dict) -> dict | None:
        """SynLogic rows (wordscapes_verifier.py): ``metadata["grid"]`` marks letter cells "X" and empty
        cells "0"; ``across_words`` / ``down_words`` list the words; the gold answer is the letter grid
        (empty cells "0", "" or " "). SynLogic only checks that each word appears somewhere in a row or
        column; our check is positional (every slot reads a listed word, each used once) but does not
        bind a word to across or down, so a row maps only when its gold grid meets our check and no
        across word has the length of a down word. Empty cells are written "#" here."""
        from .synlogic import gold_value, scores_gold

        mask = [list(row) if isinstance(row, str) else [str(x).strip() for x in row] for row in metadata["grid"]]
        h = len(mask)
        if not h or any(len(row) != len(mask[0]) for row in mask):
            return None
        w = len(mask[0])
        gold = gold_value(answer)
        if not (isinstance(gold, list) and len(gold) == h and all(isinstance(r, list) and len(r) == w for r in gold)):
            return None
        sol = []
        for r in range(h):
            row = []
            for c in range(w):
                v = str(gold[r][c]).strip().upper()
                if mask[r][c] == "X":
                    if not (len(v) == 1 and "A" <= v <= "Z"):
                        return None
                    row.append(v)
                elif v in ("", "0", "#"):
                    row.append("#")
                else:
                    return None
            sol.append(row)
        across = [str(x).strip().upper() for x in metadata["across_words"] if str(x).strip()]
        down = [str(x).strip().upper() for x in metadata["down_words"] if str(x).strip()]
        if {len(x) for x in across} & {len(x) for x in down}:
            return None  # our check does not bind words to a direction; with disjoint lengths nothing else can
        words = sorted(across + down)
        layout = ["".join("." if ch != "#" else "#" for ch in row) for row in sol]
        puzzle = {"h": h, "w": w, "layout": layout, "words": words, "solution": sol}
        return scores_gold(cls, puzzle, grid_text(sol))


register_logic(Wordscapes)
