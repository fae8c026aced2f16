"""Inference: the hybrid MiniMax model (presets, loading, checkpoints in the transformers/vLLM
layout), the tokenizers, the rollout engines and the OpenAI-compatible ``m1gym serve-model``.

The trainer, the GenRM judges and the curriculum's pass-rate filter all sample through this
package; it imports none of them. Submodules import torch; this package file does not.
"""
