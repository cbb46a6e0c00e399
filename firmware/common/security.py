"""Command acceptance: recipient, anti-replay counter, originator role, MAC and signature.

Layer: firmware. Architecture step 4; gbcs-reference.md 4.4 ("How a device verifies a
command"), 4.6 and 9.2 (anti-replay); the per-code rules come from
:mod:`~smemu.firmware.common.policy` (the use-case registry).

Theory of operation
-------------------
:func:`check_command` runs the checks in a fixed order and the first failure wins:

1. the message is a whole, unsegmented command (CRA 01);
2. the recipient is this device (or one it answers for);
3. the originator is a trusted remote party (a trust anchor gives its role);
4. anti-replay: for a replay-protected use case, the Originator Counter is strictly
   greater than the last one accepted from that remote party *in that role* (NVM key
   ``ctr/<role>/<eui hex>``); counters of non-replay-protected commands are neither checked
   nor recorded (gbcs-reference 9.2: "Protection Against Replay required" = No);
5. the role may originate this message code (access permissions);
6. the ACB's MAC (every remote-party command travels in a MAC header), except for the
   signed-only commands :data:`~smemu.firmware.common.policy.SIGNED_ONLY` names, whose
   remote-party signature must then verify;
7. the remote party's signature: required for critical (SME.C.C) commands, verified when
   present on "variant" ones.

HAN-only commands (message type ``SME.C.PPMID-GSME``: PCS01, PCS02) come from a device, not a
remote party. Their originator must be a *HAN party* of the recipient -- a device its device
log holds, with a key agreement key (:class:`HanParty`, given by the machine) -- of the
device type the message type names; the MAC is made with the key agreed between that device
and this one (gbcs-reference 4.2; the machine files the party's key in its key store) and no
signature is asked for. Their counters are checked only when the registry says replay
protection is required (it says "N/A": a top-up's UTRN carries its own counter).

Nothing here changes state. The caller records the accepted counter only after the whole
step succeeds, in the same NVM transaction as the command's effects.

What a rejection produces is one reviewed table, :data:`OUTCOMES`. The GBCS main body
(its section 7.2 device processing rules and the Alert Code table) is not in
``/work/shared``; the mapping follows the alert-code names (0x8F1E integrity, 0x8F30 no
authority, 0x8F3D trusted source authentication failure, 0x8F53 other authentication or
authorisation failure) and the principle that a device answers only a party it has
authenticated. [unverified against the normative text]
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from smemu.firmware.common.credentials import Credentials, Role
from smemu.firmware.common.policy import CommandPolicy, policy_of
from smemu.protocols.asn1.values import DeviceType
from smemu.protocols.gbcs import secure, use_cases
from smemu.protocols.gbcs.frame import (
    GbtBlockMessage,
    GeneralSigningMessage,
    Located,
    MacProtectedMessage,
)
from smemu.protocols.gbcs.types import Cra, Eui64

COUNTER_PREFIX: Final = "ctr/"

#: GBCS alert codes used for rejected commands (names as in the GBCS Alert Code table).
ALERT_INTEGRITY_FAILED: Final = 0x8F1E  #: integrity check of content or format failed
ALERT_NO_AUTHORITY: Final = 0x8F30  #: source does not have authority for command
ALERT_AUTHENTICATION_FAILED: Final = 0x8F3D  #: trusted source authentication failure
ALERT_OTHER_AUTH_FAILURE: Final = 0x8F53  #: failed authentication/authorisation, other


class Rejection(enum.Enum):
    """Why a command was not executed (recorded in the security log)."""

    NOT_A_COMMAND = "not a command"
    MALFORMED = "message does not decode as GBCS (truncated or corrupt)"
    SEGMENTED = "GBT segmented messages are not supported yet"
    WRONG_RECIPIENT = "recipient is not this device"
    UNKNOWN_ORIGINATOR = "originator is not a trusted remote party"
    UNKNOWN_CODE = "message code is not a remote-party command"
    REPLAY = "originator counter not greater than the last accepted"
    ROLE = "originator role may not send this command"
    NO_MAC = "command has no MAC"
    BAD_MAC = "MAC check failed"
    NO_SIGNATURE = "critical command is not signed"
    BAD_SIGNATURE = "signature check failed"


class AlertTo(enum.Enum):
    """Who a rejection alert is addressed to."""

    NOBODY = "nobody"  #: discarded silently (security log only)
    ORIGINATOR = "originator"  #: the authenticated sender of the command
    SUPPLIER = "supplier"  #: the device's supplier trust anchor (sender unauthenticated)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a device does with a rejected command besides discarding it."""

    log_code: int  #: alert code recorded with the security-log entry
    alert_to: AlertTo  #: who hears about it (as a Generic Critical Alert 0x1000)


