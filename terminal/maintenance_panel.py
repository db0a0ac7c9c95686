"""The maintenance screen's side panel as lines of text, in either language (no Kivy).

Boards, bus statistics, connectivity, alarms, tasks and the recent log, each line a word
description first: a technician reads "离线 OFFLINE", not a red dot. Times are shown in
Asia/Shanghai (DESIGN §2).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from terminal import staff_texts as ST
from terminal.maintenance_flow import MaintenanceSnapshot

SHOWN_ZONE = ZoneInfo("Asia/Shanghai")
ALARM_NAMES = {"door_forced": ("柜门被强行打开", "door forced"),
               "door_left_open": ("柜门未关", "door left open"),
               "jammed": ("锁卡住", "lock jammed"),
               "board_offline": ("控制板离线", "board offline"),
               "wiring_missing": ("柜格接线缺失", "compartment wiring missing")}


def clock(moment: datetime) -> str:
    """`11-23 21:05:07` in Asia/Shanghai."""
    return moment.astimezone(SHOWN_ZONE).strftime("%m-%d %H:%M:%S")


def _pick(pair: tuple[str, str], lang: str, **fmt: object) -> str:
    return (pair[1] if lang == "en" else pair[0]).format(**fmt)


def _state(value: bool | None, lang: str) -> str:
    pair = ST.NOT_CONFIGURED if value is None else ST.CONNECTED if value else ST.DISCONNECTED
    return _pick(pair, lang)


def _alarm(kind: str, lang: str) -> str:
    return _pick(ALARM_NAMES.get(kind, (kind, kind)), lang)


def panel_sections(snap: MaintenanceSnapshot, lang: str) -> list[tuple[str, list[str]]]:
    """(heading, lines) for each panel section, in `lang` ("zh" or "en")."""
    boards = [_pick(ST.BOARD_ROW, lang, unit=b.unit, errors=b.errors,
                    state=_pick(ST.ONLINE if b.online else ST.OFFLINE, lang))
              for b in snap.boards]
    bus = [_pick(ST.BUS_ROW, lang, **{k: getattr(snap.bus, k) for k in
                                      ("transactions", "timeouts", "crc_errors", "exceptions",
                                       "retries", "malformed")})] if snap.bus else \
        [_pick(ST.NO_BUS_STATS, lang)]
    c = snap.connectivity
    links = [_pick(ST.MQTT_ROW, lang, state=_state(c.mqtt, lang)),
             _pick(ST.PLATFORM_ROW, lang, state=_state(c.platform, lang)),
             _pick(ST.OUTBOX_ROW, lang, n="-" if c.outbox is None else c.outbox),
             _pick(ST.TASKS, lang, n=snap.tasks)]
    alarms = [f"{clock(a.raised_at)}  {_alarm(a.type.value, lang)}  "
              f"{a.compartment_id or (f'#{a.unit}' if a.unit is not None else '')}".rstrip()
              for a in snap.alarms[:6]] or [_pick(ST.NO_ALARMS, lang)]
    log = [f"{clock(e.ts)}  {e.actor}  {e.action}  {e.compartment or ''}".rstrip()
           for e in snap.audit]
    return [(_pick(ST.BOARDS, lang), boards), (_pick(ST.BUS, lang), bus),
            (_pick(ST.CONNECTIVITY, lang), links), (_pick(ST.ALARMS, lang), alarms),
            (_pick(ST.RECENT_LOG, lang), log)]
