"""Compute kernels: lightning attention (reference and fused GPU paths)."""
