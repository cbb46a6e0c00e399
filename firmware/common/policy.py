"""Per-message-code security policy, read from the GBCS use-case registry.

Layer: firmware. Source: :mod:`smemu.protocols.gbcs.use_cases` (the Use Case volume's
"Use Case cross references" -- Message Type, "Capable of Future Dated Invocation",
"Protection Against Replay required" -- and "Use Case access permissions"; GBCS section 17
explains how a device applies that table). One :class:`CommandPolicy` per message code,
built once and cached.

Use cases the volume leaves to the GBCS main body ("See GBCS": credentials CS02x,
join / unjoin CS03/CS04, firmware CS06, superseded codes) have ``None`` in the registry.
For them the rules below apply, and are marked as ours, not the volume's:

* roles ``None`` (or an empty tuple on a command): any trusted remote party except the
  root and issuing authority (their payloads -- e.g. the CS02b replacement mode -- carry
  their own authorisation rules);
* criticality ``None``: a "variant" command -- a signature is verified when present but not
  required;
* replay protection ``None``: required when the use case is critical.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Final

from smemu.firmware.common.credentials import Role
from smemu.protocols.gbcs import use_cases
from smemu.protocols.gbcs.use_cases import Criticality, Kind, UseCase

#: Registry role names -> the RemotePartyRole a trust anchor carries.
REGISTRY_ROLES: Final[dict[use_cases.Role, Role]] = {
    use_cases.Role.SUPPLIER: Role.SUPPLIER,
    use_cases.Role.NETWORK_OPERATOR: Role.NETWORK_OPERATOR,
    use_cases.Role.ACCESS_CONTROL_BROKER: Role.ACCESS_CONTROL_BROKER,
    use_cases.Role.LOAD_CONTROLLER: Role.LOAD_CONTROLLER,
}

#: Roles allowed where the registry does not say (see the module docstring).
UNSTATED_ROLES: Final = frozenset(Role) - {Role.ROOT, Role.ISSUING_AUTHORITY}


#: Commands a remote party may send signed with its own DS key and *not* MACed by the ACB
#: (a bare general-signing message: gbcs-reference.md 3.3, 3.5 "DF + signature (no MAC)").
#: GBCS lets the security credential use cases run without the ACB's credentials, since they
#: are what may need replacing or checking: CS02a / CS02f (0x0008, 0x011B: Provide Security
#: Credential Details) from any trusted party, and CS02b (0x0100-0x0109) from the Recovery
#: party, which replaces anchors when the others are compromised. Everything else needs the
#: MAC. [the main body's exact rule is not in /work/shared; the set is what 3.5 lists]
SIGNED_ONLY: Final[dict[int, frozenset[Role]]] = {
    0x0008: UNSTATED_ROLES,
    0x011B: UNSTATED_ROLES,
    **{code: frozenset({Role.RECOVERY}) for code in range(0x0100, 0x010A)},
}


@dataclass(frozen=True, slots=True)
class CommandPolicy:
    """What a device requires of one command message code."""

    message_code: int
    use_case: str
    roles: frozenset[Role]  #: remote-party roles that may originate it
    critical: bool  #: signature by the remote party required (SME.C.C)
    signature_optional: bool  #: criticality unknown: verify a signature only if present
    replay_protected: bool  #: Originator Counter must exceed the last accepted
    future_dated: bool  #: "Capable of Future Dated Invocation"
    #: roles whose command may come signed but without the ACB's MAC (:data:`SIGNED_ONLY`)
    signed_only: frozenset[Role] = frozenset()

    def allows(self, role: Role) -> bool:
        return role in self.roles

    def accepts_signed_only(self, role: Role) -> bool:
        """Whether ``role`` may send this command with a signature and no MAC."""
        return role in self.signed_only


def _roles(use_case: UseCase) -> frozenset[Role]:
    if not use_case.roles:
        return UNSTATED_ROLES
    return frozenset(REGISTRY_ROLES[r] for r in use_case.roles)


@cache
def policy_of(code: int) -> CommandPolicy | None:
    """The policy for command message ``code``; ``None`` if it is no remote-party command.

    Alerts, HAN-only messages and codes GBCS does not define have no policy: a device
    never accepts them as commands from a remote party.
    """
    use_case = use_cases.by_message_code(code)
    if use_case is None or use_case.kind is not Kind.COMMAND:
        return None
    critical = use_case.criticality is Criticality.CRITICAL or (
        use_case.criticality is None and (use_case.message_type or "").startswith("SME.C.C")
    )
    unknown = use_case.criticality is None and not critical
    replay = use_case.replay_protected
    return CommandPolicy(
        code,
        use_case.id,
        _roles(use_case),
        critical,
        unknown,
        critical if replay is None else replay,
        bool(use_case.future_dated),
        SIGNED_ONLY.get(code, frozenset()),
    )


def use_case_of(code: int) -> str | None:
    """The use case id of a message code, or ``None`` when GBCS does not define it."""
    use_case = use_cases.by_message_code(code)
    return None if use_case is None else use_case.id


def is_critical(code: int) -> bool:
    policy = policy_of(code)
    return policy is not None and policy.critical


def is_replay_protected(code: int) -> bool:
    policy = policy_of(code)
    return policy is not None and policy.replay_protected


def role_allowed(code: int, role: Role) -> bool:
    """Whether a remote party of ``role`` may originate the command ``code``."""
    policy = policy_of(code)
    return policy is not None and policy.allows(role)
