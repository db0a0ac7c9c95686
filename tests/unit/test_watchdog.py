"""The sd_notify protocol against a real unix datagram socket bound by the test."""

from __future__ import annotations

import os
import socket

import pytest

from terminal.watchdog import Notifier, socket_address


@pytest.fixture
def listener(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = tmp_path / "notify.sock"
    sock.bind(str(path))
    sock.settimeout(2.0)
    yield str(path), sock
    sock.close()


def received(sock: socket.socket) -> list[str]:
    return sock.recv(4096).decode().split("\n")


def test_ready_status_ping_and_stopping_arrive_as_datagrams(listener):
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("Home shown")
    assert received(sock) == ["READY=1", "STATUS=Home shown"]
    assert notifier.ping()
    assert received(sock) == ["WATCHDOG=1"]
    assert notifier.status("locker open\nsecond line")
    assert received(sock) == ["STATUS=locker open second line"]  # one line, never two
    assert notifier.stopping()
    assert received(sock) == ["STOPPING=1"]
    notifier.close()


def test_abstract_socket_names():
    name = f"kiosk-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2.0)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": f"@{name}"})
        assert notifier.address == b"\0" + name.encode()
        assert notifier.ping()
        assert received(sock) == ["WATCHDOG=1"]
        notifier.close()
    finally:
        sock.close()


def test_without_a_service_manager_nothing_is_sent_and_nothing_fails():
    notifier = Notifier({})
    assert not notifier.enabled
    assert notifier.ping_interval_s is None
    assert notifier.ready() is False
    assert notifier.ping() is False
    assert socket_address("vsock:2:1234") is None


def test_a_vanished_socket_is_reported_not_raised(tmp_path):
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert notifier.ping() is False
    notifier.close()


def test_ping_interval_is_half_the_watchdog_timeout_and_only_for_us():
    me, parent = 4242, 4000
    assert Notifier({"WATCHDOG_USEC": "400000"}, (me, parent)).ping_interval_s == 0.2
    assert Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"},
                    (me, parent)).ping_interval_s == 15.0
    # cage is the unit's main process and this app its only client
    assert Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4000"},
                    (me, parent)).ping_interval_s == 15.0
    assert Notifier({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "77"},
                    (me, parent)).ping_interval_s is None
    assert Notifier({"WATCHDOG_USEC": "soon"}, (me, parent)).ping_interval_s is None
    assert Notifier({"WATCHDOG_USEC": "0"}, (me, parent)).ping_interval_s is None


def test_a_full_queue_drops_the_message_instead_of_blocking(listener):
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    sent = [notifier.ping() for _ in range(5000)]  # nobody reads: the queue fills up
    assert sent[0] is True
    assert sent[-1] is False  # dropped, and the call returned at once
    assert received(sock) == ["WATCHDOG=1"]
    notifier.close()


def test_withheld_pings_stop_for_good_and_the_status_says_why(listener):
    path, sock = listener
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.ping()
    assert received(sock) == ["WATCHDOG=1"]
    assert notifier.withhold("5 uncaught exceptions")
    assert received(sock) == ["STATUS=restart wanted: 5 uncaught exceptions"]
    assert notifier.withhold("again") is False  # once: no second status, no second log
    assert notifier.ping() is False
    sock.settimeout(0.05)
    with pytest.raises(TimeoutError):
        sock.recv(4096)  # the ping was not sent
    assert notifier.withheld == "5 uncaught exceptions"
    notifier.close()
