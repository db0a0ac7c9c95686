"""Property: no hostile config file or argument makes `kiosk` print a traceback.

Hypothesis writes config files (random bytes, bad UTF-8, deep nesting, NaN / infinity /
negative / huge numbers in every numeric key, wrong types, unknown keys, folders that are
files) and argument lists (bad seconds, ID numbers, phones, sizes, compartment ids, blank
staff ids, unknown flags) and runs the real CLI: `terminal.cli.main` in-process for most
examples, a real subprocess for a few. Every run must exit non-zero with exactly one line on
stderr. A longer campaign: `kiosk bench cli_fuzz` (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import fields
from pathlib import Path
from typing import get_type_hints

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from locker.identity_hash import normalise_id_number, normalise_phone
from terminal.config import Config

ROOT = Path(__file__).resolve().parents[2]
# `bench/cli_fuzz.py` raises the count for a longer campaign
EXAMPLES = int(os.environ.get("KIOSK_FUZZ_EXAMPLES", "150"))
FAST = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# -- the config files ------------------------------------------------------------------------------
def _settings() -> list[tuple[str, str, type]]:
    """(section, key, type) of every scalar setting and every list setting."""
    out = []
    for section in fields(Config):
        if section.name == "source":
            continue
        cls = get_type_hints(Config)[section.name]
        for key, kind in get_type_hints(cls).items():
            out.append((section.name, key, kind))
    return out


SETTINGS = _settings()
NUMERIC = [(s, k, t) for s, k, t in SETTINGS if t in (int, float)]
assert len(NUMERIC) > 40  # every numeric key of every section takes part


def _toml_float(x: float) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return repr(x)


# values every numeric key must refuse: not finite, negative, or past any sane maximum
bad_numbers = st.one_of(
    st.sampled_from(["nan", "+nan", "-nan", "inf", "+inf", "-inf", "1e400", "-1e400"]),
    st.integers(max_value=-1).map(str),
    st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False).map(_toml_float),
    st.integers(min_value=10**12, max_value=10**400).map(str),  # past float's range too
    st.floats(min_value=1e12, allow_nan=False).map(_toml_float),
)


@st.composite
def numeric_hostile(draw) -> bytes:
    section, key, _kind = draw(st.sampled_from(NUMERIC))
    return f"[{section}]\n{key} = {draw(bad_numbers)}\n".encode()


def _other_type(kind: object) -> st.SearchStrategy[str]:
    """TOML values whose type is not `kind`."""
    pool = {"str": '"text"', "int": "7", "bool": "true", "list": "[1, 2]",
            "table": "{ a = 1 }", "date": "2026-01-01"}
    name = {str: "str", bool: "bool", int: "int", float: "int"}.get(kind, "list")
    excluded = {name} | ({"int"} if kind is float else set())
    return st.sampled_from([v for k, v in pool.items() if k not in excluded])


@st.composite
def wrong_type(draw) -> bytes:
    section, key, kind = draw(st.sampled_from(SETTINGS))
    if kind not in (str, bool, int, float):  # tuples: a table or a scalar is wrong
        value = draw(st.sampled_from(['"text"', "7", "{ a = 1 }"]))
    else:
        value = draw(_other_type(kind))
    return f"[{section}]\n{key} = {value}\n".encode()


bare_keys = st.from_regex(r"[a-z_][a-z0-9_-]{0,20}", fullmatch=True)


@st.composite
def unknown_name(draw) -> bytes:
    known_sections = {s for s, _k, _t in SETTINGS}
    if draw(st.booleans()):
        name = draw(bare_keys.filter(lambda n: n not in known_sections))
        return f"[{name}]\nx = 1\n".encode()
    section = draw(st.sampled_from(sorted(known_sections)))
    keys = {k for s, k, _t in SETTINGS if s == section}
    key = draw(bare_keys.filter(lambda n: n not in keys))
    return f"[{section}]\n{key} = 1\n".encode()


@st.composite
def deep(draw) -> bytes:
    depth = draw(st.integers(min_value=50, max_value=4000))
    if draw(st.booleans()):
        return ("a = " + "[" * depth + "]" * depth).encode()
    return ("a = " + "{x=" * depth + "1" + "}" * depth).encode()


@st.composite
def not_utf8(draw) -> bytes:
    text = b'[terminal]\nid = "T0001"\ncentre_name = "centre"\n'
    at = draw(st.integers(min_value=0, max_value=len(text)))
    bad = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
    return text[:at] + bad + text[at:]


random_bytes = st.binary(min_size=0, max_size=3000).map(lambda b: b + b"\n[no-such-section]\n")


@st.composite
def folder_is_a_file(draw, a_file: str) -> bytes:
    key = draw(st.sampled_from(["[terminal]\ndata_dir", "[log]\ndir", "[monitor]\ndata_dir"]))
    where = draw(st.sampled_from([a_file, f"{a_file}/below"]))
    return f'{key} = "{where}"\n'.encode()


def hostile_configs(a_file: str) -> st.SearchStrategy[bytes]:
    return st.one_of(numeric_hostile(), wrong_type(), unknown_name(), deep(), not_utf8(),
                     random_bytes, folder_is_a_file(a_file))


VERBS = [["locker", "status"], ["locker", "open", "A01", "--staff", "tech-1"],
         ["locker", "expire"], ["audit", "verify"], ["receipt", "keys"], ["staff", "list"],
         ["receipt", "verify", "not-a-token"], ["support", "bundle", "--out", "x.tar.gz"],
         ["locker", "layout", "diff"], ["locker", "layout", "apply", "--staff", "tech-1"],
         ["locker", "backup"], ["locker", "restore", "no-such-backup.db"],
         ["locker", "pickup", "12345678", "--id-number", "000000190001010003"]]


# -- running the CLI -----------------------------------------------------------------------------
def main_in_process(argv: list[str]) -> tuple[int, str]:
    from terminal.cli import main

    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    return status, err.getvalue()


def assert_refused(status: int, stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("kiosk: "), stderr
    assert lines[0][len("kiosk: "):].strip(), stderr
    assert "internal error" not in lines[0], stderr  # an expected error, mapped on purpose
    assert status != 0, stderr


@pytest.fixture(scope="module")
def scratch() -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "a-file").write_text("x", encoding="utf-8")
        yield folder


@pytest.fixture(scope="module")
def good_config(scratch) -> Path:
    cfg = scratch / "good.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{scratch / "data"}"\n', encoding="utf-8")
    return cfg


@FAST
@given(data=st.data())
def test_hostile_config_files_are_refused_in_one_line(scratch, data):
    content = data.draw(hostile_configs(str(scratch / "a-file")), label="config")
    verb = data.draw(st.sampled_from(VERBS), label="verb")
    path = scratch / "hostile.toml"
    path.write_bytes(content)
    assert_refused(*main_in_process([*verb, "--config", str(path)]))


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_config_files_through_a_real_process(scratch, data):
    content = data.draw(hostile_configs(str(scratch / "a-file")), label="config")
    path = scratch / "hostile-sub.toml"
    path.write_bytes(content)
    out = subprocess.run([sys.executable, "-m", "terminal.cli", "locker", "status", "--config",
                          str(path)], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert_refused(out.returncode, out.stderr)


# -- the arguments ---------------------------------------------------------------------------------
argv_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=40)


def _not_seconds(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return True
    return not (math.isfinite(value) and 0 <= value <= 86_400)


def _not_an_id(text: str) -> bool:
    try:
        normalise_id_number(text)
    except ValueError:
        return True
    return False


def _not_a_phone(text: str) -> bool:
    try:
        normalise_phone(text)
    except ValueError:
        return True
    return False


bad_seconds = st.one_of(st.sampled_from(["inf", "nan", "-1", "1e9", "-0.5", "86401"]),
                        argv_text.filter(_not_seconds))
bad_ids = st.one_of(st.sampled_from(["", "123", "00000019000101000", "0000001900010100031"]),
                    argv_text.filter(lambda t: t != "-" and _not_an_id(t)))
bad_phones = argv_text.filter(_not_a_phone)
bad_sizes = argv_text.filter(lambda t: t.upper() not in ("S", "M", "L", "XL"))
blank = st.text(st.sampled_from(" \t\n\r"), max_size=5)
bad_compartments = st.one_of(blank, st.text(min_size=33, max_size=60).map(lambda t: "A" + t),
                             st.sampled_from(["A 01", "A\n01", "A\x0701"]))
unknown_flags = bare_keys.map(lambda k: f"--zz-{k}")


@st.composite
def hostile_argv(draw) -> list[str]:
    deposit = ["locker", "deposit", "--case-no", "SH-1", "--name", "张三", "--staff", "c1"]
    choice = draw(st.integers(min_value=0, max_value=8))
    if choice == 0:
        return ["locker", "open", "A01", "--staff", "tech-1", "--wait-close", draw(bad_seconds)]
    if choice == 1:
        return [*deposit, "--phone", "10012345678", "--id-number", draw(bad_ids)]
    if choice == 2:
        return [*deposit, "--id-number", "000000190001010003", "--phone", draw(bad_phones)]
    if choice == 3:
        return [*deposit, "--id-number", "000000190001010003", "--phone", "10012345678",
                "--size", draw(bad_sizes)]
    if choice == 4:
        return ["locker", draw(st.sampled_from(["open", "retrieve", "enable"])),
                draw(bad_compartments), "--staff", "tech-1"]
    if choice == 5:
        verb = draw(st.sampled_from([["locker", "open", "A01"], ["locker", "layout", "apply"]]))
        return [*verb, "--staff", draw(blank)]
    if choice == 6:
        return [*draw(st.sampled_from(VERBS)), draw(unknown_flags)]
    if choice == 7:
        return ["receipt", "verify", "--image", str(Path("/nonexistent") / draw(bare_keys))]
    verb = draw(st.sampled_from([["monitor", "report", "--days"],
                                 ["centre", "serve", "--max-body-mb"]]))
    return [*verb, draw(bad_seconds)]


@FAST
@given(argv=hostile_argv())
def test_hostile_arguments_are_refused_in_one_line(good_config, argv):
    assert_refused(*main_in_process([*argv, "--config", str(good_config)]))
