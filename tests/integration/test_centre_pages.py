"""A declaration's page images are kept sealed and shown to the clerk (staff token only)."""

from __future__ import annotations

import io
from dataclasses import replace

import requests
from PIL import Image

from centre.platform_schema import declaration_pages, messages, page_images
from hardware.drivers.document_camera_sim import SimDocumentCamera
from remote.platform_http import HttpPlatform
from tests.integration.centre_server import OTHER_TOKEN, STAFF_TOKEN, centre  # noqa: F401
from tests.integration.test_centre_platform import _declaration
from tests.unit.test_platform_openapi import validate


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def _get(centre, path: str, token: str | None = STAFF_TOKEN) -> requests.Response:  # noqa: F811
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(centre.url + path, headers=headers, timeout=10)


def test_the_clerk_sees_a_declarations_pages_and_nobody_else(centre):  # noqa: F811
    camera = SimDocumentCamera()
    first, second, png = camera.capture(), camera.capture(), _png()
    case_no = "SB20261123-T1-PAGES"
    message = replace(_declaration(centre, case_no), attachments=(first, second, png, first))
    platform = HttpPlatform(centre.url, centre.token, connect_timeout=2, read_timeout=10,
                            retries=0)
    platform.deliver(message)
    platform.deliver(message)  # a repeat keeps them once
    platform.close()

    listed = _get(centre, f"/v1/cases/{case_no}/pages")
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    validate(listed.json(), "DeclarationPages")
    pages = listed.json()["pages"]
    assert [(p["position"], p["media_type"], p["size"]) for p in pages] == [
        (1, "image/jpeg", len(first)), (2, "image/jpeg", len(second)),
        (3, "image/png", len(png)), (4, "image/jpeg", len(first))]
    assert pages[0]["digest"] == pages[3]["digest"] != pages[1]["digest"]
    for position, image in [(1, first), (2, second), (3, png), (4, first)]:
        got = _get(centre, f"/v1/cases/{case_no}/pages/{position}")
        assert (got.status_code, got.content) == (200, image)
        assert got.headers["content-type"] == pages[position - 1]["media_type"]

    for token, status, code in [(centre.token, 403, "staff_only"), (OTHER_TOKEN, 403,
                                "staff_only"), ("wrong", 401, "unauthorized"),
                                (None, 401, "unauthorized")]:
        refused = _get(centre, f"/v1/cases/{case_no}/pages/1", token)
        assert (refused.status_code, refused.json()) == (status, {"code": code})
    assert _get(centre, "/v1/guides").json() == {"code": "terminal_only"}  # staff: no terminal
    assert _get(centre, f"/v1/cases/{case_no}/pages/5").json() == {"code": "page_not_found"}
    assert _get(centre, "/v1/cases/NO-SUCH-CASE/pages").json() == {"code": "case_not_found"}
    assert _get(centre, "/v1/cases/SJ20261109000061/pages").json()["pages"] == []  # no pages

    with centre.store.engine.connect() as conn:  # stored once each, sealed
        stored = conn.execute(page_images.select()).all()
        kept = conn.execute(messages.select().where(messages.c.case_no == case_no)).all()
        rows = conn.execute(declaration_pages.select()).all()
    assert len(stored) == 3
    assert len(rows) == 4
    assert [(m.attachments, m.pages) for m in kept] == [(4, 4)]
    for row in stored:
        assert row.sealed[:3] != b"\xff\xd8\xff"
        assert first not in row.sealed
        assert png[8:40] not in row.sealed
