def title_case(text: str) -> str:
    return " ".join(w[:1].upper() + w[1:].lower() for w in text.split())


def snake_case(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch.isupper() and i and text[i - 1].islower():
            out.append("_")
        out.append(ch.lower())
    return "".join(out).replace(" ", "_")
