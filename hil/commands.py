"""Command payload builders: use case + typed parameters -> the payload of a GBCS command.

Layer: hil. One literal table (:data:`BUILDERS`, style rule C15) maps a use case id to the
function that writes its payload; each row cites the GBCS Use Case volume's "DLMS COSEM
specific content" (class, OBIS, attribute or method, data type) it follows. DLMS payloads are
``access-request`` APDUs whose long-invoke-id carries ``0x20`` and the low 24 bits of the
command's originator counter (gbcs-reference.md 7.2). A use case without a builder raises
:class:`UseCaseNotImplemented` naming it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from smemu.errors import ConfigError, SecurityError, SmemuError
from smemu.hil.commands_gas_tariff import gcs01a_payload, gcs01b_payload, tariff_param
from smemu.hil.commands_han import cs08_payload, gcs38_payload
from smemu.hil.commands_tariff import TariffSettings, ecs01a_items, ecs24_items, parse_switches
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.apdu import (
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestMessage,
    AccessRequestSet,
    AccessRequestSpecification,
    parse_obis,
)
from smemu.protocols.dlms.axdr import (
    Array,
    Data,
    Enum,
    Integer,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
)
from smemu.protocols.dlms.protection import ProtectionParameters
from smemu.protocols.gbcs.message_codes import MESSAGE_CODES
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keystore import KeyStore
from smemu.protocols.utrn import UTRN_LENGTH, ValueClass, encode_utrn


class UseCaseNotImplemented(NotImplementedError, SmemuError):  # noqa: N818 - says what it is
    """Raised by :func:`build_payload` for a use case that has no builder yet.

    The message names the use case and its message code, so a caller (``smemu send``, the
    conformance runner) can report exactly what is missing.
    """


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What a builder may need besides its parameters: the command's identities and counter."""

    counter: int  #: the command's originator counter
    originator: Eui64  #: the remote party sending the command
    recipient: Eui64  #: the device it is for
    #: the remote party's keys, for builders that derive something from them (a UTRN)
    keystore: KeyStore | None = None


#: Parsed parameter values: ints, strings, bytes, DLMS date-time octets or typed values.
Params = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One typed parameter of a use case (``--param name=value`` on the command line)."""

    name: str
    #: ``datetime`` (ISO 8601, UTC), ``int``, ``ints`` (comma-separated), ``switches``
    #: (``HH:MM=rate,...``), ``utrn`` (20 digits) or ``typed`` (API only: a Python value)
    kind: str
    help: str
    required: bool = True


@dataclass(frozen=True, slots=True)
class UseCaseBuilder:
    """How to build the payload of one use case."""

    use_case: str  #: use case id in spec spelling (``ECS17b``)
    #: message type SME.C.C (signed by the remote party's DS key) rather than SME.C.NC
    critical: bool
    build: Callable[[BuildContext, Params], bytes]
    params: tuple[ParamSpec, ...] = ()
    summary: str = ""
    #: a top-up: the originator counter's low 32 bits are zero (GBCS 14.3, reference 6.1)
    utrn: bool = False


# ----------------------------------------------------------------------------- helpers


def invoke_id(counter: int) -> int:
    """DLMS long-invoke-id-and-priority of a command: ``0x20``, the counter's low 24 bits."""
    return 0x20000000 | (counter & 0xFFFFFF)


def _request(ctx: BuildContext, items: list[tuple[AccessRequestSpecification, Data]]) -> bytes:
    message = AccessRequestMessage(
        invoke_id(ctx.counter),
        b"",
        tuple(spec for spec, _ in items),
        tuple(data for _, data in items),
    )
    return apdu.encode(message)


def _get(class_id: int, obis: str, attribute: int) -> tuple[AccessRequestSpecification, Data]:
    return AccessRequestGet(class_id, parse_obis(obis), attribute), NullData()


def _set(
    class_id: int, obis: str, attribute: int, value: Data
) -> tuple[AccessRequestSpecification, Data]:
    return AccessRequestSet(class_id, parse_obis(obis), attribute), value


def _action(
    class_id: int, obis: str, method: int, parameter: Data
) -> tuple[AccessRequestSpecification, Data]:
    return AccessRequestAction(class_id, parse_obis(obis), method), parameter


