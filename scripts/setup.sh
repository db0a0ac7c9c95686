#!/usr/bin/env bash
# Everything a fresh Debian machine needs: Debian packages, a virtual environment, the project.
# Safe to run again: installs only what is missing. Run as root or with sudo available.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

DEBS=(
  python3 python3-venv python3-dev gcc          # the interpreter, venv, and builds of wheels
  xvfb xauth libgl1 libgl1-mesa-dri libegl1 libgles2 libmtdev1   # Kivy under a virtual screen
  fonts-noto-cjk                                 # Chinese text (Kivy's default font has none)
  libzbar0                                       # QR decoding (pyzbar)
  mosquitto mosquitto-clients                    # the MQTT broker the tests start themselves
  socat                                          # pty/TCP plumbing for bus experiments
  espeak-ng                                      # voice prompts in elderly mode (Mandarin)
  chromium chromium-driver                       # the fleet dashboard's browser tests
  postgresql                                     # the centre's store on PostgreSQL (tests start their own)
  systemd                                        # systemd-analyze verifies the units in deploy/
)
missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
# Reinstall only when the dependency list changed.
stamp=.venv/.kiosk-setup-stamp
want=$(sha256sum setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing the project and its Python packages into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
  echo "$want" > "$stamp"
fi
