"""Voice prompts through eSpeak NG's Mandarin voice (`espeak-ng -v cmn`), offline.

Synthesis and playback are separate processes where they can be: `espeak-ng --stdout` writes
a WAV that `aplay` (ALSA) or `paplay` (PulseAudio/PipeWire) plays; without either player,
espeak-ng plays it itself. Both are killed when the prompt is cut short. A missing program or
a failed run raises VoiceError, which the port logs once; the app never sees it.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from dataclasses import dataclass

from hardware.voice import VoiceError, VoicePrompter

POLL_S = 0.05


@dataclass(frozen=True)
class EspeakSettings:
    """The voice and how fast it speaks (older listeners: a little slower than the default)."""

    voice: str = "cmn"
    words_per_minute: int = 150
    program: str = "espeak-ng"
    timeout_s: float = 30.0  # no prompt is that long: a hung player is killed


class EspeakVoice(VoicePrompter):
    """Speaks with espeak-ng, through aplay or paplay when present."""

    def __init__(self, settings: EspeakSettings | None = None) -> None:
        super().__init__()
        self.settings = settings or EspeakSettings()
        self.player = shutil.which("aplay") or shutil.which("paplay")

    def command(self, text: str) -> tuple[list[str], list[str] | None]:
        """The synthesiser's command line, and the player's (None: espeak-ng plays itself)."""
        s = self.settings
        synth = [s.program, "-v", s.voice, "-s", str(s.words_per_minute)]
        if self.player is None:
            return [*synth, "--", text], None
        player = [self.player, "-q"] if self.player.endswith("aplay") else [self.player]
        return [*synth, "--stdout", "--", text], player

    def _speak(self, text: str, cut: threading.Event) -> None:
        if shutil.which(self.settings.program) is None:
            raise VoiceError(f"{self.settings.program} not found (apt-get install espeak-ng)")
        synth_cmd, player_cmd = self.command(text)
        procs: list[subprocess.Popen] = []
        try:
            if player_cmd is None:
                procs.append(subprocess.Popen(synth_cmd, stdout=subprocess.DEVNULL,
                                              stderr=subprocess.PIPE))
            else:
                synth = subprocess.Popen(synth_cmd, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
                procs.append(synth)
                procs.append(subprocess.Popen(player_cmd, stdin=synth.stdout,
                                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
                synth.stdout.close()  # the player's now: a dead player stops the synthesiser
            self._wait(procs, cut)
            if not cut.is_set():
                _check(procs)
        except OSError as err:
            raise VoiceError(f"cannot run {synth_cmd[0]}: {err}") from err
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                for pipe in (proc.stdout, proc.stderr):
                    if pipe is not None:
                        pipe.close()

    def _wait(self, procs: list[subprocess.Popen], cut: threading.Event) -> None:
        waited = 0.0
        while any(p.poll() is None for p in procs):
            if cut.wait(POLL_S):
                return
            waited += POLL_S
            if waited > self.settings.timeout_s:
                raise VoiceError("speaking took too long; killed")


def _check(procs: list[subprocess.Popen]) -> None:
    """A non-zero exit, or ALSA's "error:" from a synthesiser playing by itself, is a failure.

    espeak-ng exits 0 when it cannot open the sound device; only its stderr tells.
    """
    for proc in procs:
        err_text = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        last = err_text.strip().splitlines()[-1] if err_text.strip() else ""
        if proc.returncode:
            raise VoiceError(f"{proc.args[0]} exited {proc.returncode}: {last}")
        if len(procs) == 1 and "error" in err_text.lower():
            raise VoiceError(f"{proc.args[0]} could not play: {last}")