def protection_parameters(ctx: BuildContext) -> ProtectionParameters:
    """The get_protection_parameters entry of a sensitive read (GBCS ref. 4.5, 7.6).

    Authentication and encryption (2); transaction id ``04`` and the command's counter; the
    remote party as originator and the device as recipient; agreed key C(0e,2s) ECC CDH.
    """
    key_info = Structure((Enum(2), Structure((OctetString(b"\x02"), OctetString(b"")))))
    return ProtectionParameters(
        2,
        b"\x04" + ctx.counter.to_bytes(8, "big"),
        bytes(ctx.originator),
        bytes(ctx.recipient),
        b"",
        key_info,
    )


def _protected_read(collection: str, objects: list[tuple[int, str, int]]) -> Callable[..., bytes]:
    """A Data Protection (class 30) get_protected_attributes read of ``objects`` (method 1)."""

    def build(ctx: BuildContext, params: Params) -> bytes:
        object_list = Array(
            tuple(
                Structure(
                    (
                        LongUnsigned(class_id),
                        OctetString(parse_obis(obis)),
                        Integer(attribute),
                        LongUnsigned(0),  # data index: the whole attribute
                        Structure((Enum(0), NullData())),  # no restriction
                    )
                )
                for class_id, obis, attribute in objects
            )
        )
        parameter = Structure((object_list, Array((protection_parameters(ctx).to_data(),))))
        return _request(ctx, [_action(30, collection, 1, parameter)])

    return build


def _gets(*objects: tuple[int, str, int]) -> Callable[..., bytes]:
    def build(ctx: BuildContext, params: Params) -> bytes:
        return _request(ctx, [_get(*o) for o in objects])

    return build


def _script(number: int) -> Callable[..., bytes]:
    """Execute a script of the supply-control script table 0-0:10.0.106.255 (class 9)."""

    def build(ctx: BuildContext, params: Params) -> bytes:
        return _request(ctx, [_action(9, "0-0:10.0.106.255", 1, LongUnsigned(number))])

    return build


#: preset_time of ECS70: "not specified" in every field (Use Case volume, ECS70 row 682).
_PRESET_TIME_UNSPECIFIED: Final = bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")
_DATE_TIME: Final = struct.Struct(">HBBBBBBBhB")


