"""A terminal's token is bound to its terminal: it cannot report another terminal's events.

The token map names the terminal of every token. A message is another terminal's when its
key's prefix (`{terminal_id}:{kind}:{ref}`) is another known terminal's id, or when the
terminal it names in its body (`terminal_id`, and the delivery receipt's) is not the sender.
Keys without a terminal prefix (`declaration:{number}`, `notice:pickup_code:{item}`) are
accepted: their bodies name the terminal, or they are stored as the sender's.
"""

from __future__ import annotations

from collections.abc import Collection

from remote.platform_models import OutboundMessage


def claims_other_terminal(message: OutboundMessage, sender: str,
                          terminals: Collection[str]) -> bool:
    """True if `message` speaks for a terminal other than `sender` (answer 403)."""
    prefix, colon, _ = message.key.partition(":")
    if colon and prefix != sender and prefix in terminals:
        return True
    body = message.body if isinstance(message.body, dict) else {}
    receipt = body.get("delivery_receipt")
    named = [body.get("terminal_id"),
             receipt.get("terminal_id") if isinstance(receipt, dict) else None]
    return any(n not in (None, "") and n != sender for n in named)
