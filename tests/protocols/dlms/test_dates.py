"""utc_instant: the instant twelve COSEM date-time octets name, when they name one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smemu.protocols.dlms.dates import DateTime, utc_instant


def _octets(*fields: int) -> bytes:
    """year, month, day, hour, minute, second -> the twelve octets (UTC, no weekday)."""
    year, month, day, hour, minute, second = fields
    return DateTime(year, month, day, 0xFF, hour, minute, second, 0, 0, 0).octets()


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_a_fully_specified_date_time_is_its_instant(at: datetime) -> None:
    raw = _octets(at.year, at.month, at.day, at.hour, at.minute, at.second)
    assert utc_instant(raw) == at.replace(microsecond=0, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [
        _octets(0xFFFF, 1, 1, 0, 0, 0),  # year not specified
        _octets(2024, 0xFF, 1, 0, 0, 0),  # month
        _octets(2024, 1, 0xFF, 0, 0, 0),  # day
        _octets(2024, 1, 1, 0xFF, 0, 0),  # hour
        _octets(2024, 1, 1, 0, 0, 0xFF),  # second
        _octets(2024, 2, 30, 0, 0, 0),  # no such day
        bytes(11),  # not twelve octets
    ],
)
def test_a_date_time_that_names_no_instant_gives_none(raw: bytes) -> None:
    assert utc_instant(raw) is None
