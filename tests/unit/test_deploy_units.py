"""deploy/: the systemd units verified by systemd-analyze and read for the keys that matter,
the udev names, the PAM file and the example config, so a typo fails here and not at boot.
"""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from terminal.app_lockdown import EXIT_BY_TECHNICIAN, STAY_DOWN_MARKER
from terminal.config import load_config

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("kiosk-terminal.service", "kiosk-monitor.service")
# systemd older than 254 does not know these yet: a warning, and RestartSec= applies
NEWER_KEYS = ("RestartSteps", "RestartMaxDelaySec")


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read(DEPLOY / "systemd" / name, encoding="utf-8")
    return parser


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+)(s|min)?", value)
    assert match, value
    return int(match[1]) * (60 if match[2] == "min" else 1)


def test_terminal_unit_is_notify_with_watchdog_backoff_and_no_way_out():
    svc = unit("kiosk-terminal.service")
    s, u = svc["Service"], svc["Unit"]
    assert s["Type"] == "notify"
    assert s["NotifyAccess"] == "all"  # the app is cage's child, not the main process
    assert 10 <= seconds(s["WatchdogSec"]) <= 120
    assert seconds(s["TimeoutStartSec"]) > seconds(s["WatchdogSec"])
    cmd = s["ExecStart"].split()
    assert cmd[0] == "/usr/bin/cage"
    assert "--" in cmd
    assert cmd[cmd.index("--") + 1:] == ["/opt/kiosk/venv/bin/kiosk", "run", "--config",
                                         "/etc/kiosk/kiosk.toml"]
    assert s["Restart"] == "always"
    assert seconds(s["RestartSec"]) >= 1
    assert int(s["RestartSteps"]) >= 1
    assert seconds(s["RestartMaxDelaySec"]) > seconds(s["RestartSec"])
    assert u["StartLimitIntervalSec"] == "0"  # a crash loop never ends in a dead screen
    assert s["RestartPreventExitStatus"] == s["SuccessExitStatus"] == str(EXIT_BY_TECHNICIAN)
    # the kiosk session on tty1, unprivileged, with the serial ports
    assert s["User"] == "kiosk"
    assert s["TTYPath"] == "/dev/tty1"
    assert u["Conflicts"] == "getty@tty1.service"
    assert (DEPLOY / "pam.d" / s["PAMName"]).is_file()
    assert "pam_systemd.so" in (DEPLOY / "pam.d" / s["PAMName"]).read_text(encoding="utf-8")
    assert "dialout" in s["SupplementaryGroups"].split()
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                       ("PrivateTmp", "yes"), ("ProtectHome", "yes")):
        assert s[key] == value, key
    assert "PrivateDevices" not in s  # it would hide /dev/dri, /dev/input and the serial ports
    assert svc["Install"]["WantedBy"] == "graphical.target"


def test_monitor_unit_runs_kiosk_monitor_and_restarts():
    s = unit("kiosk-monitor.service")["Service"]
    assert s["ExecStart"].split()[:4] == ["/opt/kiosk/venv/bin/kiosk", "monitor", "--config",
                                          "/etc/kiosk/monitor.toml"]
    assert s["Restart"] == "always"
    assert s["User"] == "kiosk-monitor"
    assert s["PrivateDevices"] == s["NoNewPrivileges"] == "yes"


def test_systemd_analyze_verify_finds_nothing_but_the_keys_of_newer_systemd(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze (package systemd) is needed to verify the units"
    # verify insists that ExecStart= programs exist: point them at real ones here
    cage = tmp_path / "cage"
    cage.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    cage.chmod(0o755)
    kiosk = Path(sys.executable).with_name("kiosk")
    copies = []
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace("/usr/bin/cage", str(cage)).replace("/opt/kiosk/venv/bin/kiosk",
                                                                 str(kiosk))
        (tmp_path / name).write_text(text, encoding="utf-8")
        copies.append(str(tmp_path / name))
    out = subprocess.run([analyze, "verify", "--man=no", *copies], capture_output=True,
                         text=True, timeout=60)
    problems = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()
                and not any(f"Unknown key '{k}'" in line or f"Unknown key name '{k}'" in line
                            for k in NEWER_KEYS)]
    assert problems == [], "\n".join(problems)
    assert out.returncode == 0


def test_a_typo_in_a_unit_is_caught(tmp_path):
    """The check above sees mistakes: a misspelt key and a bad value both show up."""
    analyze = shutil.which("systemd-analyze")
    assert analyze
    bad = tmp_path / "bad.service"
    bad.write_text("[Service]\nType=notify\nExecStart=/bin/true\nRestartSek=3\n"
                   "WatchdogSec=thirty\n", encoding="utf-8")
    out = subprocess.run([analyze, "verify", "--man=no", str(bad)], capture_output=True,
                         text=True, timeout=60)
    said = out.stdout + out.stderr
    assert "RestartSek" in said
    assert "thirty" in said


def test_udev_rules_give_the_three_stable_names_to_tty_devices():
    rules = [line for line in (DEPLOY / "udev" / "70-kiosk-devices.rules").read_text(
        encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    names = []
    for rule in rules:
        assert rule.startswith('SUBSYSTEM=="tty"'), rule
        for part in ('ATTRS{idVendor}=="', 'ATTRS{idProduct}=="', 'GROUP="dialout"',
                     'MODE="0660"'):
            assert part in rule, rule
        names += re.findall(r'SYMLINK\+="([^"]+)"', rule)
    assert sorted(names) == ["kiosk-idcard", "kiosk-rs485", "kiosk-scanner"]


def test_the_example_config_loads_and_uses_the_stable_names():
    cfg = load_config(DEPLOY / "kiosk.toml")
    assert cfg.terminal.fullscreen is True
    assert str(cfg.data_dir) == "/var/lib/kiosk"
    assert cfg.bus.link == "/dev/kiosk-rs485"
    assert (cfg.devices.scanner, cfg.devices.id_reader) == ("/dev/kiosk-scanner",
                                                           "/dev/kiosk-idcard")


@pytest.mark.parametrize("marker", [True, False], ids=["left by exit", "none"])
def test_the_stay_down_marker_skips_one_start(tmp_path, marker):
    """The unit's ExecCondition= run as written, against a temp dir: the technician's exit
    skips exactly one (re)start; without the marker the terminal starts."""
    s = unit("kiosk-terminal.service")["Service"]
    state = "/var/lib/kiosk"
    assert f"{state}/{STAY_DOWN_MARKER}" in s["ExecCondition"]
    assert str(load_config(DEPLOY / "kiosk.toml").data_dir) == state  # where the app leaves it
    command = s["ExecCondition"].replace(state, str(tmp_path))
    argv = shlex.split(command)
    if marker:
        (tmp_path / STAY_DOWN_MARKER).write_text("x", encoding="utf-8")
    first = subprocess.run(argv, check=False)
    assert first.returncode == (1 if marker else 0)  # 1..254: skipped, not failed
    assert not (tmp_path / STAY_DOWN_MARKER).exists()
    assert subprocess.run(argv, check=False).returncode == 0  # the next start goes ahead
