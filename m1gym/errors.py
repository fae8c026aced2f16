"""Exceptions shared across parts. Low in the layering (imports nothing of m1gym), so every
sub-CLI can raise ``UserError`` without importing the top CLI (m1gym/cli.py re-exports it)."""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(Exception):
    """An error the user can fix; printed as one line (the message names the fix)."""
