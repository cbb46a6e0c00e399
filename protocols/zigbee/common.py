"""Smart Energy field types shared by several clusters (units, currency, trailing digits).

Protocol layer (sans-IO); ZigBee SE 1.4 (07-5356) Metering "UnitofMeasure" and Price
"Currency" / "PriceTrailingDigit" definitions, as GBCS uses them (GBCS ref. §10.2).
"""

from __future__ import annotations

import enum
from typing import Annotated, Any, Final

from smemu.protocols.zigbee._fields import EnumField, UInt

__all__ = [
    "CURRENCY",
    "TRAILING_DIGIT",
    "UNIT_OF_MEASURE",
    "CurrencyField",
    "TrailingDigit",
    "UnitOfMeasure",
    "scaled",
]


class UnitOfMeasure(enum.IntEnum):
    """SE Metering UnitofMeasure (binary forms; +0x80 = the same unit in BCD)."""

    KWH = 0x00
    M3 = 0x01
    FT3 = 0x02
    CCF = 0x03
    US_GAL = 0x04
    IMP_GAL = 0x05
    BTU = 0x06
    LITRES = 0x07
    KPA_GAUGE = 0x08
    KPA_ABSOLUTE = 0x09
    MCF = 0x0A
    UNITLESS = 0x0B
    MJ = 0x0C
    KVAR = 0x0D


#: ISO 4217 numeric codes GBCS uses.
_CURRENCIES: Final = {826: "GBP", 978: "EUR"}


class CurrencyField(UInt):
    """ISO 4217 numeric currency (uint16), rendered with its letter code."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(2)

    def render(self, value: Any) -> Any:
        code = _CURRENCIES.get(int(value))
        return f"{code} ({value})" if code else int(value)


class TrailingDigit(UInt):
    """A bitmap8 whose upper nibble is the number of decimal places of related values."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(1)

    def render(self, value: Any) -> Any:
        return {"raw": f"0x{value:02X}", "decimal_places": value >> 4}


def scaled(value: int, trailing_digit: int) -> str:
    """``value`` with the decimal point the trailing-digit nibble puts in (e.g. 9600, 0x50 ->
    ``"0.09600"``)."""
    places = trailing_digit >> 4
    if places == 0:
        return str(value)
    sign = "-" if value < 0 else ""
    digits = str(abs(value)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


UNIT_OF_MEASURE = Annotated[int, EnumField(UnitOfMeasure)]
CURRENCY = Annotated[int, CurrencyField()]
TRAILING_DIGIT = Annotated[int, TrailingDigit()]
