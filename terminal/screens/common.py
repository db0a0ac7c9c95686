"""Shared looks for every screen (common.kv): page box, headings, big buttons, nav bar."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

KV = Path(__file__).with_name("common.kv")
if str(KV) not in Builder.files:
    Builder.load_file(str(KV))


def load_kv(module_file: str) -> None:
    """Load a screen's .kv (next to its .py) once, after the shared looks."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)
