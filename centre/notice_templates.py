"""The SMS templates of applicant notices (DOMAIN item 7), and which notice sends which.

Four templates, in Chinese as the applicant reads them: the pickup code (取件码) after a
deposit, 补正 (every missing material in one notice), the 容缺 deadline, and the result
ready. A gateway registers the template ids with the operator; the rendered text goes with
them for gateways (and the demo log) that send free text. `masked` hides the pickup code.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from locker.identity_hash import mask_tail
from remote.local_catalogue import CHINA_TZ
from remote.platform_models import CaseProgress
from remote.wire import parse_time

PICKUP_CODE, CORRECTION, TOLERATED, RESULT_READY = (
    "pickup_code", "correction", "tolerated", "result_ready")
TEMPLATES: dict[str, str] = {
    PICKUP_CODE: "【政务服务中心】您办理的“{item_name}”（办件号{case_no}）结果已存入24小时自助"
                 "取件柜{compartment}号格口，取件码{code}，请凭取件码和本人身份证{until}领取。",
    CORRECTION: "【政务服务中心】您办理的“{item_name}”（办件号{case_no}）需补正材料，一次性告知"
                "如下：{materials}。请于{deadline}前补正。",
    TOLERATED: "【政务服务中心】您办理的“{item_name}”（办件号{case_no}）已容缺受理，待补材料："
               "{materials}。请于{deadline}前补齐。",
    RESULT_READY: "【政务服务中心】您办理的“{item_name}”（办件号{case_no}）已办结，结果将放入"
                  "24小时自助取件柜，放入后将短信告知取件码。",
}
# the notice kinds the platform keeps (centre.case_flow, remote.case_events) → template
BY_KIND = {"pickup_code": PICKUP_CODE, "correction": CORRECTION, "tolerated": TOLERATED,
           "ready": RESULT_READY}


def params_for(kind: str, progress: CaseProgress,
               body: Mapping[str, Any] | None = None) -> tuple[str, dict[str, str]] | None:
    """(template, parameters) of a notice of `kind` about a case, or None (not sent by SMS).

    `body` is the terminal's NOTICE message for a pickup code (the code and compartment).
    """
    template = BY_KIND.get(kind)
    if template is None:
        return None
    params = {"item_name": progress.item_name, "case_no": progress.case_no}
    if template == PICKUP_CODE:
        body = body or {}
        until = str(body.get("expires_at") or "")
        params.update(code=str(body.get("code", "")),
                      compartment=str(body.get("compartment_id") or ""),
                      until=f"于{_local(parse_time(until))}前" if until else "")
    elif template in (CORRECTION, TOLERATED):
        params.update(materials="；".join(progress.missing_materials),
                      deadline=_local(progress.missing_deadline) if progress.missing_deadline
                      else "规定期限")
    return template, params


def render(template: str, params: Mapping[str, str]) -> str:
    """The text of a notice (KeyError: unknown template or a parameter missing)."""
    return TEMPLATES[template].format(**params)


def masked(params: Mapping[str, str]) -> dict[str, str]:
    """The parameters with the pickup code masked (all but its last 2 digits)."""
    out = dict(params)
    if out.get("code"):
        out["code"] = mask_tail(out["code"], 2)
    return out


def _local(at: datetime) -> str:
    return at.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