#: Rejection -> security-log code and alert. Reviewed as one table (see module docstring).
OUTCOMES: Final[dict[Rejection, Outcome]] = {
    # Malformed or not-for-processing input: log, no answer (nothing authenticated).
    Rejection.NOT_A_COMMAND: Outcome(ALERT_INTEGRITY_FAILED, AlertTo.NOBODY),
    Rejection.MALFORMED: Outcome(ALERT_INTEGRITY_FAILED, AlertTo.NOBODY),
    Rejection.SEGMENTED: Outcome(ALERT_INTEGRITY_FAILED, AlertTo.NOBODY),
    # Not addressed to us: the device is not a party to the exchange; silently discarded.
    Rejection.WRONG_RECIPIENT: Outcome(ALERT_OTHER_AUTH_FAILURE, AlertTo.NOBODY),
    # Authentication failures: the claimed sender cannot be trusted, so it gets no answer;
    # the 0x8F3D entry goes to the security log (read by ECS35b). Whether GBCS also raises
    # 0x8F3D as an alert (to whom?) is unverified: switch to AlertTo.SUPPLIER here if so.
    Rejection.UNKNOWN_ORIGINATOR: Outcome(ALERT_AUTHENTICATION_FAILED, AlertTo.NOBODY),
    Rejection.NO_MAC: Outcome(ALERT_AUTHENTICATION_FAILED, AlertTo.NOBODY),
    Rejection.BAD_MAC: Outcome(ALERT_AUTHENTICATION_FAILED, AlertTo.NOBODY),
    Rejection.NO_SIGNATURE: Outcome(ALERT_AUTHENTICATION_FAILED, AlertTo.NOBODY),
    Rejection.BAD_SIGNATURE: Outcome(ALERT_AUTHENTICATION_FAILED, AlertTo.NOBODY),
    # A replay is discarded silently: answering would give the replayer a fresh response.
    Rejection.REPLAY: Outcome(ALERT_OTHER_AUTH_FAILURE, AlertTo.NOBODY),
    # Codes that are no command (alerts, HAN-only, undefined): integrity failure, logged.
    Rejection.UNKNOWN_CODE: Outcome(ALERT_INTEGRITY_FAILED, AlertTo.NOBODY),
    # Authenticated sender, wrong role: the RTDS generic critical alert 0x8F30 (reference
    # 5.5) goes back to that sender.
    Rejection.ROLE: Outcome(ALERT_NO_AUTHORITY, AlertTo.ORIGINATOR),
}

#: Back-compatible view: rejection -> alert code, for the rejections that are answered.
REJECTION_ALERTS: Final[dict[Rejection, int]] = {
    r: o.log_code for r, o in OUTCOMES.items() if o.alert_to is not AlertTo.NOBODY
}

#: NVM keys a rejection may write (the alert counter of the alert it sends); everything else
#: in NVM is unchanged by a rejected command.
REJECTION_WRITES: Final = frozenset({"alert/counter"})


@dataclass(frozen=True, slots=True)
class HanParty:
    """A device in this device's log that may send it HAN-only commands."""

    eui: Eui64
    device_type: DeviceType  #: as the join recorded it
    ka_point: bytes  #: its key agreement public key (X||Y), from the join's certificate


#: HAN-only message types -> the device type that originates them (Use Case volume).
HAN_ORIGINATORS: Final[dict[str, DeviceType]] = {"SME.C.PPMID-GSME": DeviceType.PPMID}
#: Counter namespace of HAN parties (they have no remote-party role).
HAN_COUNTER_SLUG: Final = "han"


@dataclass(frozen=True, slots=True)
class Accepted:
    """A command that passed every check."""

    command: GeneralSigningMessage
    #: the remote party's role; a HAN party has none: OTHER_USER stands in, and
    #: :attr:`han_party` names the device
    role: Role
    critical: bool  #: answer with a signed response (critical, or a signed variant)
    replay_protected: bool
    policy: CommandPolicy | None = None
    han_party: HanParty | None = None  #: the originating HAN device (HAN-only commands)

    @property
    def counter_write(self) -> tuple[str, int] | None:
        """The NVM counter update to commit with the command's effects, if any."""
        if not self.replay_protected:
            return None
        header = self.command.header
        if self.han_party is not None:
            return han_counter_key(header.originator), header.originator_counter
        return counter_key(header.originator, self.role), header.originator_counter


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: Rejection
    command: GeneralSigningMessage | None  #: the decoded command, when it got that far

    @property
    def outcome(self) -> Outcome:
        return OUTCOMES[self.reason]


