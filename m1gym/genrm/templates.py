"""Judge prompts as versioned templates. A template's version goes into every verdict's details, so
scores from different prompt versions are never mixed silently."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    name: str
    version: str
    system: str
    user: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def messages(self, **fields: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": self.system}, {"role": "user", "content": self.user.format(**fields)}]


PAIRWISE_V1 = Template(
    name="pairwise", version="1",
    system=("You are an impartial judge. Compare two responses to the user's question for helpfulness, "
            "correctness and completeness. Length is not a merit: a longer answer is better only if the "
            "extra content is needed. Ignore the order in which the responses appear."),
    user=("[Question]\n{question}\n\n[Response A]\n{a}\n\n[Response B]\n{b}\n\n"
          "Explain briefly, then end with exactly one line of the form `Verdict: [[A]]`, `Verdict: [[B]]` "
          "or `Verdict: [[TIE]]`."),
)

FIVE_GRADE_V1 = Template(
    name="five_grade", version="1",
    system=("You are a strict grader. Compare the response with the reference answer and grade how well it "
            "answers the question: 5 fully correct and equivalent to the reference, 4 correct with minor "
            "flaws, 3 partially correct, 2 mostly wrong, 1 wrong or no answer."),
    user=("[Question]\n{question}\n\n[Reference answer]\n{reference}\n\n[Response]\n{response}\n\n"
          "Explain briefly, then end with exactly one line of the form `Grade: [[N]]` with N from 1 to 5."),
)
