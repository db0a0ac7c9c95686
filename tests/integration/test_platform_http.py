"""HttpPlatform against a real server on loopback: routes, retries, timeouts, 4xx, auth, TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import time
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from remote.platform_http import HttpPlatform
from remote.platform_models import (
    CaseProgress,
    CaseState,
    LockerAssignment,
    MessageKind,
    OutboundMessage,
    TimelineEntry,
)
from remote.platform_port import (
    CaseNotFound,
    IdentityMismatch,
    PlatformRejected,
    PlatformUnavailable,
)
from tests.integration.platform_server import PlatformServer, sample_guide
from tests.unit.locker_fakes import fake_id

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


@pytest.fixture
def server():
    with PlatformServer(guides=(sample_guide("G1", T0), sample_guide("G2", T0.replace(
            day=24)))) as srv:
        yield srv


@pytest.fixture
def connect(server):
    made: list[HttpPlatform] = []

    def make(**kw) -> HttpPlatform:
        options = {"connect_timeout": 1.0, "read_timeout": 1.0, "retries": 2, "backoff": 0.01,
                   **kw}
        platform = HttpPlatform(options.pop("url", server.url),
                                options.pop("token", server.token), **options)
        made.append(platform)
        return platform

    yield make
    for platform in made:
        platform.close()


def message(key: str = "T1:deposit:abc", body: dict | None = None) -> OutboundMessage:
    return OutboundMessage(key, MessageKind.DEPOSIT, "CASE-1", body or {"item_id": "abc"}, T0,
                           (b"\x00\x01",))


def test_guides_all_and_since(connect):
    platform = connect()
    assert [g.item_code for g in platform.guides()] == ["G1", "G2"]
    assert [g.item_code for g in platform.guides(since=T0)] == ["G2"]
    assert platform.guides()[0] == sample_guide("G1", T0)


def test_case_progress_proof_travels_in_the_body_not_the_url(server, connect):
    progress = CaseProgress("SH/2026 001", "G1", "测试事项", CaseState.REVIEW,
                            (TimelineEntry(CaseState.RECEIVED, T0),))
    server.cases["SH/2026 001"] = (progress, fake_id(7))
    platform = connect()
    assert platform.case_progress("SH/2026 001", id_number=fake_id(7)) == progress
    assert platform.case_progress("SH/2026 001", id_last6=fake_id(7)[-6:]) == progress
    with pytest.raises(IdentityMismatch):
        platform.case_progress("SH/2026 001", id_number=fake_id(8))
    with pytest.raises(CaseNotFound):
        platform.case_progress("NOPE", id_last6="000008")
    with pytest.raises(ValueError, match="exactly one"):
        platform.case_progress("SH/2026 001")
    assert not any(fake_id(7)[-6:] in path for _, path in server.requests)
    assert ("POST", "/v1/cases/SH%2F2026%20001/progress") in server.requests


def test_locker_assignment_found_refused_or_unknown(server, connect):
    who = LockerAssignment("SH-0001", "营业执照", "测试一", fake_id(1), "10000000001",
                           proxy_name="测试二", proxy_id_number=fake_id(2), size_hint="L")
    server.assignments.update({"SH-0001": who, "SH-0002": "not_ready"})
    platform = connect()
    assert platform.locker_assignment("SH-0001") == who
    with pytest.raises(PlatformRejected, match="409 not_ready"):
        platform.locker_assignment("SH-0002")
    with pytest.raises(CaseNotFound):
        platform.locker_assignment("SH-0003")
    assert ("GET", "/v1/cases/SH-0001/locker-assignment") in server.requests
    assert len(server.requests) == 3  # refusals are final: no retries
    with pytest.raises(PlatformUnavailable):  # the bearer token protects it
        connect(token="wrong", retries=0).locker_assignment("SH-0001")


def test_deliver_is_idempotent_and_a_changed_repeat_is_rejected(server, connect):
    platform = connect()
    platform.deliver(message())
    platform.deliver(message())
    assert server.accepted["T1:deposit:abc"] == 2
    assert server.order == ["T1:deposit:abc"]
    assert server.messages["T1:deposit:abc"]["attachments"] == ["AAE="]
    with pytest.raises(PlatformRejected, match="409 key_conflict"):
        platform.deliver(message(body={"item_id": "other"}))


def test_5xx_is_retried_with_back_off_then_succeeds(server, connect):
    server.fail_next = [503, 502]
    platform = connect(backoff=0.05)
    started = time.monotonic()
    platform.deliver(message())
    assert time.monotonic() - started >= 0.05 + 0.1
    assert len(server.requests) == 3
    assert server.accepted["T1:deposit:abc"] == 1


def test_platform_down_ends_unavailable_after_the_retries(server, connect):
    server.refuse_all = True
    platform = connect(retries=3)
    with pytest.raises(PlatformUnavailable, match=r"HTTP 503 unavailable \(after 4 tries\)"):
        platform.deliver(message())
    assert len(server.requests) == 4
    assert not platform.reachable()


def test_dropped_connection_is_retried(server, connect):
    server.drop_next = 1
    connect().deliver(message())
    assert len(server.requests) == 2
    assert server.accepted["T1:deposit:abc"] == 1


def test_slow_answer_times_out_and_is_unavailable(server, connect):
    server.delay_s = 3.0
    platform = connect(read_timeout=0.2, retries=1)
    started = time.monotonic()
    with pytest.raises(PlatformUnavailable, match="ReadTimeout"):
        platform.deliver(message())
    assert time.monotonic() - started < 2.0


def test_nobody_listening_is_unavailable_quickly(connect):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    platform = connect(url=f"http://127.0.0.1:{port}", retries=1)
    with pytest.raises(PlatformUnavailable, match="ConnectionError"):
        platform.guides()
    assert not platform.reachable()


def test_4xx_is_rejected_for_good_without_retry(server, connect):
    server.reject_keys.add("T1:deposit:bad")
    with pytest.raises(PlatformRejected, match="422"):
        connect().deliver(message("T1:deposit:bad"))
    assert len(server.requests) == 1


def test_wrong_token_is_unavailable_not_rejected_and_not_hammered(server, connect):
    platform = connect(token="wrong-token")
    with pytest.raises(PlatformUnavailable, match="401"):
        platform.deliver(message())
    assert len(server.requests) == 1  # a refused token is not retried at once
    assert connect().reachable()


def test_closing_ends_a_back_off_wait_at_once(server, connect):
    import threading

    server.refuse_all = True
    platform = connect(retries=5, backoff=5.0)
    errors: list[Exception] = []

    def call() -> None:
        try:
            platform.deliver(message())
        except PlatformUnavailable as err:
            errors.append(err)

    worker = threading.Thread(target=call)
    worker.start()
    assert server.wait_for(lambda: len(server.requests) >= 1)
    platform.close()
    worker.join(2)
    assert not worker.is_alive()
    assert errors


def _certificates(tmp_path):
    """A CA and a server certificate for 127.0.0.1 signed by it (PEM files)."""
    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test CA")).issuer_name(name("test CA"))
          .public_key(ca_key.public_key()).serial_number(1)
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder().subject_name(name("127.0.0.1")).issuer_name(name("test CA"))
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "server.pem").write_bytes(cert.public_bytes(pem))
    (tmp_path / "server.key").write_bytes(key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(tmp_path / "ca.pem"), (str(tmp_path / "server.pem"), str(tmp_path / "server.key"))


def test_tls_is_verified_against_the_configured_ca(tmp_path):
    ca_file, chain = _certificates(tmp_path)
    with PlatformServer(tls=chain) as srv:
        assert srv.url.startswith("https://")
        trusted = HttpPlatform(srv.url, srv.token, verify=ca_file, retries=0)
        untrusted = HttpPlatform(srv.url, srv.token, verify=True, retries=2)
        try:
            trusted.deliver(message())
            assert srv.accepted["T1:deposit:abc"] == 1
            with pytest.raises(PlatformUnavailable,
                               match=r"TLS verification failed \(after 1 try\)"):
                untrusted.deliver(message("T1:deposit:other"))
            assert "T1:deposit:other" not in srv.accepted
        finally:
            trusted.close()
            untrusted.close()
