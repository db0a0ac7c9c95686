"""GA/T 467 card text: the data of a "read basic info" answer to and from an IdCard.

Text and photo lengths (2 bytes each), 256 bytes of UCS-2LE fixed-width fields, a 1024-byte wlt
photo. Pure bytes, no I/O; every failure raises `CardDataError` (a `ProtocolError`).
"""

from __future__ import annotations

from datetime import date

from hardware.drivers.gat467_protocol import CardDataError
from hardware.id_reader import IdCard, Sex

TEXT_SIZE = 256
PHOTO_SIZE = 1024
LIFELONG = "长期"

# The text: UCS-2LE, fixed widths in characters, space-padded.
FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 15), ("sex", 1), ("ethnicity", 2), ("birth_date", 8), ("address", 35),
    ("id_number", 18), ("authority", 15), ("valid_from", 8), ("valid_to", 8),
)
"""Field order and width in UCS-2 characters: 110 of the 128, the rest is space padding."""

ETHNICITIES: dict[str, str] = {
    f"{number:02d}": name
    for number, name in enumerate(
        ("汉", "蒙古", "回", "藏", "维吾尔", "苗", "彝", "壮", "布依", "朝鲜", "满", "侗", "瑶",
         "白", "土家", "哈尼", "哈萨克", "傣", "黎", "傈僳", "佤", "畲", "高山", "拉祜", "水",
         "东乡", "纳西", "景颇", "柯尔克孜", "土", "达斡尔", "仫佬", "羌", "布朗", "撒拉", "毛南",
         "仡佬", "锡伯", "阿昌", "普米", "塔吉克", "怒", "乌孜别克", "俄罗斯", "鄂温克", "德昂",
         "保安", "裕固", "京", "塔塔尔", "独龙", "鄂伦春", "赫哲", "门巴", "珞巴", "基诺"),
        start=1,
    )
} | {"97": "其他", "98": "外国血统中国籍人士"}
"""GB/T 3304 ethnicity codes as stored on the card; an unknown code is kept as its digits."""

_ETHNICITY_CODES = {name: code for code, name in ETHNICITIES.items()}
_ID_CHARS = frozenset("0123456789")


def _date(text: str, what: str) -> date:
    if len(text) != 8 or not set(text) <= _ID_CHARS:
        raise CardDataError(f"{what} is not a YYYYMMDD date")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError as err:
        raise CardDataError(f"{what} is not a valid date") from err


def decode_text(text: bytes) -> dict[str, str]:
    """Split the UCS-2LE text block into its fields, padding stripped (no interpretation)."""
    fields: dict[str, str] = {}
    offset = 0
    for name, width in FIELDS:
        raw = text[offset : offset + 2 * width]
        offset += 2 * width
        try:
            fields[name] = raw.decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError as err:
            raise CardDataError(f"{name} is not valid UCS-2 text") from err
    return fields


def decode_basic_info(data: bytes) -> IdCard:
    """The data of a successful "read basic info" answer into an IdCard."""
    if len(data) < 4:
        raise CardDataError("basic info shorter than its length fields")
    text_len, photo_len = int.from_bytes(data[:2], "big"), int.from_bytes(data[2:4], "big")
    if text_len < 2 * sum(width for _, width in FIELDS) or text_len % 2:
        raise CardDataError(f"implausible text length {text_len}")
    if len(data) != 4 + text_len + photo_len:
        raise CardDataError(f"lengths {text_len}+{photo_len} do not match {len(data) - 4} bytes")
    f = decode_text(data[4 : 4 + text_len])
    try:
        sex = Sex(f["sex"])
    except ValueError as err:
        raise CardDataError("unknown sex code") from err
    code = f["ethnicity"]
    if len(code) != 2 or not set(code) <= _ID_CHARS:
        raise CardDataError("ethnicity is not a 2-digit code")
    number = f["id_number"]
    if len(number) != 18 or not set(number[:17]) <= _ID_CHARS or number[17] not in "0123456789X":
        raise CardDataError("the ID number is not 17 digits and a check character")
    if not f["name"]:
        raise CardDataError("the name is empty")
    return IdCard(
        name=f["name"], sex=sex, ethnicity=ETHNICITIES.get(code, code),
        birth_date=_date(f["birth_date"], "birth date"), address=f["address"],
        id_number=number, authority=f["authority"],
        valid_from=_date(f["valid_from"], "validity start"),
        valid_to=None if f["valid_to"] == LIFELONG else _date(f["valid_to"], "validity end"),
        photo=data[4 + text_len :],
    )


def encode_text(card: IdCard) -> bytes:
    """The 256-byte UCS-2LE text block for `card` (what a reader sends, for simulators/tests)."""
    values = {
        "name": card.name, "sex": card.sex.value,
        "ethnicity": _ETHNICITY_CODES.get(card.ethnicity, card.ethnicity),
        "birth_date": f"{card.birth_date:%Y%m%d}", "address": card.address,
        "id_number": card.id_number, "authority": card.authority,
        "valid_from": f"{card.valid_from:%Y%m%d}",
        "valid_to": LIFELONG if card.valid_to is None else f"{card.valid_to:%Y%m%d}",
    }
    out = b""
    for name, width in FIELDS:
        raw = values[name].ljust(width).encode("utf-16-le", "surrogatepass")
        if len(raw) != 2 * width:
            raise CardDataError(f"{name} does not fit {width} UCS-2 characters")
        out += raw
    return out + " ".encode("utf-16-le") * ((TEXT_SIZE - len(out)) // 2)


def encode_basic_info(card: IdCard) -> bytes:
    """The data of a "read basic info" answer: lengths, text, photo padded to 1024 bytes."""
    if len(card.photo) > PHOTO_SIZE:
        raise CardDataError(f"photo of {len(card.photo)} bytes exceeds {PHOTO_SIZE}")
    photo = card.photo.ljust(PHOTO_SIZE, b"\x00")
    return TEXT_SIZE.to_bytes(2, "big") + PHOTO_SIZE.to_bytes(2, "big") + encode_text(card) + photo
