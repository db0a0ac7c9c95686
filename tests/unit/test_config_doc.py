"""docs/CONFIG.md and docs/kiosk.example.toml cover every key of the config dataclasses.

Walks the dataclasses of `terminal.config.Config`: every key needs a row in its section's table
in CONFIG.md with the default the code has and an example of the right type, and a value in
the example file, which must load through the real loader.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path

import pytest

from terminal.config import Config, load_config
from terminal.config_sections import MonitorSection

DOCS = Path(__file__).resolve().parents[2] / "docs"
CONFIG_MD = DOCS / "CONFIG.md"
EXAMPLE = DOCS / "kiosk.example.toml"
HEADING = re.compile(r"^### `\[\[?([\w.]+)\]\]?`\s*$", re.M)
ROW = re.compile(r"^\| `(\w+)` \| (.+?) \| (.+?) \| (.+?) \|\s*$", re.M)


def sections() -> list[tuple[str, type]]:
    """(`section` or `section.table`, dataclass) for every table of the config, nested too."""
    found = []

    def walk(name: str, cls: type) -> None:
        found.append((name, cls))
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            args = typing.get_args(hints[f.name])
            if args and dataclasses.is_dataclass(args[0]):
                walk(f"{name}.{f.name}", args[0])

    hints = typing.get_type_hints(Config)
    for f in dataclasses.fields(Config):
        if f.name != "source":
            walk(f.name, hints[f.name])
    return found


def doc_tables() -> dict[str, dict[str, tuple[str, str, str]]]:
    """Section → key → (default, meaning, example) cells, from the tables under each heading."""
    text = CONFIG_MD.read_text(encoding="utf-8")
    marks = list(HEADING.finditer(text))
    tables = {}
    for i, m in enumerate(marks):
        body = text[m.end():marks[i + 1].start() if i + 1 < len(marks) else len(text)]
        body = body.split("\n## ", 1)[0]
        tables[m.group(1)] = {r.group(1): (r.group(2), r.group(3), r.group(4))
                              for r in ROW.finditer(body) if r.group(1) != "key"}
    return tables


def toml_value(cell: str) -> object:
    """A table cell holding one backticked TOML value, parsed."""
    assert re.fullmatch(r"`[^`]+`", cell), f"not a `value`: {cell}"
    return tomllib.loads(f"v = {cell[1:-1]}")["v"]


def plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def is_table_list(cls: type, name: str) -> bool:
    args = typing.get_args(typing.get_type_hints(cls)[name])
    return bool(args) and dataclasses.is_dataclass(args[0])


SECTIONS = sections()


def test_the_walk_sees_every_section():
    names = {n for n, _ in SECTIONS}
    assert {"terminal", "bus", "bus.boards", "locker", "locker.compartments", "log",
            "monitor", "mqtt", "platform", "devices"} <= names


@pytest.mark.parametrize(("section", "cls"), SECTIONS, ids=[n for n, _ in SECTIONS])
def test_every_key_is_documented_with_its_default_and_an_example(section, cls):
    tables = doc_tables()
    assert section in tables, f"CONFIG.md has no ### `[{section}]` table"
    rows = tables[section]
    keys = [f.name for f in dataclasses.fields(cls)]
    missing = [k for k in keys if k not in rows]
    assert not missing, f"[{section}] keys missing from CONFIG.md: {missing}"
    stale = sorted(set(rows) - set(keys))
    assert not stale, f"[{section}] rows in CONFIG.md for keys that do not exist: {stale}"
    defaults = cls()
    for key in keys:
        default, meaning, example = rows[key]
        assert meaning.strip(), f"{section}.{key}: no meaning"
        if is_table_list(cls, key):
            continue  # documented by its own table
        expected = plain(getattr(defaults, key))
        assert toml_value(default) == expected, f"{section}.{key}: CONFIG.md default differs"
        sample = toml_value(example)
        if isinstance(expected, bool):
            assert isinstance(sample, bool), f"{section}.{key}: example is not a bool"
        elif isinstance(expected, int | float):
            assert isinstance(sample, int | float), f"{section}.{key}: example is not a number"
            assert not isinstance(sample, bool)
        else:
            assert type(sample) is type(expected), f"{section}.{key}: example has the wrong type"


def test_the_example_file_sets_every_key():
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for section, cls in SECTIONS:
        top, _, table = section.partition(".")
        entries = data.get(top, {})
        entries = entries.get(table, []) if table else [entries]
        assert entries, f"the example has no [{section}]"
        for entry in entries:
            missing = [f.name for f in dataclasses.fields(cls) if f.name not in entry]
            assert not missing, f"[{section}] keys missing from the example: {missing}"


def test_the_example_file_loads_through_the_real_loader(monkeypatch):
    monkeypatch.delenv("KIOSK_PLATFORM_TOKEN", raising=False)
    cfg = load_config(EXAMPLE)
    assert cfg.source == str(EXAMPLE)
    assert cfg.terminal.id == "SJ-0003"
    assert [b.profile for b in cfg.bus.boards] == ["generic", "relay_flash"]
    assert [c.id for c in cfg.locker.compartments] == ["A01", "A02"]
    assert cfg.monitor.username == "centre"


def test_the_monitor_section_mirrors_the_monitors_own_config():
    from centre.monitor_main import MonitorConfig

    ours = {f.name: f.default for f in dataclasses.fields(MonitorSection)}
    theirs = {f.name: f.default for f in dataclasses.fields(MonitorConfig)}
    assert ours == theirs


def test_monitor_md_points_to_config_md():
    text = (DOCS / "MONITOR.md").read_text(encoding="utf-8")
    assert "CONFIG.md" in text
