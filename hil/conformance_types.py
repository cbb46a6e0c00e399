"""Which device type a reference command is for: the registry's target, else a vote.

Layer: hil. A command's message code names its target device type in the use-case registry;
use cases that several device types serve (security credentials, firmware, joins) are typed by
what the other vectors addressed to the same recipient are (:func:`recipient_types`), and a
device no use case singles out (a PPMID) by the HAN-only commands it sends itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra, Eui64
from smemu.protocols.gbcs.use_cases import by_message_code

#: registry device names -> emulated device types
_DEVICE_TYPES: Final[Mapping[str, DeviceType]] = {
    "ESME": DeviceType.ESME,
    "GSME": DeviceType.GSME,
    "CHF": DeviceType.CHF,
    "GPF": DeviceType.GPF,
    "PPMID": DeviceType.PPMID,
    "HCALCS": DeviceType.HCALC,
}
#: message type prefix of HAN-only commands, ``SME.C.<sender>-<recipient>`` (mapping table)
_HAN_MESSAGE_TYPE: Final = "SME.C."


@dataclass(frozen=True, slots=True)
class CommandInfo:
    """What the reference command is, from its grouping header."""

    message_code: int
    recipient: Eui64
    originator: Eui64
    counter: int
    srp_counter: int | None = None  #: supplementary remote party counter, when present


def command_info(data: bytes) -> CommandInfo:
    """Read message code and parties of a reference command.

    :raises DecodeError: the bytes are no GBCS command (or a GBT block).
    """
    located = frame.locate(data)
    inner = frame.signing_message(located.message)
    if inner is None:
        raise DecodeError("a GBT block cannot be replayed; reassemble it first", path="message")
    header = inner.header
    if header.cra is not Cra.COMMAND:
        raise DecodeError(f"expected a command, got a {header.cra.label}", path="header.cra")
    return CommandInfo(
        header.message_code,
        header.recipient,
        header.originator,
        header.originator_counter,
        header.other_information.supplementary_remote_party_counter,
    )


def registry_device_types(message_code: int) -> tuple[DeviceType, ...]:
    """The device types the use-case registry names as targets of ``message_code``."""
    use_case = by_message_code(message_code)
    if use_case is None:
        return ()
    return tuple(_DEVICE_TYPES[d.value] for d in use_case.devices if d.value in _DEVICE_TYPES)


def originator_device_type(message_code: int) -> DeviceType | None:
    """The device type that originates a HAN-only command (``SME.C.PPMID-GSME``: PPMID)."""
    use_case = by_message_code(message_code)
    message_type = None if use_case is None else use_case.message_type
    if message_type is None or not message_type.startswith(_HAN_MESSAGE_TYPE):
        return None
    sender, sep, _ = message_type[len(_HAN_MESSAGE_TYPE) :].partition("-")
    return _DEVICE_TYPES.get(sender) if sep else None


def recipient_types(infos: Iterable[CommandInfo]) -> dict[Eui64, DeviceType]:
    """EUI -> device type: what the recipient's commands (and its own commands) say it is.

    In order of strength of evidence:

    1. *a single target*: the majority of the commands to it with exactly one registry
       target, and of the device-originated commands whose message type names their sender
       (a PPMID sends PCS01 / PCS02, ``SME.C.PPMID-GSME``);
    2. *narrowed targets*: for a recipient with no such command, the types every one of its
       commands with registry targets allows (CS08 is for a PPMID or an HCALCS); exactly one
       left decides;
    3. *the type the set leaves untested*: several left, the one that no recipient typed by
       1 or 2 already is -- a reference set addresses a distinct device for each type its
       multi-type use cases exercise (CS08 answered by the PPMID of step 1 and by another
       device: the HCALCS). Still several (or none): no type.

    Use cases that serve every device type (security credentials, firmware, joins) name no
    targets and constrain nothing; a recipient of nothing else gets no type.
    """
    votes: dict[Eui64, Counter[DeviceType]] = defaultdict(Counter)
    allowed: dict[Eui64, set[DeviceType]] = {}
    for info in infos:
        types = registry_device_types(info.message_code)
        if len(types) == 1:
            votes[info.recipient][types[0]] += 1
        elif types:
            held = allowed.get(info.recipient)
            allowed[info.recipient] = set(types) if held is None else held & set(types)
        sender = originator_device_type(info.message_code)
        if sender is not None:
            votes[info.originator][sender] += 1
    found = {eui: count.most_common(1)[0][0] for eui, count in votes.items()}
    ambiguous: dict[Eui64, set[DeviceType]] = {}
    for eui, candidates in allowed.items():
        if eui in found:
            continue
        if len(candidates) == 1:
            found[eui] = next(iter(candidates))
        elif candidates:
            ambiguous[eui] = candidates
    typed = set(found.values())
    for eui, candidates in ambiguous.items():
        untested = candidates - typed
        if len(untested) == 1:
            found[eui] = untested.pop()
    return found


def device_type_for(info: CommandInfo, known: Mapping[Eui64, DeviceType]) -> DeviceType | None:
    """The device type a command is for: the registry's single target, else the recipient's."""
    types = registry_device_types(info.message_code)
    if len(types) == 1:
        return types[0]
    found = known.get(info.recipient)
    if found is not None and (not types or found in types):
        return found
    return None

