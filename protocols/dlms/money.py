"""Prices, money and register values of a DLMS payload rendered as people read them.

Layer: protocols (sans-IO). :func:`displays` gives each item of one payload a ``display``:
money with its currency and scale, prices from a Charge's own price_scale (IC 113), and a
register value (attribute 2) combined with a scaler_unit (attribute 3) read in the same
message. The currency is the CurrencyUnit object (IC 9000 0-0:94.44.2.0, TRUE = GB pounds,
FALSE = euro; Use Case volume, SMETS 5.7.4.9) when the same message carries it; amounts the
Use Case volume gives in millipence (meter balance, credit, debt, thresholds) have scale -5.
What is not in the message is said ("currency not in this message", "scale not in this
message"); the raw integer always stays visible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from smemu.protocols.dlms.cosem import ChargeTableEntry, ScalerUnit, UnitCharge
from smemu.protocols.dlms.data import (
    Array,
    Boolean,
    Data,
    DoubleLong,
    DoubleLongUnsigned,
    Long,
    Long64,
    Long64Unsigned,
    LongUnsigned,
)

__all__ = [
    "CURRENCY_REFS",
    "MONEY_SCALES",
    "NO_CURRENCY",
    "NO_SCALE",
    "Currency",
    "displays",
    "format_money",
]

NO_CURRENCY: Final = "currency not in this message"
NO_SCALE: Final = "scale not in this message"

_MILLI: Final = -5  # millipence: 10^-5 of the currency unit

#: CurrencyUnit value_active / value_passive (IC 9000 "GBCS extended data").
CURRENCY_REFS: Final = ("9000/0-0:94.44.2.0/a2", "9000/0-0:94.44.2.0/a4")

#: ``class/OBIS/aN|mN`` -> the scale GBCS fixes for a money amount (power of ten of the
#: currency unit). Use Case volume mapping rows: credit, balance, debt and threshold values
#: "in millipence"; DebtRecoveryRateCap "an associated scalar of zero ... whole currency units".
MONEY_SCALES: Final[Mapping[str, int]] = {
    "112/0-0:19.10.0.255/a2": _MILLI,  # MeterBalance current_credit_amount
    "112/0-0:19.10.0.255/m1": _MILLI,  # MeterBalance update_amount (adjustment)
    "112/0-0:19.10.0.255/m2": _MILLI,  # MeterBalance set_amount_to_value
    "112/0-0:19.10.1.255/a2": _MILLI,  # EmergencyCreditBalance
    "112/0-0:19.10.1.255/a9": _MILLI,  # EmergencyCreditLimit preset_credit_amount
    "112/0-0:19.10.1.255/a10": _MILLI,  # EmergencyCreditThreshold credit_available_threshold
    "112/0-0:19.10.1.255/m2": _MILLI,  # EmergencyCreditBalance set_amount_to_value
    "112/0-0:19.10.2.255/a2": _MILLI,  # AccumulatedDebtRegister
    "112/0-0:19.10.2.255/m2": _MILLI,  # AccumulatedDebtRegister set_amount_to_value
    "111/0-0:19.0.0.255/a16": _MILLI,  # LowCreditThreshold
    "111/0-0:19.0.0.255/a18": 0,  # DebtRecoveryRateCap max_provision: whole currency units
    "113/0-0:19.20.1.255/m4": _MILLI,  # TimeDebtRegisters[1] update_total_amount_remaining
    "113/0-0:19.20.2.255/m4": _MILLI,  # TimeDebtRegisters[2]
    "113/0-0:19.20.3.255/m4": _MILLI,  # PaymentDebtRegister
    "9000/0-0:94.44.128.2/a4": _MILLI,  # EmergencyCreditLimit valueNext
    "9000/0-0:94.44.128.3/a4": _MILLI,  # EmergencyCreditThreshold valueNext
    "9000/0-0:94.44.128.9/a4": _MILLI,  # LowCreditThreshold valueNext
    "9000/0-0:94.44.128.12/a4": 0,  # DebtRecoveryRateCap amountNext: whole currency units
    "9000/0-0:94.44.128.22/a4": _MILLI,  # DisablementThreshold(MeterBalance) valueNext
    "9000/0-0:94.44.2.10/a2": _MILLI,  # PrepaymentCredit(MaximumCreditThreshold)
    "9000/0-0:94.44.2.10/a4": _MILLI,
    "9000/0-0:94.44.2.20/a2": _MILLI,  # PrepaymentCredit(MaxMeterBalance)
    "9000/0-0:94.44.2.20/a4": _MILLI,
    "21/0-0:16.0.1.255/a2": _MILLI,  # DisablementThreshold(MeterBalance) thresholds
}  # fmt: skip

#: Registers whose value is a price in currency units per kWh (their unit enum is 254
#: "other"): (Primary) and Secondary ActiveTariffPrice.
_PRICE_REGISTERS: Final = frozenset({"0-0:94.44.1.7", "0-0:94.44.1.8"})

_MONEY_INTEGERS: Final = (
    DoubleLong, DoubleLongUnsigned, Long, LongUnsigned, Long64, Long64Unsigned,
)  # fmt: skip

_ACTIVE_IMPORT: Final = bytes((1, 0, 1, 8, 0, 255))


@dataclass(frozen=True, slots=True)
class Currency:
    """The currency a message names (None where it does not carry the CurrencyUnit object)."""

    code: str  #: ISO 4217 code
    symbol: str  #: the sign written before an amount

    @classmethod
    def from_flag(cls, gb_pounds: bool) -> Currency:
        """CurrencyUnit: TRUE = GB pounds, FALSE = ECB euro (SMETS 5.7.4.9)."""
        return cls("GBP", "£") if gb_pounds else cls("EUR", "€")


def format_money(raw: int, scale: int | None, currency: Currency | None, per: str = "") -> str:
    """``£0.15230/kWh (15230 x 10^-5 GBP)``; says what the message lacks to read it."""
    if scale is None:
        unit = currency.code if currency else "currency units"
        return f"{raw} {unit}{per} ({NO_SCALE})"
    amount = Decimal(raw).scaleb(scale)
    if currency is None:
        return f"{amount} currency units{per} ({raw} x 10^{scale}; {NO_CURRENCY})"
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency.symbol}{abs(amount)}{per} ({raw} x 10^{scale} {currency.code})"


def _currency(refs: Sequence[str | None], values: Sequence[Data]) -> Currency | None:
    for ref, value in zip(refs, values, strict=True):
        if ref in CURRENCY_REFS and isinstance(value, Boolean):
            return Currency.from_flag(value.value)
    return None


def _per(charge: UnitCharge) -> str:
    """The commodity quantity a price is for (``/kWh`` for 10^3 Wh of the import register)."""
    if charge.commodity_class == 0:
        return ""
    if charge.commodity_obis == _ACTIVE_IMPORT and charge.commodity_scale == 3:
        return "/kWh"
    return f"/10^{charge.commodity_scale} units of the commodity register"


#: Charges (IC 113) whose single charge_table entry has an empty index.
_SINGLE_CHARGES: Final = {
    "0-0:19.20.1.255": "debt recovery rate 1",
    "0-0:19.20.2.255": "debt recovery rate 2",
    "0-0:19.20.4.255": "standing charge",
}


def _entry(
    ref: str | None, entry: ChargeTableEntry, charge: UnitCharge, currency: Currency | None
) -> str:
    money = format_money(entry.charge, charge.price_scale, currency, _per(charge))
    label = entry.label()
    if not entry.index:
        obis = ref.split("/")[1] if ref else ""
        label = _SINGLE_CHARGES.get(obis, "charge")
    return f"{label}: {money}"


def _register_pairs(
    refs: Sequence[str | None], typed: Sequence[Any]
) -> dict[str, ScalerUnit]:
    """``class/OBIS`` of a register (IC 3/4) -> its scaler_unit read in this message."""
    out: dict[str, ScalerUnit] = {}
    for ref, value in zip(refs, typed, strict=True):
        if ref is None or not isinstance(value, ScalerUnit):
            continue
        head, _, index = ref.rpartition("/")
        if index == "a3" and head.split("/")[0] in ("3", "4"):
            out[head] = value
    return out


def _register(raw: int, head: str, scaler: ScalerUnit | None, currency: Currency | None) -> str:
    obis = head.split("/")[1]
    if obis in _PRICE_REGISTERS:
        return format_money(raw, None if scaler is None else scaler.scaler, currency, "/kWh")
    if scaler is None:
        return f"{raw} ({NO_SCALE})"
    return f"{scaler.scale(raw)} ({raw} x 10^{scaler.scaler} {scaler.unit_text})"


def _one(
    ref: str | None,
    value: Data,
    typed: Any,
    currency: Currency | None,
    scalers: Mapping[str, ScalerUnit],
) -> Any:
    if isinstance(typed, UnitCharge):
        return [_entry(ref, e, typed, currency) for e in typed.entries]
    if ref is None:
        return None
    if ref in CURRENCY_REFS and isinstance(value, Boolean):
        return Currency.from_flag(value.value).code
    scale = MONEY_SCALES.get(ref)
    if scale is not None:
        if isinstance(value, _MONEY_INTEGERS):
            return format_money(value.value, scale, currency)
        if isinstance(value, Array):
            amounts = [v.value for v in value.items if isinstance(v, _MONEY_INTEGERS)]
            if len(amounts) == len(value.items):
                return [format_money(a, scale, currency) for a in amounts]
        return None
    head, _, index = ref.rpartition("/")
    if index == "a2" and head.split("/")[0] in ("3", "4") and isinstance(value, _MONEY_INTEGERS):
        return _register(value.value, head, scalers.get(head), currency)
    return None


def displays(
    refs: Sequence[str | None], values: Sequence[Data], typed: Sequence[Any]
) -> list[Any]:
    """The readable rendering of each item of one payload (None: nothing to add).

    ``refs`` are the ``class/OBIS/aN|mN`` each item accesses or answers, ``values`` the items'
    Data and ``typed`` their typed values (a :class:`UnitCharge`, :class:`ScalerUnit`, ...).
    """
    currency = _currency(refs, values)
    scalers = _register_pairs(refs, typed)
    return [
        _one(ref, value, t, currency, scalers)
        for ref, value, t in zip(refs, values, typed, strict=True)
    ]
