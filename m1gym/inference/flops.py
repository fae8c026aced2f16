"""Generation FLOPs by the accounting of REFERENCE.md (M1 Figure 1: M1 vs DeepSeek-R1).

Per generated token at context position t (forward pass only, 2 FLOPs per multiply-add):

    f(t) = 2 * N_active                                      (every weight matrix once)
         + n_softmax_layers * 4 * H * d_qk * t               (Q K^T and A V against t cached keys)
         + n_lightning_layers * 4 * H * d^2                  (lightning: k^T v state update and q S,
                                                              independent of t)

and the cost of generating L tokens is sum_{t=1..L} f(t) = L * (2 N_active + lightning) +
softmax * L (L + 1) / 2. The figure plots the ratio of these sums.

Constants (documented, not fitted):
* M1: N_active 45.94B, computed from the built ``m1`` preset on the meta device (not typed in);
  10 softmax layers and 70 lightning layers, H = 64 heads of d = 128.
* DeepSeek-R1 (V3 shape): 61 layers, all MLA softmax attention, 128 heads, N_active = 37B.
  For MLA we count the query/key head dim d_qk = 192 (128 no-RoPE + 64 RoPE) for both attention
  products, i.e. 4 * 128 * 192 FLOPs per layer per cached token. (Counting the value dim 128 for
  A V instead gives 0.44 at 64K; the weight-absorbed MLA form would give 0.17. The d_qk = 192 form
  is the one that reproduces the figure.)
* Lengths: "64K" = 64,000 tokens. With these, the ratios are 0.386 / 0.290 / 0.247 at 64K / 100K /
  128K against the figure's 0.385 / 0.29 / 0.244 (read off the plot).
"""

from __future__ import annotations

from dataclasses import dataclass

FIGURE_1 = {64_000: 0.385, 100_000: 0.29, 128_000: 0.244}


@dataclass
class FlopModel:
    name: str
    n_active: float
    softmax_layers: int
    lightning_layers: int
    heads: int
    head_dim_qk: int
    lightning_head_dim: int = 128
    lightning_heads: int = 0

    def per_token(self, t: int) -> float:
        lightning = self.lightning_layers * 4 * self.lightning_heads * self.lightning_head_dim ** 2
        return 2 * self.n_active + lightning + self.softmax_layers * 4 * self.heads * self.head_dim_qk * t

    def generation(self, length: int) -> float:
        """Sum of per-token FLOPs for tokens at positions 1..length."""
        lightning = self.lightning_layers * 4 * self.lightning_heads * self.lightning_head_dim ** 2
        const = 2 * self.n_active + lightning
        return length * const + self.softmax_layers * 4 * self.heads * self.head_dim_qk * length * (length + 1) / 2


def m1_flop_model() -> FlopModel:
    from .model import build_meta, count_params

    model = build_meta("m1")
    cfg = model.config
    active = count_params(model)["active"]
    n_soft = sum(t == "full_attention" for t in cfg.layer_types)
    n_light = sum(t == "linear_attention" for t in cfg.layer_types)
    return FlopModel("MiniMax-M1", float(active), n_soft, n_light, cfg.num_attention_heads, cfg.head_dim,
                     lightning_head_dim=cfg.head_dim, lightning_heads=cfg.num_attention_heads)


def deepseek_r1_flop_model() -> FlopModel:
    return FlopModel("DeepSeek-R1", 37e9, softmax_layers=61, lightning_layers=0, heads=128, head_dim_qk=192)


COMPETITORS = {"deepseek-r1": deepseek_r1_flop_model}


def parse_length(text: str) -> int:
    t = text.strip().lower()
    mult = 1
    if t.endswith("k"):
        mult, t = 1000, t[:-1]
    elif t.endswith("m"):
        mult, t = 1_000_000, t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise ValueError(f"bad length {text!r}; write e.g. 32k,64k,100k,128k") from None
    if value <= 0:
        raise ValueError(f"length must be positive, got {text!r}")
    return value


def flops_table(lengths: list[int], vs: str = "deepseek-r1") -> str:
    if vs not in COMPETITORS:
        raise ValueError(f"--vs must be one of {', '.join(COMPETITORS)}")
    m1, other = m1_flop_model(), COMPETITORS[vs]()
    lines = [f"generation FLOPs, {m1.name} (N_active {m1.n_active / 1e9:.2f}B, {m1.softmax_layers} softmax + "
             f"{m1.lightning_layers} lightning layers) vs {other.name} (N_active {other.n_active / 1e9:.0f}B, "
             f"{other.softmax_layers} MLA layers)",
             f"{'length':>8} {'M1 TFLOPs':>11} {other.name + ' TFLOPs':>19} {'M1/' + other.name:>16} {'Figure 1':>9}"]
    for L in lengths:
        a, b = m1.generation(L), other.generation(L)
        fig = FIGURE_1.get(L)
        lines.append(f"{L // 1000 if L % 1000 == 0 else L:>7}{'K' if L % 1000 == 0 else ''} {a / 1e12:>11.1f} "
                     f"{b / 1e12:>19.1f} {a / b:>16.3f} {fig if fig is not None else '-':>9}")
    return "\n".join(lines)
