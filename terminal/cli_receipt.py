"""`kiosk receipt issue|verify|keys` and `kiosk staff enrol|list`.

`receipt issue` prints a receipt (受理通知书 / 收件凭证) with the QR of a freshly signed token,
using the local issuer (terminal/identity_setup.py); `receipt verify` checks a token, or the QR
in an image, against the public keys the terminal trusts: exit 0 valid, 1 invalid. Staff PINs
and badge tokens are read from the terminal (no echo) or standard input, never from argv.
"""

from __future__ import annotations

import argparse
import getpass
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from locker import receipt_uses
from locker.receipt_keys import KeyFileError, load_public_keys
from locker.receipt_token import ReceiptKind, ReceiptRejected, ReceiptVerifier
from terminal.cli import CliError, Parser, emit
from terminal.config import Config, load_config


def _issue(args: argparse.Namespace) -> None:
    from locker.cjk_font import FontMissing
    from locker.receipt_image import ReceiptFields, render_receipt
    from terminal.identity_setup import local_issuer

    cfg = load_config(args.config)
    kind = ReceiptKind(args.kind)
    try:
        issuer = local_issuer(cfg)
        days = cfg.receipts.valid_days
        token = issuer.issue(args.case_no, kind, valid_for_s=days * 86400 if days else None)
    except (KeyFileError, ValueError) as err:
        raise CliError(str(err)) from err
    today = datetime.now(ZoneInfo(cfg.terminal.timezone)).date()
    fields = ReceiptFields(kind=kind, case_no=args.case_no, window_no=args.window,
                           item=args.item, situation=args.situation, applicant=args.applicant,
                           phone=args.phone, issued_on=today)
    try:
        image = render_receipt(fields, token)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        image.save(out, format="PNG")
    except FontMissing as err:
        raise CliError(f"no font with Chinese glyphs: {err}") from err
    except (OSError, ValueError) as err:
        raise CliError(f"{args.out}: cannot write the receipt image ({err})") from err
    verified = _verifier(cfg).verify(token)
    result = {"out": str(out), "token": token, **_claims(verified)}
    emit(args, result, lambda r: f"receipt for {r['case_no']} written to {r['out']} "
                                 f"(key {r['kid']}, token id {r['token_id']})\n{r['token']}")


def _verifier(cfg: Config) -> ReceiptVerifier:
    path = cfg.receipt_public_keys_path
    if not path.exists():
        raise CliError(f"no receipt keys at {path} (`kiosk receipt keys` creates the local "
                       "issuer's, or install the platform's JWKS there)")
    try:
        keys = load_public_keys(path)
    except KeyFileError as err:
        raise CliError(str(err)) from err
    return ReceiptVerifier(keys, leeway_s=cfg.receipts.leeway_s,
                           is_consumed=lambda jti: _spent(cfg, jti))


