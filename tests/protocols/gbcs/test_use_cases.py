"""The use-case registry against its sources: the mapping table, the Use Case volume, the corpus."""

from __future__ import annotations

import html
import importlib
import json
import re
from pathlib import Path

import pytest

from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.message_codes import MESSAGE_CODES
from smemu.protocols.gbcs.use_cases import (
    USE_CASES,
    Criticality,
    Kind,
    PayloadFamily,
    Role,
    by_message_code,
    lookup,
)
from smemu.protocols.text import parse_message_text


@pytest.fixture(scope="module")
def mapping_table(shared_dir: Path) -> list[dict[str, str | None]]:
    path = shared_dir / "docs" / "spec" / "gbcs-mapping-table.json"
    if not path.is_file():
        pytest.skip(f"no mapping table at {path}")
    rows: list[dict[str, str | None]] = json.loads(path.read_text(encoding="utf-8"))
    return rows


@pytest.fixture(scope="module")
def volume_text(shared_dir: Path) -> str:
    path = shared_dir / "docs" / "spec" / "gbcs-use-cases.html"
    if not path.is_file():
        pytest.skip(f"no Use Case volume at {path}")
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8", errors="replace"))
    return re.sub(r"\s+", " ", html.unescape(text))


def test_every_mapping_table_use_case_has_an_entry(
    mapping_table: list[dict[str, str | None]],
) -> None:
    assert len(mapping_table) == 207
    missing = sorted({str(r["Code"]) for r in mapping_table} - set(USE_CASES))
    assert not missing


def test_message_types_agree_with_the_mapping_table(
    mapping_table: list[dict[str, str | None]],
) -> None:
    for row in mapping_table:
        use_case = USE_CASES[str(row["Code"])]
        if use_case.message_type is not None:
            assert use_case.message_type == row["Message Type"], use_case.id
        if row["Remote Party or HAN Message"] is not None:
            han = row["Remote Party or HAN Message"] == "HAN Only Message"
            assert (use_case.kind is Kind.HAN) == han, use_case.id


def test_volume_message_codes_are_in_the_registry(volume_text: str) -> None:
    # Each use case's detail section opens "Message Code 0x0027 ECS17b <name>".
    pairs = set(re.findall(r"Message Code (0x[0-9A-Fa-f]{4}) ([A-Z]+\d+[A-Za-z0-9]*)", volume_text))
    assert len(pairs) > 150
    for code, use_case_id in pairs:
        use_case = lookup(use_case_id)
        assert use_case is not None, use_case_id
        assert int(code, 16) in use_case.message_codes, (use_case_id, code)


def test_every_message_code_resolves_to_its_use_case() -> None:
    for code, info in MESSAGE_CODES.items():
        use_case = by_message_code(code)
        assert use_case is not None, hex(code)
        assert use_case.id == info.use_case
        assert code in use_case.message_codes
    assert by_message_code(0xFFFF) is None


def test_registry_fields_are_consistent() -> None:
    for use_case in USE_CASES.values():
        assert use_case.families or use_case.id.startswith("CS05"), use_case.id
        if use_case.kind is Kind.ALERT:
            assert all(p.command is None for p in use_case.payloads)
        security = use_case.security
        if security is not None:
            critical = use_case.criticality is Criticality.CRITICAL
            assert security.signed == critical
        if use_case.future_dated:
            assert use_case.kind is Kind.COMMAND
            assert use_case.update is not False


def test_known_entries() -> None:
    ecs17b = USE_CASES["ECS17b"]
    assert ecs17b.message_codes == (0x0027,)
    assert ecs17b.roles == (Role.SUPPLIER, Role.NETWORK_OPERATOR)
    assert ecs17b.encrypted and not ecs17b.future_dated
    ecs01a = USE_CASES["ECS01a"]
    assert ecs01a.future_dated and ecs01a.criticality is Criticality.CRITICAL
    assert ecs01a.security is not None and ecs01a.security.response_signed
    assert USE_CASES["GCA"].families == (PayloadFamily.DLMS, PayloadFamily.GBZ)
    assert USE_CASES["CS02b"].message_codes == tuple(range(0x0100, 0x010A))


def test_reference_message_matches_its_use_case(rtds_file: Path) -> None:
    (blob,) = parse_message_text(rtds_file.read_text())
    message = frame.decode_exact(blob)
    inner = frame.signing_message(message)
    if inner is None:
        pytest.skip("GBT block: no grouping header")
    header = inner.header
    use_case = by_message_code(header.message_code)
    assert use_case is not None, f"0x{header.message_code:04X}"
    assert frame.payload_family(inner.payload) in use_case.families
    security = use_case.security
    if security is None or inner.signature is None:  # unknown, or a pre-command
        return
    signed = bool(inner.signature)
    mac = isinstance(message, frame.MacProtectedMessage)
    if header.cra.label == "response":
        assert (signed, mac) == (security.response_signed, security.response_mac)
    else:
        assert (signed, mac) == (security.signed, security.mac)


def _resolve(name: str) -> object | None:
    module_name, _, attribute = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, attribute, None)


@pytest.mark.parametrize("family", list(PayloadFamily))
def test_payload_class_names_resolve(family: PayloadFamily) -> None:
    names = sorted(
        {
            name
            for use_case in USE_CASES.values()
            for payload in use_case.payloads
            if payload.family is family
            for name in (payload.command, payload.response, payload.alert)
            if name is not None
        }
    )
    assert names
    missing = [name for name in names if _resolve(name) is None]
    if missing and len(missing) == len(names):
        pytest.skip(f"{family} payload classes not provided yet: {', '.join(missing)}")
    if missing:
        pytest.skip(f"{family} payload classes still missing: {', '.join(missing)}")
