"""Crash rig worker: `python -m bench.crash_rig worker --config C --control tcp://... --log L
--platform-key K --life N` runs one life of the locker process (bench/crash_worker.py) and
prints its check as one JSON line, then plays the people until SIGKILLed (or, `--final`, ends)."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from bench.crash_worker import Worker
from hardware.drivers.sim_control import ControlError

SABOTAGE = ("skip_consume", "no_owner_lock", "rewire_anything")  # negative controls


def _sabotage(name: str | None) -> None:
    """Negative controls: break the locker inside this worker only, to show the checks bite."""
    if name == "skip_consume":
        from locker.pickup_codes import PickupCodes

        def keep_code(self: PickupCodes, *args: object) -> None:  # the code stays live
            return None

        PickupCodes.consume = keep_code  # type: ignore[method-assign]
    elif name == "no_owner_lock":  # the worker takes no OS lock: a second owner gets in
        from terminal import composition

        composition.take_ownership = lambda cfg, role: []  # type: ignore[assignment]
    elif name == "rewire_anything":  # a layout apply that rewires occupied compartments too
        from locker import layout

        layout._block = lambda change, why, detail: change  # type: ignore[assignment]


def _emit(obj: dict) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)


def worker_main(args: argparse.Namespace) -> int:
    """Run one life: start-up check, then the loop (or, with --final, the end)."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format=f"life {args.life} %(levelname)s %(name)s: %(message)s")
    _sabotage(args.sabotage)
    worker = Worker(args)
    try:
        _emit(worker.startup(None if args.final else args.probes))
        if args.final:
            _emit(worker.final())
            return 0
        while True:
            worker.step()
    except ControlError as err:
        print(f"crash_rig: simulator refused: {err}", file=sys.stderr)
        return 1
    finally:
        if worker.rt is not None:
            worker.rt.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.crash_rig worker ...`."""
    parser = argparse.ArgumentParser(prog="python -m bench.crash_rig")
    sub = parser.add_subparsers(dest="verb", required=True)
    w = sub.add_parser("worker", help="one life of the locker process (until SIGKILL)")
    w.add_argument("--config", required=True, help="terminal config TOML")
    w.add_argument("--control", required=True, help="simulator control, tcp://HOST:PORT")
    w.add_argument("--log", required=True, help="the side log (JSON lines)")
    w.add_argument("--platform-key", required=True, help="PEM key the platform signs with")
    w.add_argument("--life", type=int, required=True, help="restart number")
    w.add_argument("--seed", type=int, default=0)
    w.add_argument("--probes", type=int, default=3, help="used/void codes tried per start")
    w.add_argument("--final", action="store_true", help="probe all, empty the locker, stop")
    w.add_argument("--sabotage", choices=SABOTAGE, default=None)
    w.add_argument("--apply-layout", action="store_true",
                   help="a technician applies the config's layout after start-up")
    return worker_main(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
