#!/usr/bin/env bash
# Set up (if needed) and run the terminal on embedded defaults: simulated lock boards, local data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kiosk run "$@"
