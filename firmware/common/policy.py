"""Per-use-case security policy: criticality, replay protection, allowed originator roles.

Layer: firmware. From the GBCS Use Case volume's cross-reference tables ("Message Type"
SME.C.C / SME.C.NC, "Protection Against Replay required"), as summarised in
gbcs-reference.md 9.2. The full registry (``smemu.protocols.gbcs.use_cases``) will carry
these per use case; until then the literal sets below are the source.
"""

from __future__ import annotations

from typing import Final

from smemu.firmware.common.credentials import Role
from smemu.protocols.gbcs.message_codes import lookup

#: SME.C.C (critical) command use cases: signed by the remote party, signed responses.
CRITICAL: Final = frozenset(
    {
        "ECS01a", "ECS01b", "ECS01c", "ECS01d", "ECS02", "ECS03", "ECS04a", "ECS04b", "ECS05",
        "ECS07", "ECS08", "ECS08a", "ECS09", "ECS28a", "ECS30", "ECS30a", "ECS38", "ECS42",
        "ECS43", "ECS44", "ECS46a", "ECS46d", "ECS47a", "ECS47e", "ECS48", "ECS70", "ECS81",
        "GCS01a", "GCS01b", "GCS02", "GCS03", "GCS04", "GCS05", "GCS06", "GCS23", "GCS24a",
        "GCS25", "GCS25a", "GCS28", "GCS32", "GCS39", "GCS40a", "GCS40b", "GCS40c", "GCS40d",
    }
)  # fmt: skip

#: Use cases whose Originator Counter must exceed the last one accepted from that party.
REPLAY_PROTECTED: Final = (CRITICAL - {"ECS46a"}) | frozenset(
    {
        "CS01a", "CS01b", "CCS01", "CCS02", "CCS03", "DBCH04", "DBCH05", "ECS14", "ECS28b",
        "ECS29a", "ECS29b", "ECS29c", "ECS29d", "ECS29e", "ECS29f", "ECS37", "ECS39a",
        "ECS39b", "ECS50", "ECS62", "GCS11", "GCS31", "GCS36", "GCS41",
    }
)  # fmt: skip

#: Roles that may originate any command in this emulator until the registry says more.
_COMMANDING_ROLES: Final = frozenset(
    {
        Role.SUPPLIER,
        Role.NETWORK_OPERATOR,
        Role.ACCESS_CONTROL_BROKER,
        Role.TRANSITIONAL_COS,
        Role.WAN_PROVIDER,
        Role.OTHER_USER,
    }
)
#: Roles allowed for the use cases that change supply or credit (supplier only, GBCS).
_SUPPLIER_ONLY_PREFIXES: Final = ("ECS0", "ECS42", "ECS43", "ECS44", "GCS0")


def use_case_of(code: int) -> str | None:
    """The use case id of a message code, or ``None`` when GBCS does not define it."""
    info = lookup(code)
    return None if info is None else info.use_case


def is_critical(code: int) -> bool:
    use_case = use_case_of(code)
    return use_case is not None and use_case in CRITICAL


def is_replay_protected(code: int) -> bool:
    use_case = use_case_of(code)
    return use_case is not None and use_case in REPLAY_PROTECTED


def role_allowed(code: int, role: Role) -> bool:
    """Whether a remote party of ``role`` may originate the command ``code``."""
    use_case = use_case_of(code)
    if use_case is None:
        return False
    if use_case.startswith(_SUPPLIER_ONLY_PREFIXES):
        return role is Role.SUPPLIER
    return role in _COMMANDING_ROLES
