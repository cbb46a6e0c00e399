"""Command acceptance: recipient, anti-replay counter, originator role, signature and MAC.

Layer: firmware. Architecture step 4 and gbcs-reference.md 4.4 ("How a device verifies a
command"), 9.2 (anti-replay). The checks run in a fixed order and the first failure wins;
nothing here changes state -- the caller records the accepted counter only after the whole
step succeeds, in the same NVM transaction as the command's effects.

NVM keys: ``ctr/<originator hex>`` holds the last Originator Counter accepted from a remote
party for a replay-protected use case.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.policy import is_critical, is_replay_protected, role_allowed
from smemu.protocols.gbcs import secure
from smemu.protocols.gbcs.frame import (
    GbtBlockMessage,
    GeneralSigningMessage,
    Located,
    MacProtectedMessage,
)
from smemu.protocols.gbcs.types import Cra, Eui64

COUNTER_PREFIX: Final = "ctr/"


class Rejection(enum.Enum):
    """Why a command was not executed (recorded in the security log)."""

    NOT_A_COMMAND = "not a command"
    SEGMENTED = "GBT segmented messages are not supported yet"
    WRONG_RECIPIENT = "recipient is not this device"
    UNKNOWN_ORIGINATOR = "originator is not a trusted remote party"
    REPLAY = "originator counter not greater than the last accepted"
    ROLE = "originator role may not send this command"
    NO_MAC = "command has no MAC"
    BAD_MAC = "MAC check failed"
    NO_SIGNATURE = "critical command is not signed"
    BAD_SIGNATURE = "signature check failed"


#: Alert code a rejection is reported with when it warrants one (GBCS alert codes).
#: 0x8F30: "Source does not have authority for command". Failed MAC or signature and
#: replays are only logged: the device cannot trust the claimed originator enough to
#: answer it.
REJECTION_ALERTS: Final[dict[Rejection, int]] = {Rejection.ROLE: 0x8F30}


@dataclass(frozen=True, slots=True)
class Accepted:
    """A command that passed every check."""

    command: GeneralSigningMessage
    role: Role
    critical: bool
    replay_protected: bool

    @property
    def counter_write(self) -> tuple[str, int] | None:
        """The NVM counter update to commit with the command's effects, if any."""
        if not self.replay_protected:
            return None
        header = self.command.header
        return counter_key(header.originator), header.originator_counter


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Rejection
    command: GeneralSigningMessage | None  #: the decoded command, when it got that far


def counter_key(originator: Eui64) -> str:
    return COUNTER_PREFIX + originator.hex()


def check_command(
    located: Located,
    own: Eui64,
    credentials: Credentials,
    last_counter: Callable[[Eui64], int],
    *,
    recipients: frozenset[Eui64] | None = None,
) -> Accepted | Rejected:
    """Run the acceptance checks on a decoded command addressed to ``own``.

    :param recipients: EUIs this machine answers for (default: just ``own``).
    :param last_counter: the last accepted counter from an originator (0 if none).
    """
    message = located.message
    if isinstance(message, GbtBlockMessage):
        return Rejected(Rejection.SEGMENTED, None)
    inner = message.inner if isinstance(message, MacProtectedMessage) else message
    header = inner.header
    if header.cra is not Cra.COMMAND:
        return Rejected(Rejection.NOT_A_COMMAND, inner)
    if header.recipient not in (recipients or frozenset({own})):
        return Rejected(Rejection.WRONG_RECIPIENT, inner)
    role = credentials.role_of(header.originator)
    if role is None:
        return Rejected(Rejection.UNKNOWN_ORIGINATOR, inner)
    code = header.message_code
    protected = is_replay_protected(code)
    if protected and header.originator_counter <= last_counter(header.originator):
        return Rejected(Rejection.REPLAY, inner)
    if not role_allowed(code, role):
        return Rejected(Rejection.ROLE, inner)
    critical = is_critical(code)
    if critical and not inner.signature:
        return Rejected(Rejection.NO_SIGNATURE, inner)
    if inner.signature:
        verdict = secure.verify_signature(located, credentials.keystore)
        if verdict is not secure.Verdict.VALID:
            return Rejected(Rejection.BAD_SIGNATURE, inner)
    if not isinstance(message, MacProtectedMessage):
        return Rejected(Rejection.NO_MAC, inner)
    if secure.verify_mac(located, credentials.keystore, credentials.acbs) is not (
        secure.Verdict.VALID
    ):
        return Rejected(Rejection.BAD_MAC, inner)
    return Accepted(inner, role, critical, protected)