def dlms_date_time(moment: datetime) -> bytes:
    """Twelve-octet DLMS date-time of a UTC instant (deviation and status not specified)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return _DATE_TIME.pack(
        utc.year,
        utc.month,
        utc.day,
        0xFF,  # day of week: not specified
        utc.hour,
        utc.minute,
        utc.second,
        0,
        -0x8000,
        0xFF,
    )


def _ecs70(ctx: BuildContext, params: Params) -> bytes:
    """ECS70 Set Clock on ESME: clock base, preset window, adjust, then read time and status."""
    start = params["start"]
    end = params["end"]
    if not isinstance(start, bytes) or not isinstance(end, bytes):
        raise ConfigError("ECS70: start and end must be date-times")
    clock = "0-0:1.0.0.255"
    window = Structure(
        (OctetString(_PRESET_TIME_UNSPECIFIED), OctetString(start), OctetString(end))
    )
    return _request(
        ctx,
        [
            _set(8, clock, 9, Enum(5)),  # row 678: clock_base
            _action(8, clock, 5, window),  # rows 682-685: preset_adjusting_time
            _action(8, clock, 4, Integer(0)),  # row 681: adjust_to_preset_time
            _get(8, clock, 2),  # row 675: time
            _get(8, clock, 4),  # row 676: status
        ],
    )


#: ECS01a's tariff when no parameter says otherwise: rate 1 at night, rate 2 by day.
DEFAULT_SWITCHES: Final = "00:00=1,07:00=2,23:00=1"
DEFAULT_PRICES: Final = (15_000, 30_000)  #: 10^-5 currency units per kWh: 15p, 30p


def _ecs01a(ctx: BuildContext, params: Params) -> bytes:
    """ECS01a Set Tariff and Price: the passive tariff objects, activated "now"."""
    tariff = params.get("tariff")
    if tariff is None:
        switches = params.get("switches", parse_switches(DEFAULT_SWITCHES))
        prices = params.get("prices", DEFAULT_PRICES)
        standing = params.get("standing", 0)
        if not isinstance(switches, tuple) or not isinstance(prices, tuple):
            raise ConfigError("ECS01a: switches and prices must be sequences")
        if not isinstance(standing, int):
            raise ConfigError("ECS01a: standing must be an integer")
        tariff = TariffSettings.simple(switches, prices, standing=standing)
    if not isinstance(tariff, TariffSettings):
        raise ConfigError("ECS01a: tariff must be a TariffSettings")
    return _request(ctx, list(ecs01a_items(tariff)))


_TOU_DEFAULT: Final = (parse_switches(DEFAULT_SWITCHES), DEFAULT_PRICES)


def _gcs01a(ctx: BuildContext, params: Params) -> bytes:
    """GCS01a Set Tariff and Price on GSME: the Publish commands of the tariff (GBZ)."""
    return gcs01a_payload(tariff_param("GCS01a", params, _TOU_DEFAULT))


def _gcs01b(ctx: BuildContext, params: Params) -> bytes:
    """GCS01b Set Price on GSME: Publish Tariff Information and Publish Price Matrix."""
    return gcs01b_payload(tariff_param("GCS01b", params, _TOU_DEFAULT))


def _fixed(payload: Callable[[], bytes]) -> Callable[[BuildContext, Params], bytes]:
    """A builder whose payload does not depend on the command (no invoke id inside)."""

    def build(ctx: BuildContext, params: Params) -> bytes:
        return payload()

    return build


def _ecs24(ctx: BuildContext, params: Params) -> bytes:
    return _request(ctx, list(ecs24_items()))


_TOKEN_GATEWAY: Final = "0-0:19.40.0.255"


def _cs01a(ctx: BuildContext, params: Params) -> bytes:
    """CS01a Top Up Device (DLMS): Token Gateway ``enter`` with the UTRN's 20 ASCII digits.

    The UTRN is given (``utrn``) or made here for ``value`` pennies with the supplier's
    prepayment key and the command's counter (reference 6.1).
    """
    utrn = params.get("utrn")
    if utrn is None:
        value = params.get("value")
        if not isinstance(value, int):
            raise ConfigError("CS01a needs --param value=PENNIES (or utrn=20 digits)")
        secret = None
        if ctx.keystore is not None:
            secret = ctx.keystore.prepayment_secret(bytes(ctx.originator), bytes(ctx.recipient))
        if secret is None:
            raise SecurityError(
                f"no prepayment key of {ctx.originator} for {ctx.recipient}: cannot make a UTRN"
            )
        utrn = encode_utrn(
            prepayment_secret=secret,
            originator=bytes(ctx.originator),
            target=bytes(ctx.recipient),
            counter=ctx.counter,
            value=value,
            value_class=ValueClass.PENNIES,
        )
    if not isinstance(utrn, str) or len(utrn) != UTRN_LENGTH or not utrn.isdigit():
        raise ConfigError("CS01a: a UTRN is 20 decimal digits")
    return _request(ctx, [_action(115, _TOKEN_GATEWAY, 1, OctetString(utrn.encode("ascii")))])


#: script table of the auxiliary controllers' commanded state (ECS47a row 1829)
_AUX_SCRIPTS: Final = "0-0:10.0.103.255"


def aux_state_selector(controller: int, state: int, kind: int = 1) -> int:
    """controllerNumberAndCommandedState: the controller's kind and number, then its state.

    ``kind << 12 | controller << 8 | state`` [observed in the reference ECS47a commands:
    0x1564 switches load controller 5 on, 0x1100 load controller 1 off, 0x2332 is kind 2
    (an APC) controller 3; GBCS 7.3.6 itself was not available].
    """
    return (kind << 12) | (controller << 8) | state


def _ecs47a(ctx: BuildContext, params: Params) -> bytes:
    """ECS47a Set Auxiliary Controller [n] State: setting period, then the commanded state."""
    controller, state = params.get("controller", 1), params.get("state", 100)
    kind = params.get("kind", 1)
    if not isinstance(kind, int) or not 1 <= kind <= 15:
        raise ConfigError("ECS47a: kind must be 1..15 (1 load switch, 2 APC)")
    start, end = params.get("start"), params.get("end")
    if not isinstance(controller, int) or not 1 <= controller <= 5:
        raise ConfigError("ECS47a: controller must be 1..5")
    if not isinstance(state, int) or not 0 <= state <= 100:
        raise ConfigError("ECS47a: state must be 0..100 (0 off, 100 on)")
    if not isinstance(start, bytes) or not isinstance(end, bytes):
        raise ConfigError("ECS47a: start and end must be date-times")
    group = 116 + controller
    return _request(
        ctx,
        [
            _set(1, f"0-0:94.44.{group}.1", 2, OctetString(start)),  # rows 50-54
            _set(1, f"0-0:94.44.{group}.2", 2, OctetString(end)),  # rows 60-64
            _action(9, _AUX_SCRIPTS, 1, LongUnsigned(aux_state_selector(controller, state, kind))),
        ],
    )


_WINDOW: Final = (
    ParamSpec("start", "datetime", "start of the validity interval (UTC, ISO 8601)"),
    ParamSpec("end", "datetime", "end of the validity interval (UTC, ISO 8601)"),
)

_WINDOW_LATE: Final = (
    ParamSpec("start", "datetime", "start of the setting period (UTC, ISO 8601)"),
    ParamSpec("end", "datetime", "end of the setting period, at most 24 h later"),
)

_GAS_TARIFF: Final = (
    ParamSpec("switches", "switches", "HH:MM=tier,... every day (GCS01a)", required=False),
    ParamSpec("prices", "ints", "TOU prices, 10^-5 GBP per kWh: p1,p2,...", required=False),
    ParamSpec("standing", "int", "standing charge, 10^-5 GBP per day", required=False),
    ParamSpec("tariff", "typed", "a whole GasTariff (API)", required=False),
)

#: Use case id -> builder. Each row cites the Use Case volume's DLMS mapping rows.
BUILDERS: Final[dict[str, UseCaseBuilder]] = {
    b.use_case: b
    for b in (
        UseCaseBuilder(
            "CS01a",
            False,
            _cs01a,
            params=(
                ParamSpec("value", "int", "top-up value in pennies (0..8191)", required=False),
                ParamSpec("utrn", "utrn", "a ready-made 20-digit UTRN", required=False),
            ),
            summary="Token Gateway enter (115/0-0:19.40.0.255 method 1) with a UTRN",
            utrn=True,
        ),
        UseCaseBuilder(
            "CS08",
            False,
            _fixed(cs08_payload),
            summary="PPMID / HCALCS firmware version: ASN.1 NULL (gbcs-reference.md 7.8)",
        ),
        UseCaseBuilder(
            "ECS01a",
            True,
            _ecs01a,
            params=(
                ParamSpec("switches", "switches", "HH:MM=rate,... every day", required=False),
                ParamSpec("prices", "ints", "TOU prices, 10^-5 per kWh: p1,p2,...", required=False),
                ParamSpec("standing", "int", "standing charge, 10^-5 per day", required=False),
                ParamSpec("tariff", "typed", "a whole TariffSettings (API)", required=False),
            ),
            summary="passive tariff switching table, prices, thresholds; activated now (10.1)",
        ),
        UseCaseBuilder(
            "ECS17a",
            False,
            _gets(
                (3, "1-0:2.8.0.255", 2),
                (3, "1-0:2.8.0.255", 3),
                (3, "1-0:4.8.0.255", 2),
                (3, "1-0:4.8.0.255", 3),
            ),
            summary="export active and reactive registers (rows 100, 362, 233, 103, 365, 236)",
        ),
        UseCaseBuilder(
            "ECS17b",
            False,
            _protected_read("0-0:43.2.8.255", [(1, "0-0:94.44.34.10", 2)]),
            summary="ImportRegisterCollection via get_protected_attributes (rows 24, 21...37)",
        ),
        UseCaseBuilder(
            "ECS17d",
            False,
            _protected_read("0-0:43.2.9.255", [(1, "0-0:94.44.34.1", 2)]),
            summary="TariffTOURegisterCollection: Wh per TOU rate (rows 1813, 28, 38)",
        ),
        UseCaseBuilder(
            "ECS17e",
            False,
            _protected_read("0-0:43.2.10.255", [(1, "0-0:94.44.34.2", 2)]),
            summary="TariffBlockTOURegisterCollection: the 64 block registers (row 29)",
        ),
        UseCaseBuilder(
            "ECS19",
            False,
            _protected_read("0-0:43.2.1.255", [(1, "0-0:94.44.34.30", 2)]),
            summary="PrepaymentBalanceCollection via get_protected_attributes (rows 1807...)",
        ),
        UseCaseBuilder(
            "ECS24", False, _ecs24, summary="the active tariff: 17 reads (reference 10.1)"
        ),
        UseCaseBuilder("ECS42", True, _script(51), summary="supply enable: script 51 (row 693)"),
        UseCaseBuilder("ECS43", True, _script(52), summary="supply disable: script 52 (row 944)"),
        UseCaseBuilder("ECS44", True, _script(54), summary="supply arm: script 54"),
        UseCaseBuilder(
            "ECS45",
            False,
            _gets((70, "0-0:96.3.10.255", 3)),
            summary="load switch control_state (row 943)",
        ),
        UseCaseBuilder(
            "ECS47a",
            True,
            _ecs47a,
            params=(
                ParamSpec("controller", "int", "auxiliary controller 1..5", required=False),
                ParamSpec("state", "int", "commanded state 0 (off) .. 100 (on)", required=False),
                ParamSpec("kind", "int", "1 load switch (default), 2 APC", required=False),
                *_WINDOW_LATE,
            ),
            summary="setting period (1/0-0:94.44.117-121.1-2/2) and commanded state (row 1829)",
        ),
        UseCaseBuilder(
            "ECS52",
            False,
            _gets((1, "0-0:0.2.1.255", 2)),
            summary="firmware version octet-string(4) (row 85)",
        ),
        UseCaseBuilder(
            "ECS70",
            True,
            _ecs70,
            params=_WINDOW,
            summary="set the clock inside a validity window, then read time and status",
        ),
        UseCaseBuilder(
            "ECS82",
            False,
            _gets((112, "0-0:19.10.0.255", 2)),
            summary="meter balance current_credit_amount (row 1022)",
        ),
        UseCaseBuilder(
            "GCS01a",
            True,
            _gcs01a,
            params=_GAS_TARIFF,
            summary="Publish Calendar / Day / Week / Seasons / Special Days, Tariff Information, "
            "Block Thresholds, Price Matrix (GBZ)",
        ),
        UseCaseBuilder(
            "GCS01b",
            True,
            _gcs01b,
            params=_GAS_TARIFF,
            summary="Publish Tariff Information and Publish Price Matrix (GBZ)",
        ),
        UseCaseBuilder(
            "GCS38",
            False,
            _fixed(gcs38_payload),
            summary="GSME firmware version: GBZ Read Attributes of Metering 0x0206 (row 85)",
        ),
    )
}


def message_code_of(use_case: str) -> int:
    """The message code of ``use_case`` (spec spelling, case-insensitive).

    :raises ConfigError: no such use case in the message-code table.
    """
    wanted = use_case.lower()
    for code, info in MESSAGE_CODES.items():
        if info.use_case.lower() == wanted:
            return code
    raise ConfigError(f"unknown use case {use_case!r} (expected an id such as ECS17b or ECS52)")


def builder_for(use_case: str) -> UseCaseBuilder:
    """The builder of ``use_case``.

    :raises ConfigError: the use case is unknown.
    :raises UseCaseNotImplemented: it is known but has no builder yet.
    """
    code = message_code_of(use_case)
    for name, builder in BUILDERS.items():
        if name.lower() == use_case.lower():
            return builder
    canonical = MESSAGE_CODES[code].use_case
    raise UseCaseNotImplemented(
        f"use case {canonical} (message code 0x{code:04X}) has no command builder yet; "
        f"implemented: {', '.join(sorted(BUILDERS))}"
    )


def parse_params(builder: UseCaseBuilder, raw: Mapping[str, object]) -> dict[str, object]:
    """Check and convert ``name=value`` strings against the builder's parameters.

    A value that is not a string is taken as already typed (callers of the API).

    :raises ConfigError: an unknown or missing parameter, or a value of the wrong form; the
        message names the parameter and what was expected.
    """
    known = {p.name: p for p in builder.params}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        expected = ", ".join(known) or "none"
        raise ConfigError(
            f"{builder.use_case} takes no parameter {unknown[0]!r} (parameters: {expected})"
        )
    out: dict[str, object] = {}
    for spec in builder.params:
        text = raw.get(spec.name)
        if text is None:
            if spec.required:
                raise ConfigError(
                    f"{builder.use_case} needs --param {spec.name}=... ({spec.kind}: {spec.help})"
                )
            continue
        out[spec.name] = (
            _convert(builder.use_case, spec, text) if isinstance(text, str) else text
        )
    return out


def _convert(use_case: str, spec: ParamSpec, text: str) -> object:
    try:
        if spec.kind == "datetime":
            return dlms_date_time(datetime.fromisoformat(text))
        if spec.kind == "int":
            return int(text, 0)
        if spec.kind == "ints":
            return tuple(int(part, 0) for part in text.split(","))
        if spec.kind == "switches":
            return parse_switches(text)
        if spec.kind == "utrn":
            if len(text) != UTRN_LENGTH or not text.isdigit():
                raise ValueError(text)
            return text
    except ValueError:
        raise ConfigError(
            f"{use_case} parameter {spec.name}: expected {spec.kind}, got {text!r}"
        ) from None
    raise ConfigError(f"{use_case} parameter {spec.name}: unknown kind {spec.kind}")


def build_payload(use_case: str, ctx: BuildContext, raw_params: Mapping[str, object]) -> bytes:
    """Build the payload of ``use_case`` for ``ctx`` from ``name=value`` parameters."""
    builder = builder_for(use_case)
    return builder.build(ctx, parse_params(builder, raw_params))
