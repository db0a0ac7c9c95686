"""Voice prompts: never blocking, newest wins, failures logged once; espeak-ng for real.

The espeak tests that need the program skip where it is not installed (scripts/setup.sh
installs it); the driver's behaviour without it is tested everywhere.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time

import pytest

from hardware.drivers.voice_espeak import EspeakSettings, EspeakVoice
from hardware.drivers.voice_sim import SimVoice
from tests.waiting import wait_for

ESPEAK_MISSING = "espeak-ng is not installed: run scripts/setup.sh (it installs it)"


@pytest.fixture
def voice():
    v = SimVoice()
    yield v
    v.close()


def test_prompts_are_said_in_order(voice):
    voice.say("请扫描受理通知书上的二维码")
    assert voice.wait_idle(2)
    voice.say("请将身份证放在读卡区")
    assert voice.wait_idle(2)
    assert voice.said == ["请扫描受理通知书上的二维码", "请将身份证放在读卡区"]


def test_say_never_blocks_the_caller(voice):
    voice.speak_s = 2.0
    start = time.monotonic()
    voice.say("一")
    voice.say("二")
    assert time.monotonic() - start < 0.2


def test_a_new_prompt_replaces_an_unsaid_one_and_cuts_the_current(voice):
    voice.speak_s = 5.0
    voice.say("第一句")
    assert wait_for(lambda: voice.said == ["第一句"], 3.0)
    voice.say("第二句")  # not yet said when ...
    voice.say("第三句")  # ... this one replaces it
    assert wait_for(lambda: len(voice.said) == 2, 3.0)
    assert voice.said == ["第一句", "第三句"]
    assert voice.cut_short == ["第一句"]
    voice.stop()
    assert voice.wait_idle(2)
    assert voice.cut_short == ["第一句", "第三句"]


def test_stop_drops_what_is_not_yet_said(voice):
    voice.speak_s = 5.0
    voice.say("甲")
    assert wait_for(lambda: voice.said == ["甲"], 3.0)
    voice.say("乙")
    voice.stop()
    assert voice.wait_idle(2)
    assert voice.said == ["甲"]
    voice.speak_s = 0
    voice.say("丙")  # the prompter still works after a stop
    assert voice.wait_idle(2)
    assert voice.said == ["甲", "丙"]


def test_blank_prompts_are_ignored(voice):
    voice.say("   ")
    assert voice.wait_idle(1)
    assert voice.said == []


def test_failures_are_logged_once_and_never_raised(voice, caplog):
    voice.fail = True
    with caplog.at_level(logging.INFO, logger="hardware.voice"):
        for text in ("一", "二", "三"):
            voice.say(text)
            assert voice.wait_idle(2)
        voice.fail = False
        voice.say("四")
        assert voice.wait_idle(2)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("voice prompts failing")
    assert messages[1] == "voice prompts working again"
    assert voice.said == ["四"]


def test_close_ends_the_worker_and_later_prompts_are_ignored():
    voice = SimVoice(speak_s=5.0)
    voice.say("甲")
    assert wait_for(lambda: voice.said == ["甲"], 3.0)
    start = time.monotonic()
    voice.close()
    assert time.monotonic() - start < 1.0
    assert voice._thread is not None
    assert not voice._thread.is_alive()
    voice.say("乙")
    assert voice.said == ["甲"]


# -- espeak-ng -----------------------------------------------------------------------------
def test_espeak_command_lines():
    voice = EspeakVoice(EspeakSettings(words_per_minute=140))
    voice.player = None
    assert voice.command("请刷身份证") == (
        ["espeak-ng", "-v", "cmn", "-s", "140", "--", "请刷身份证"], None)
    voice.player = "/usr/bin/aplay"
    assert voice.command("请刷身份证") == (
        ["espeak-ng", "-v", "cmn", "-s", "140", "--stdout", "--", "请刷身份证"],
        ["/usr/bin/aplay", "-q"])
    voice.close()


def test_without_espeak_ng_the_app_only_gets_a_log_line(caplog):
    voice = EspeakVoice(EspeakSettings(program="no-such-espeak-ng"))
    with caplog.at_level(logging.WARNING, logger="hardware.voice"):
        voice.say("请刷身份证")
        assert voice.wait_idle(5)
        voice.say("请刷身份证")
        assert voice.wait_idle(5)
    voice.close()
    assert len(caplog.records) == 1
    assert "espeak-ng" in caplog.records[0].getMessage()


def test_espeak_ng_speaks_mandarin_as_wav():
    assert shutil.which("espeak-ng"), ESPEAK_MISSING
    voice = EspeakVoice()
    voice.player = "aplay"  # only to get the --stdout command line
    synth, _player = voice.command("请刷身份证")
    voice.close()
    out = subprocess.run(synth, capture_output=True, timeout=30, check=True).stdout
    assert out[:4] == b"RIFF"
    assert out[8:12] == b"WAVE"
    assert len(out) > 20_000  # about a second of 22 kHz audio, not an empty file


def test_espeak_through_a_player_and_cut_short(tmp_path, caplog):
    assert shutil.which("espeak-ng"), ESPEAK_MISSING
    sink = tmp_path / "player"
    sink.write_text("#!/bin/sh\ncat > \"$0.wav\"\nsleep 30\n", encoding="utf-8")
    sink.chmod(0o755)
    voice = EspeakVoice()
    voice.player = str(sink)
    with caplog.at_level(logging.WARNING, logger="hardware.voice"):
        voice.say("请将身份证放在读卡区")
        assert wait_for(lambda: (tmp_path / "player.wav").exists()
                        and (tmp_path / "player.wav").stat().st_size > 20_000, timeout=20)
        start = time.monotonic()
        voice.stop()  # the player would sleep 30 s: it is killed
        assert voice.wait_idle(5)
        assert time.monotonic() - start < 2.0
    voice.close()
    assert caplog.records == []
    assert (tmp_path / "player.wav").read_bytes()[:4] == b"RIFF"
