"""A terminal without its window: `open_terminal_locker` (what `kiosk run` opens) in a process.

Prints `ready` once the locker is open and its control channel serves, then holds the data
dir until its standard input closes. A refusal is one line on stderr and exit status 1.
Usage: python -m tests.integration.owner_process CONFIG
"""

from __future__ import annotations

import sys

from terminal.composition import open_terminal_locker
from terminal.config import load_config
from terminal.owner_lock import OwnedElsewhere


def main(config: str) -> int:
    try:
        runtime = open_terminal_locker(load_config(config))
    except OwnedElsewhere as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return 1
    try:
        print("ready", flush=True)
        sys.stdin.read()
    finally:
        runtime.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
