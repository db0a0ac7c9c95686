"""JSON form of the platform records: dataclasses, enums, datetimes (RFC 3339 UTC), tuples.

One generic codec driven by the dataclasses' type hints, so the catalogue file, the local
adapter, the HTTP adapter and the reference server all read and write the same shape.
Attachments (bytes) travel as base64.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import types
import typing
from datetime import UTC, datetime
from enum import Enum
from typing import Any, TypeVar

T = TypeVar("T")


def to_json(obj: Any) -> Any:
    """A JSON-ready value (dicts, lists, str, numbers, None) for a record or any part of it."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(obj, bytes):
        return base64.b64encode(obj).decode("ascii")
    if isinstance(obj, (list, tuple)):
        return [to_json(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj


def parse_time(text: str) -> datetime:
    """An RFC 3339 timestamp (with `Z` or an offset) as an aware UTC datetime."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r}")
    return value.astimezone(UTC)


def from_json(cls: type[T], data: Any) -> T:
    """The record of type `cls` from its JSON form; ValueError names the field that is wrong."""
    return _decode(cls, data, cls.__name__)


def _decode(tp: Any, data: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if data is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], data, where)
    if origin is tuple:
        if not isinstance(data, list):
            raise ValueError(f"{where}: expected a list")
        item = typing.get_args(tp)[0]
        return tuple(_decode(item, x, f"{where}[{i}]") for i, x in enumerate(data))
    if origin is dict or tp is dict:
        if not isinstance(data, dict):
            raise ValueError(f"{where}: expected an object")
        return dict(data)
    if dataclasses.is_dataclass(tp):
        return _decode_record(tp, data, where)
    if isinstance(tp, type) and issubclass(tp, Enum):
        try:
            return tp(data)
        except ValueError:
            raise ValueError(f"{where}: {data!r} is not one of "
                             f"{[m.value for m in tp]}") from None
    if tp is datetime:
        try:
            return parse_time(data)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{where}: {err}") from None
    if tp is bytes:
        return base64.b64decode(data)
    if tp in (str, int, float, bool) and not isinstance(data, tp):
        raise ValueError(f"{where}: expected {tp.__name__}, got {type(data).__name__}")
    return data


@functools.cache
def _hints(cls: Any) -> dict[str, Any]:
    """The resolved field types of a record class (resolving them is slow: once per class)."""
    return typing.get_type_hints(cls)


def _decode_record(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name], f"{where}.{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}: missing {f.name!r}")
    return cls(**kwargs)
