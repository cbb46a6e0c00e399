"""Money, prices and register values rendered as people read them (``display`` of items)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.protocols.dlms import money
from smemu.protocols.dlms.cosem import ChargeTableEntry, ScalerUnit, UnitCharge
from smemu.protocols.dlms.data import Boolean, DoubleLong, DoubleLongUnsigned, NullData
from smemu.protocols.dlms.views import DlmsItem, DlmsPayload
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.payload import dlms_use_case
from smemu.protocols.text import parse_message_text

GBP = money.Currency.from_flag(True)

_IMPORT = bytes((1, 0, 1, 8, 0, 255))


def test_money_with_currency_keeps_the_raw_integer() -> None:
    assert money.format_money(15230, -5, GBP) == "£0.15230 (15230 x 10^-5 GBP)"
    assert money.format_money(-100, -5, GBP) == "-£0.00100 (-100 x 10^-5 GBP)"
    euro = money.Currency.from_flag(False)
    assert money.format_money(2121, -5, euro, "/kWh") == "€0.02121/kWh (2121 x 10^-5 EUR)"


def test_money_says_what_the_message_lacks() -> None:
    assert money.format_money(1200000, -5, None) == (
        "12.00000 currency units (1200000 x 10^-5; currency not in this message)"
    )
    assert money.format_money(7, None, GBP, "/kWh") == "7 GBP/kWh (scale not in this message)"


@given(st.integers(-(2**31), 2**31 - 1), st.integers(-8, 3))
def test_readable_amount_is_raw_times_power_of_ten(raw: int, scale: int) -> None:
    from decimal import Decimal

    text = money.format_money(raw, scale, GBP)
    amount = text.split(" ")[0].replace("£", "")
    assert Decimal(amount) == Decimal(raw).scaleb(scale)
    assert f"({raw} x 10^{scale} GBP)" in text


def test_price_matrix_and_standing_charge_use_their_price_scale() -> None:
    # gbcs-reference.md 10.1: standing charge {0, -5}, RTDS 20000 -> 0.20; the TOU price
    # matrix is per 10^3 Wh of the active import register, i.e. per kWh.
    standing = UnitCharge(0, -5, 0, bytes(6), 0, (ChargeTableEntry(b"", 20000),))
    matrix = UnitCharge(3, -5, 3, _IMPORT, 2, (ChargeTableEntry(b"\xa1", 2121),))
    refs = [
        "9000/0-0:94.44.2.0/a4", "113/0-0:19.20.4.255/a6", "113/0-0:19.20.0.255/a6",
    ]  # fmt: skip
    values = [Boolean(0xFF), standing.to_data(), matrix.to_data()]
    shown = money.displays(refs, values, [None, standing, matrix])
    assert shown[0] == "GBP"
    assert shown[1] == ["standing charge: £0.20000 (20000 x 10^-5 GBP)"]
    assert shown[2] == ["block 1 of set 1: £0.02121/kWh (2121 x 10^-5 GBP)"]
    alone = money.displays(refs[1:2], values[1:2], [standing])
    assert alone == [["standing charge: 0.20000 currency units (20000 x 10^-5; "
                      "currency not in this message)"]]  # fmt: skip


def test_register_value_combines_with_its_scaler_unit_of_the_same_message() -> None:
    # As the ECS17b example of gbcs-reference.md (value, scaler, unit 30 = Wh).
    refs = ["3/1-0:1.8.0.255/a2", "3/1-0:1.8.0.255/a3", "3/1-0:2.8.0.255/a2"]
    values = [DoubleLongUnsigned(12345), ScalerUnit(-3, 30).to_data(), DoubleLongUnsigned(10)]
    shown = money.displays(refs, values, [None, ScalerUnit(-3, 30), None])
    assert shown[0] == "12.345 Wh (12345 x 10^-3 Wh)"
    assert shown[1] is None
    assert shown[2] == "10 (scale not in this message)"


def test_active_tariff_price_is_money_per_kwh() -> None:
    # Use Case volume: ActiveTariffPrice scaler -5, unit 254, currency units per kWh.
    refs = ["3/0-0:94.44.1.7/a2", "3/0-0:94.44.1.7/a3", "9000/0-0:94.44.2.0/a2"]
    values = [DoubleLongUnsigned(15230), ScalerUnit(-5, 254).to_data(), Boolean(1)]
    shown = money.displays(refs, values, [None, ScalerUnit(-5, 254), None])
    assert shown[0] == "£0.15230/kWh (15230 x 10^-5 GBP)"
    assert money.displays(refs[:1], values[:1], [None]) == [
        "15230 currency units/kWh (scale not in this message)"
    ]


def test_millipence_amounts_and_whole_unit_rate_cap() -> None:
    refs = ["112/0-0:19.10.0.255/m1", "9000/0-0:94.44.128.12/a4", "112/0-0:19.10.0.255/a2"]
    values = [DoubleLong(1200000), DoubleLong(30), NullData()]
    shown = money.displays(refs, values, [None, None, None])
    assert shown[0].startswith("12.00000 currency units (1200000 x 10^-5;")
    assert shown[1].startswith("30 currency units (30 x 10^0;")
    assert shown[2] is None  # a get request carries no amount


def test_display_is_an_added_key() -> None:
    item = DlmsItem("set", 112, bytes((0, 0, 19, 10, 0, 255)), 2, DoubleLong(5))
    assert item.ref == "112/0-0:19.10.0.255/a2"
    assert "display" not in item.to_json()


# -------------------------------------------------------------------- reference corpus


def _decode(path: Path) -> DlmsPayload:
    (blob,) = parse_message_text(path.read_text())
    inner = frame.signing_message(frame.decode_exact(blob))
    assert inner is not None
    return DlmsPayload.decode(inner.payload, use_case=dlms_use_case(inner.message_code))


def _money_items(payload: DlmsPayload) -> list[DlmsItem]:
    out = []
    for item in payload.items:
        ref = item.ref
        price = ref is not None and ref.split("/")[1] in ("0-0:94.44.1.7", "0-0:94.44.1.8")
        amount = ref in money.MONEY_SCALES or (price and str(ref).endswith("/a2"))
        if isinstance(item.typed, UnitCharge) or (amount and not isinstance(item.value, NullData)):
            out.append(item)
    return out


def test_every_reference_amount_renders_with_currency_or_says_why(rtds_dlms_file: Path) -> None:
    payload = _decode(rtds_dlms_file)
    has_currency = any(
        i.ref in money.CURRENCY_REFS and isinstance(i.value, Boolean) for i in payload.items
    )
    for item in _money_items(payload):
        shown = item.display if isinstance(item.display, list) else [item.display]
        assert shown and all(isinstance(s, str) for s in shown), item.ref
        for text in shown:
            if has_currency:
                assert ("GBP" in text or "EUR" in text) and money.NO_CURRENCY not in text, text
            else:
                assert money.NO_CURRENCY in text or money.NO_SCALE in text, text
            if money.NO_SCALE not in text:
                assert f"({_raw_of(text)} x 10^" in text, text
    json.dumps(payload.to_json())
    assert payload.encode() == _decode(rtds_dlms_file).encode()


def _raw_of(text: str) -> int:
    inside = text[text.index("(") + 1 :]
    return int(inside.split(" ")[0])


@pytest.mark.parametrize(
    ("pattern", "ref", "first"),
    [
        ("1.1.1_ECS01a/*IMMEDIATE_TOU_SUCCESS_COMMAND_GBCS.HEX", "113/0-0:19.20.0.255/a6",
         "TOU rate 1: £0.02121/kWh (2121 x 10^-5 GBP)"),
        ("1.1.1_ECS01a/*IMMEDIATE_TOU_SUCCESS_COMMAND_GBCS.HEX", "113/0-0:19.20.4.255/a6",
         "standing charge: £0.20000 (20000 x 10^-5 GBP)"),
        ("4.11.1_ECS24/*SUCCESS_RESPONSE_GBCS.HEX", "113/0-0:19.20.4.255/a5",
         "standing charge: £0.20000 (20000 x 10^-5 GBP)"),
        ("4.11.1_ECS24/*SUCCESS_RESPONSE_GBCS.HEX", "3/0-0:94.44.1.7/a2",
         "£0.00001/kWh (1 x 10^-5 GBP)"),
        ("4.2_ECS17a/*SUCCESS_RESPONSE_GBCS.HEX", "3/1-0:2.8.0.255/a2",
         "10 Wh (10 x 10^0 Wh)"),
        ("1.5_ECS04a/*SUCCESS_COMMAND_GBCS.HEX", "112/0-0:19.10.0.255/m1",
         "12.00000 currency units (1200000 x 10^-5; currency not in this message)"),
    ],
)  # fmt: skip
def test_reference_renderings(rtds_dir: Path, pattern: str, ref: str, first: str) -> None:
    path = next(rtds_dir.glob(pattern))
    item = next(i for i in _decode(path).items if i.ref == ref and i.display is not None)
    shown = item.display[0] if isinstance(item.display, list) else item.display
    assert shown == first
