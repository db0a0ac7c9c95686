"""Case progress on the real platform server: wrong proofs limited per case, kept in the database.

An unknown case number must answer exactly like a wrong proof (status and body), so the lookup
tells nobody which case numbers exist; the per-case limit survives a restart of the server.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from centre.platform_service import Answer, CentrePlatform
from centre.platform_store import PlatformStore
from centre.progress_limits import ProgressLimits
from remote.platform_local import DEFAULT_CATALOGUE
from tests.integration.centre_server import ID_SECRET, CentreServer
from tests.integration.test_centre_platform import CORRECTION_CASE, CORRECTION_ID
from tests.unit.locker_fakes import fake_id


def ask(server: CentreServer, case_no: str, proof: dict) -> requests.Response:
    return requests.post(f"{server.url}/v1/cases/{case_no}/progress", json=proof,
                         headers={"Authorization": f"Bearer {server.token}"}, timeout=5)


def test_an_unknown_case_answers_like_a_wrong_proof_and_the_limit_survives_a_restart(tmp_path):
    server = CentreServer(tmp_path).start()
    try:
        assert ask(server, CORRECTION_CASE, {"id_number": CORRECTION_ID}).status_code == 200
        unknown = ask(server, "SJ20269999999999", {"id_last6": CORRECTION_ID[-6:]})
        wrong = ask(server, CORRECTION_CASE, {"id_last6": "123456"})
        assert (unknown.status_code, unknown.content) == (wrong.status_code, wrong.content)
        assert (wrong.status_code, wrong.json()) == (403, {"code": "identity_mismatch"})
        for _ in range(4):  # five wrong proofs in all lock this case
            assert ask(server, CORRECTION_CASE, {"id_last6": "123456"}).status_code == 403
        locked = ask(server, CORRECTION_CASE, {"id_number": CORRECTION_ID})  # even the right one
        assert (locked.status_code, locked.json()) == (403, {"code": "too_many_attempts"})
    finally:
        server.stop()
    again = CentreServer(tmp_path, seed=False).start()  # the same database, a new process state
    try:
        still = ask(again, CORRECTION_CASE, {"id_number": CORRECTION_ID})
        assert (still.status_code, still.json()) == (403, {"code": "too_many_attempts"})
        with again.store.engine.connect() as conn:
            keys = [r[0] for r in conn.exec_driver_sql("SELECT case_key FROM progress_attempts")]
        assert CORRECTION_CASE not in keys  # keyed hashes, not case numbers
        assert len(keys) == 2  # the real case and the unknown one, each counted
    finally:
        again.stop()


def test_a_locked_case_opens_again_after_the_lock_and_a_right_proof_resets_it(tmp_path):
    now = [datetime(2026, 12, 1, 8, 0, tzinfo=UTC)]
    store = PlatformStore(f"sqlite:///{tmp_path / 'platform.db'}", ID_SECRET,
                          clock=lambda: now[0])
    store.seed(DEFAULT_CATALOGUE)
    platform = CentrePlatform(store, progress_limits=ProgressLimits(per_case=3, lock_s=600))
    try:
        def code(case_no: str, **proof: str) -> str:
            try:
                platform.progress(case_no, proof.get("id_number"), proof.get("id_last6"))
            except Answer as err:
                return err.code
            return "ok"

        assert code(CORRECTION_CASE, id_number=fake_id(1)) == "identity_mismatch"
        assert code(CORRECTION_CASE, id_number=CORRECTION_ID) == "ok"  # forgets the wrong one
        for _ in range(3):
            assert code(CORRECTION_CASE, id_last6="123456") == "identity_mismatch"
        assert code(CORRECTION_CASE, id_number=CORRECTION_ID) == "too_many_attempts"
        assert code("SJ20260000000000", id_number=CORRECTION_ID) == "identity_mismatch"
        now[0] += timedelta(seconds=601)
        assert code(CORRECTION_CASE, id_number=CORRECTION_ID) == "ok"
        with pytest.raises(ValueError, match="progress limits"):
            ProgressLimits(per_case=0)
    finally:
        store.close()