def counter_key(originator: Eui64, role: Role | None = None) -> str:
    """NVM key of the last accepted counter from ``originator`` acting as ``role``."""
    if role is None:
        return COUNTER_PREFIX + originator.hex()
    return f"{COUNTER_PREFIX}{role.slug}/{originator.hex()}"


def han_counter_key(originator: Eui64) -> str:
    """NVM key of the last accepted counter from the HAN party ``originator``."""
    return f"{COUNTER_PREFIX}{HAN_COUNTER_SLUG}/{originator.hex()}"


def check_command(
    located: Located,
    own: Eui64,
    credentials: Credentials,
    last_counter: Callable[[Eui64], int] | None = None,
    *,
    recipients: frozenset[Eui64] | None = None,
    counters: Callable[[str], int] | None = None,
    han_parties: Mapping[Eui64, HanParty] | None = None,
) -> Accepted | Rejected:
    """Run the acceptance checks on a decoded command addressed to ``own``.

    :param recipients: EUIs this machine answers for (default: just ``own``).
    :param counters: NVM counter reader by key (:func:`counter_key`); 0 when absent.
    :param last_counter: older form of ``counters``, keyed by originator only.
    :param han_parties: the devices of this device's log that may send HAN-only commands
        (see the module docstring); none by default.
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
    han_use_case = use_cases.by_message_code(header.message_code)
    if han_use_case is not None and han_use_case.kind is use_cases.Kind.HAN:
        last = 0 if counters is None else counters(han_counter_key(header.originator))
        return _check_han(located, credentials, han_use_case, han_parties or {}, last)
    role = credentials.role_of(header.originator)
    if role is None:
        return Rejected(Rejection.UNKNOWN_ORIGINATOR, inner)
    policy = policy_of(header.message_code)
    if policy is None:
        return Rejected(Rejection.UNKNOWN_CODE, inner)
    if policy.replay_protected:
        if counters is not None:
            last = counters(counter_key(header.originator, role))
        elif last_counter is not None:
            last = last_counter(header.originator)
        else:
            last = 0
        if header.originator_counter <= last:
            return Rejected(Rejection.REPLAY, inner)
    if not policy.allows(role):
        return Rejected(Rejection.ROLE, inner)
    if not isinstance(message, MacProtectedMessage):
        # signed-only commands (policy.SIGNED_ONLY): the signature stands in for the MAC
        if not (inner.signature and policy.accepts_signed_only(role)):
            return Rejected(Rejection.NO_MAC, inner)
        if secure.verify_signature(located, credentials.keystore) is not secure.Verdict.VALID:
            return Rejected(Rejection.BAD_SIGNATURE, inner)
        return Accepted(inner, role, True, policy.replay_protected, policy)
    if secure.verify_mac(located, credentials.keystore, credentials.acbs) is not (
        secure.Verdict.VALID
    ):
        return Rejected(Rejection.BAD_MAC, inner)
    if policy.critical and not inner.signature:
        return Rejected(Rejection.NO_SIGNATURE, inner)
    if inner.signature:
        verdict = secure.verify_signature(located, credentials.keystore)
        if verdict is not secure.Verdict.VALID:
            return Rejected(Rejection.BAD_SIGNATURE, inner)
    critical = policy.critical or (policy.signature_optional and bool(inner.signature))
    return Accepted(inner, role, critical, policy.replay_protected, policy)


def _check_han(
    located: Located,
    credentials: Credentials,
    use_case: use_cases.UseCase,
    han_parties: Mapping[Eui64, HanParty],
    last_counter: int,
) -> Accepted | Rejected:
    """The checks of a HAN-only command (module docstring): originator, counter, MAC."""
    message = located.message
    inner = message.inner if isinstance(message, MacProtectedMessage) else message
    if isinstance(inner, GbtBlockMessage):  # pragma: no cover - excluded by the caller
        return Rejected(Rejection.SEGMENTED, None)
    header = inner.header
    party = han_parties.get(header.originator)
    originator_type = HAN_ORIGINATORS.get(use_case.message_type or "")
    if party is None or originator_type is None or party.device_type is not originator_type:
        # not a device this one has joined (or not one that sends this): unauthenticated,
        # so discarded silently like an unknown remote party
        return Rejected(Rejection.UNKNOWN_ORIGINATOR, inner)
    replay = bool(use_case.replay_protected)
    if replay and header.originator_counter <= last_counter:
        return Rejected(Rejection.REPLAY, inner)
    if not isinstance(message, MacProtectedMessage):
        return Rejected(Rejection.NO_MAC, inner)
    verdict = secure.verify_mac(located, credentials.keystore, ())
    if verdict is not secure.Verdict.VALID:
        return Rejected(Rejection.BAD_MAC, inner)
    return Accepted(inner, Role.OTHER_USER, False, replay, None, party)
