"""A mosquitto set up as DESIGN §6 asks for production: TLS only, client certificates from the
centre's CA, a password per client, and an ACL that lets a terminal publish only under its own
root and read only its own `cmd/+`. The centre (user `centre`) may read and write everything."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.integration.mosquitto import Broker
from tests.integration.pki import Credentials, TestPki

MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
CENTRE_USER = "centre"

# What a terminal may publish (its own root only) and read (its own commands only).
TERMINAL_ACL = """
user centre
topic readwrite kiosk/#
topic readwrite test/#

pattern write kiosk/v1/{centre}/%u/status
pattern write kiosk/v1/{centre}/%u/birth
pattern write kiosk/v1/{centre}/%u/health
pattern write kiosk/v1/{centre}/%u/compartment/+
pattern write kiosk/v1/{centre}/%u/alarm
pattern write kiosk/v1/{centre}/%u/alarm/active
pattern write kiosk/v1/{centre}/%u/event
pattern write kiosk/v1/{centre}/%u/cmd_ack/+
pattern read kiosk/v1/{centre}/%u/cmd/+
"""


def password_for(user: str) -> str:
    """A test password, different for every user."""
    return f"pw-{user}-correct-horse"


class SecureBroker(Broker):
    """A TLS broker with per-client certificates, passwords and the terminal ACL."""

    def __init__(self, workdir: Path, centre_id: str, terminals: tuple[str, ...],
                 persistence: bool = False) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.pki = TestPki(workdir / "pki")
        server_cert, server_key = self.pki.issue("localhost", server=True)
        passwd = workdir / "passwd"
        passwd.write_text("")
        self._certs: dict[str, tuple[Path, Path]] = {}
        for user in (CENTRE_USER, *terminals):
            subprocess.run([MOSQUITTO_PASSWD, "-b", str(passwd), user, password_for(user)],
                           check=True, capture_output=True)
            self._certs[user] = self.pki.issue(user)
        acl = workdir / "acl"
        acl.write_text(TERMINAL_ACL.format(centre=centre_id))
        super().__init__(workdir, persistence, listener=(
            f"cafile {self.pki.ca}", f"certfile {server_cert}", f"keyfile {server_key}",
            "require_certificate true", "allow_anonymous false",
            f"password_file {passwd}", f"acl_file {acl}"))

    def credentials(self, user: str, password: str | None = None,
                    with_cert: bool = True) -> Credentials:
        """How `user` connects (a wrong `password` or no certificate, for refusal tests)."""
        cert, key = self._certs[user]
        return Credentials(self.pki.ca, cert if with_cert else None, key if with_cert else None,
                           user, password_for(user) if password is None else password)