def _spent(cfg: Config, jti: str) -> bool:
    """Whether the locker database (if there is one) shows the receipt used up."""
    if not cfg.db_path.exists():
        return False
    conn = sqlite3.connect(f"{cfg.db_path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return receipt_uses.spent(conn, jti)
    except sqlite3.OperationalError:  # an older schema without receipt records
        return False
    finally:
        conn.close()


def _claims(receipt: Any) -> dict[str, Any]:
    return {"case_no": receipt.case_no, "kind": receipt.kind.value,
            "issued_at": receipt.issued_at.isoformat(),
            "expires_at": receipt.expires_at.isoformat() if receipt.expires_at else None,
            "token_id": receipt.token_id, "kid": receipt.kid}


def _token_from_image(path: str) -> bytes:
    from hardware.drivers.camera_scanner import decode_frame
    from terminal.image_input import ImageRefused, open_gray

    try:
        codes = decode_frame(open_gray(path))
    except ImageRefused as err:
        raise CliError(str(err)) from None
    if not codes:
        raise CliError(f"{path}: no QR code found in the image")
    return codes[0]


def _verify(args: argparse.Namespace) -> int:
    if (args.token is None) == (args.image is None):
        raise CliError("give a TOKEN or --image FILE (one of them)")
    cfg = load_config(args.config)
    token: str | bytes = _token_from_image(args.image) if args.image else args.token
    try:
        result = {"valid": True, **_claims(_verifier(cfg).verify(token))}
    except ReceiptRejected as err:
        result = {"valid": False, "reason": err.reason.value, "message_zh": err.message_zh,
                  "message_en": err.message_en}
    if result["valid"]:
        emit(args, result, lambda r: f"valid: case {r['case_no']}, {r['kind']}, issued "
                                     f"{r['issued_at']}, key {r['kid']}")
        return 0
    if args.json:
        emit(args, result, str)
    print(f"kiosk: invalid receipt: {result['reason']}: {result['message_en']}", file=sys.stderr)
    return 1


def _keys(args: argparse.Namespace) -> None:
    from terminal.identity_setup import local_issuer

    cfg = load_config(args.config)
    kid = None
    if cfg.receipts.local_issuer:
        try:
            kid = local_issuer(cfg).kid
        except KeyFileError as err:
            raise CliError(str(err)) from err
    result = {"jwks": str(cfg.receipt_public_keys_path), "local_kid": kid}
    emit(args, result, lambda r: r["jwks"])


def _staff_auth(cfg: Config) -> tuple[Any, Any]:
    from locker.audit import AuditLog, head_key
    from locker.identity_hash import IdentityHasher
    from locker.staff_auth import StaffAuth
    from locker.store import Store
    from terminal.identity_setup import staff_settings
    from terminal.integrity_setup import preflight

    preflight(cfg)  # a lost database or key is refused here too, never made anew
    key = cfg.hash_key()
    store = Store.open(cfg.db_path)
    auth = StaffAuth(store, IdentityHasher(key), AuditLog(head_key(key)),
                     lambda: datetime.now(UTC), staff_settings(cfg))
    return store, auth


def _secret(prompt: str, confirm: bool = False) -> str:
    """From the terminal without echo (asked twice if `confirm`), else one line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != value:
        raise CliError("the two entries differ")
    return value


def _enrol(args: argparse.Namespace) -> None:
    cfg = load_config(args.config)
    badge = _secret("badge token (scan the badge): ")
    pin = _secret("PIN (6+ digits): ", confirm=True)
    store, auth = _staff_auth(cfg)
    try:
        member = auth.enrol(args.staff_id, args.name, args.role, badge, pin)
    except ValueError as err:
        raise CliError(str(err)) from err
    finally:
        store.close()
    emit(args, _member(member), lambda r: f"enrolled {r['staff_id']} ({r['role']})")


def _list(args: argparse.Namespace) -> None:
    store, auth = _staff_auth(load_config(args.config))
    try:
        members = [_member(m) for m in auth.members()]
    finally:
        store.close()
    emit(args, members, lambda rows: "\n".join(
        f"{r['staff_id']:<12} {r['role']:<10} {'active' if r['active'] else 'INACTIVE':<8} "
        f"{r['name']}" + (f"  locked until {r['locked_until']}" if r["locked_until"] else "")
        for r in rows) or "no staff enrolled")


def _member(m: Any) -> dict[str, Any]:
    return {"staff_id": m.staff_id, "name": m.name, "role": m.role.value, "active": m.active,
            "failures": m.failures,
            "locked_until": m.locked_until.isoformat() if m.locked_until else None}


def add_verbs(verbs: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """Add `receipt` and `staff` to the command tree."""
    receipt = verbs.add_parser("receipt", help="receipt QR tokens").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    p = receipt.add_parser("issue", parents=[common], help="print a receipt with a signed QR")
    p.add_argument("case_no")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--kind", default=ReceiptKind.ACCEPTANCE_NOTICE.value,
                   choices=[k.value for k in ReceiptKind])
    p.add_argument("--window", default="", metavar="N", help="window number")
    p.add_argument("--item", default="", help="service item")
    p.add_argument("--situation", default="", help="business situation")
    p.add_argument("--applicant", default="", metavar="NAME", help="printed masked")
    p.add_argument("--phone", default="", metavar="P", help="printed masked")
    p.set_defaults(handler=_issue)
    p = receipt.add_parser("verify", parents=[common], help="check a token or a receipt image")
    p.add_argument("token", nargs="?")
    p.add_argument("--image", metavar="FILE.png", help="decode the QR in this image")
    p.set_defaults(handler=_verify)
    p = receipt.add_parser("keys", parents=[common], help="print the public keys (JWKS) path")
    p.set_defaults(handler=_keys)

    staff = verbs.add_parser("staff", help="staff sign-in").add_subparsers(
        dest="what", required=True, parser_class=Parser)
    p = staff.add_parser("enrol", parents=[common],
                         help="enrol staff; badge token and PIN are read from the terminal/stdin")
    p.add_argument("staff_id")
    p.add_argument("--name", required=True)
    p.add_argument("--role", required=True, choices=["courier", "technician", "admin"])
    p.set_defaults(handler=_enrol)
    p = staff.add_parser("list", parents=[common], help="enrolled staff")
    p.set_defaults(handler=_list)


def main(argv: list[str] | None = None) -> int:
    """Only these verbs, as `kiosk` runs them (scripts, and before `kiosk` wires them in)."""
    from terminal import cli

    parser = Parser(prog="kiosk")
    add_verbs(parser.add_subparsers(dest="verb", required=True, parser_class=Parser),
              cli._common())
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except (CliError, cli.ConfigError) as err:
        print(f"kiosk: {err}", file=sys.stderr)
        return cli.EXIT_FAIL
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    from terminal import cli_receipt  # the imported module: one CliError class, as in cli.py

    sys.exit(cli_receipt.main())
