"""Every bad input to `kiosk` ends in a non-zero exit and one line on stderr, never a traceback.

One test per input that once crashed the real CLI (issue 11, finding 7), against the
in-process simulated bus, a bus on a pty, or no bus at all. Most run `terminal.cli.main` in this
process (the console script's own entry point, and far faster); one of each family also runs
as a real subprocess.
"""

from __future__ import annotations

import contextlib
import io
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.unit.locker_fakes import fake_id
from tests.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
PHONE = "10012345678"


def kiosk(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`kiosk ARGS` as a real process, its memory capped: a reader of /dev/zero dies alone."""
    return subprocess.run([sys.executable, "-m", "terminal.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          preexec_fn=_cap_memory)


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def main_in_process(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """`kiosk ARGS` through `terminal.cli.main` here, with stdin, stdout and stderr captured."""
    from terminal.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(list(args))
            except SystemExit as exit_:  # usage errors: argparse exits
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        sys.stdin = saved
    return subprocess.CompletedProcess(list(args), status, out.getvalue(), err.getvalue())


def assert_one_line(out: subprocess.CompletedProcess, *, status: int = 1,
                    says: str = "") -> str:
    """Exit `status`, nothing but one line on stderr (which contains `says`)."""
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("kiosk")
    assert says in lines[0]
    assert out.returncode == status, out.stderr
    return lines[0]


@pytest.fixture
def sim_config(tmp_path) -> Path:
    """The embedded defaults (in-process simulated bus) with the data in tmp_path."""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n', encoding="utf-8")
    return cfg


# -- the locker verbs ---------------------------------------------------------------------------
def test_readme_deposit_without_phone_is_one_usage_line(sim_config):
    out = main_in_process("locker", "deposit", "--case-no", "SH-1", "--id-number", "-",
                          "--name", "张三", "--size", "M", "--staff", "c1",
                          "--config", str(sim_config), stdin=fake_id(1) + "\n")
    assert_one_line(out, status=2, says="--phone")


def test_readme_deposit_with_phone_opens_a_door(sim_config):
    out = kiosk("locker", "deposit", "--case-no", "SH-1", "--id-number", "-", "--name", "张三",
                "--phone", PHONE, "--size", "M", "--staff", "c1", "--config", str(sim_config),
                stdin=fake_id(1) + "\n")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("opened: ")


def test_unknown_compartment_subprocess(sim_config):
    out = kiosk("locker", "open", "ZZ99", "--staff", "tech-1", "--config", str(sim_config))
    assert_one_line(out, says="no compartment 'ZZ99'")


@pytest.mark.parametrize("verb", [
    ("locker", "retrieve", "ZZ99", "--staff", "tech-1"),
    ("locker", "enable", "ZZ99", "--staff", "tech-1"),
    ("locker", "deposit", "--case-no", "SH-2", "--id-number", fake_id(2), "--name", "张三",
     "--phone", PHONE, "--staff", "c1", "--compartment", "ZZ99"),
])
def test_unknown_compartment(sim_config, verb):
    out = main_in_process(*verb, "--config", str(sim_config))
    assert_one_line(out, says="no compartment 'ZZ99'")


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "1e12", "soon"])
def test_wait_close_must_be_finite_seconds(sim_config, value):
    run = kiosk if value == "inf" else main_in_process
    out = run("locker", "open", "A01", "--staff", "tech-1", "--wait-close", value,
                "--config", str(sim_config))
    assert_one_line(out, status=2, says="--wait-close")


def test_bad_id_number_is_not_echoed(sim_config):
    bad = "00000019000101000"  # 17 digits
    out = main_in_process("locker", "deposit", "--case-no", "SH-3", "--id-number", bad,
                          "--name", "张三", "--phone", PHONE, "--staff", "c1",
                          "--config", str(sim_config))
    line = assert_one_line(out, status=2, says="ID number")
    assert bad not in line
    from_stdin = main_in_process("locker", "deposit", "--case-no", "SH-3", "--id-number", "-",
                                 "--name", "张三", "--phone", PHONE, "--staff", "c1",
                                 "--config", str(sim_config), stdin=bad + "\n")
    assert bad not in assert_one_line(from_stdin, says="ID number")


def test_compartment_too_small(sim_config):
    out = main_in_process("locker", "deposit", "--case-no", "SH-4", "--id-number", fake_id(4),
                          "--name", "张三", "--phone", PHONE, "--size", "XL",
                          "--compartment", "A01", "--staff", "c1", "--config", str(sim_config))
    assert_one_line(out, says="too small for XL")


def test_opening_a_busy_compartment(pty_bus, tmp_path):
    sim, link = pty_bus
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[terminal]\ndata_dir = "{tmp_path / "data"}"\n'
                   f'[bus]\nlink = "{link}"\nbaud = 115200\n', encoding="utf-8")
    first = kiosk("locker", "open", "A02", "--staff", "tech-1", "--config", str(cfg))
    assert first.returncode == 0, first.stderr
    assert wait_for(lambda: sim.board(1).channels[1].door_open)  # open, so the intent is pending
    again = kiosk("locker", "open", "A02", "--staff", "tech-1", "--config", str(cfg))
    assert_one_line(again, says="A02 is already being opened")


# -- receipt images ------------------------------------------------------------------------------
@pytest.fixture
def receipt_config(sim_config) -> Path:
    assert main_in_process("receipt", "keys", "--config", str(sim_config)).returncode == 0
    return sim_config


@pytest.mark.parametrize(("side", "says"), [
    (14_000, "too many pixels"),  # past Pillow's own limit: DecompressionBombError
    (9_500, "too many pixels"),  # between 1x and 2x the limit: DecompressionBombWarning
    (8_000, "more than a photo has"),  # under Pillow's limit, over a camera's
])
def test_decompression_bomb_png(receipt_config, tmp_path, side, says):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (side, side)).save(bomb)  # a few kB on disk
    assert bomb.stat().st_size < 100_000
    run = kiosk if side == 14_000 else main_in_process
    out = run("receipt", "verify", "--image", str(bomb), "--config", str(receipt_config))
    assert_one_line(out, says=says)


@pytest.mark.parametrize(("content", "says"), [
    (b"\x89PNG\r\n\x1a\n" + b"x" * 100, "cannot read the image"),
    (b"not an image at all", "not an image"),
    (None, "not a regular file"),
])
def test_unreadable_image(receipt_config, tmp_path, content, says):
    path = tmp_path / "scan.png"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    out = main_in_process("receipt", "verify", "--image", str(path),
                          "--config", str(receipt_config))
    assert_one_line(out, says=says)


def test_receipt_verify_not_a_token(receipt_config):
    out = kiosk("receipt", "verify", "not-a-token", "--config", str(receipt_config))
    assert_one_line(out, says="invalid receipt: malformed")


# -- config files --------------------------------------------------------------------------------
def _config_cases(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """name → (the --config argument, what the line says)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("x", encoding="utf-8")
    files = {
        "binary": (bytes(range(256)) * 8, "not UTF-8"),
        "not-utf8": (b'[terminal]\nid = "' + b"\xff\xfe" + b'"\n', "not UTF-8"),
        "deep-arrays": (("a = " + "[" * 5000 + "]" * 5000).encode(), "nested too deeply"),
        "deep-tables": (("a = " + "{x=" * 5000 + "1" + "}" * 5000).encode(),
                        "nested too deeply"),
        "huge-int": (("[bus]\nretries = " + "9" * 5000).encode(), "not valid TOML"),
        "too-large": (b"# " + b"x" * (2 << 20) + b"\n", "too large"),
        "data-dir-is-a-file": (f'[terminal]\ndata_dir = "{a_file}"\n'.encode(),
                               "terminal.data_dir:"),
        "data-dir-under-a-file": (f'[terminal]\ndata_dir = "{a_file}/sub"\n'.encode(),
                                  "is a file, not a folder"),
        "code-lock-nan": (b"[pickup]\ncode_lock_s = nan\n", "pickup.code_lock_s: must be a finite"),
        "response-timeout-inf": (b"[bus]\nresponse_timeout_s = inf\n",
                                 "bus.response_timeout_s: must be a finite"),
        "response-timeout-huge": (b"[bus]\nresponse_timeout_s = 1e6\n",
                                  "bus.response_timeout_s: at most 10"),
        "negative-timeout": (b"[platform]\nread_timeout_s = -3\n", "platform.read_timeout_s"),
        "leeway-negative": (b"[mqtt]\ncommand_leeway_s = -1\n", "mqtt.command_leeway_s"),
        "huge-int-in-a-float": (("[terminal]\nidle_s = " + "9" * 400).encode(),
                                "terminal.idle_s: must be a finite number"),
        "profile-dev-zero": (b'[[bus.boards]]\nunit = 1\nprofile = "/dev/zero"\n',
                             "bus.boards[0].profile: /dev/zero: not a regular file"),
    }
    cases = {}
    for name, (content, says) in files.items():
        path = tmp_path / f"{name}.toml"
        path.write_bytes(content)
        cases[name] = (str(path), says)
    cases["dev-zero"] = ("/dev/zero", "not a regular file")
    cases["a-folder"] = (str(tmp_path), "Is a directory")
    return cases


CONFIG_CASES = ["binary", "not-utf8", "deep-arrays", "deep-tables", "huge-int", "too-large",
                "data-dir-is-a-file", "data-dir-under-a-file", "code-lock-nan",
                "response-timeout-inf", "response-timeout-huge", "negative-timeout",
                "leeway-negative", "huge-int-in-a-float", "a-folder"]
# these read /dev/zero without the fix: only ever in a capped subprocess
DEVICE_CASES = ["dev-zero", "profile-dev-zero"]


@pytest.mark.parametrize("case", CONFIG_CASES)
def test_hostile_config_file_in_process(tmp_path, capsys, case):
    """The same `main` the console script runs, in-process for speed."""
    from terminal.cli import main

    path, says = _config_cases(tmp_path)[case]
    status = main(["locker", "status", "--config", path])
    err = capsys.readouterr().err
    assert status == 1
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    assert err.startswith("kiosk: ")
    assert says in err


@pytest.mark.parametrize("case", [*DEVICE_CASES, "response-timeout-inf"])
def test_hostile_config_file_subprocess(tmp_path, case):
    path, says = _config_cases(tmp_path)[case]
    assert_one_line(kiosk("locker", "status", "--config", path), says=says)


@pytest.mark.parametrize("argv", [
    ["monitor", "report", "--days", "nan"],
    ["monitor", "report", "--days", "-1"],
    ["centre", "serve", "--max-body-mb", "inf"],
    ["centre", "case", "correct", "X", "--missing", "a", "--days", "1e9"],
    ["monitor", "--broker", "x:y"],  # once an internal error (int('y'))
    ["centre", "serve", "--listen", "x:99999"],
])
def test_other_verbs_refuse_bad_numbers(argv):
    assert_one_line(main_in_process(*argv), status=2)


@pytest.mark.parametrize("verb", [["monitor", "report"], ["monitor", "user", "list"]])
def test_monitor_verbs_refuse_a_device_as_config(verb):
    assert_one_line(kiosk(*verb, "--config", "/dev/zero"), says="not a regular file")


def test_sim_board_refuses_a_device_as_its_profile():
    assert_one_line(kiosk("sim", "board", "--profile", "/dev/zero"), status=2,
                    says="not a regular file")


def test_an_unexpected_error_is_one_line_and_a_logged_traceback(sim_config, tmp_path,
                                                                monkeypatch):
    """The last resort: a bug prints one line; the (redacted) traceback goes to the log only."""
    from terminal import cli_locker

    def broken(_args):
        raise RuntimeError(f"boom near {fake_id(9)}")

    monkeypatch.setattr(cli_locker, "_expire", broken)
    out = main_in_process("locker", "expire", "--config", str(sim_config))
    line = assert_one_line(out, says="internal error: RuntimeError: boom near")
    assert fake_id(9) not in line
    log = tmp_path / "data" / "logs" / "cli-errors.log"
    assert f"(details in {log})" in line
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text
    assert "in broken" in text
    assert fake_id(9) not in text
