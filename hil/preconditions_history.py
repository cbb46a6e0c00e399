"""Preconditions of log reads: the history a device records only as things happen to it.

Layer: hil. Some reference reads answer entries of a log that a meter fills by itself when
something happens to it, not from configuration: its security log holds the commands it had to
reject (CS10b), its Network Data Log the samples of a sampling a Start Sampling began (GCS18
after GCS31), its payment-based debt repayment log the debt a top-up repaid (GCS15d after
GCS04 and CS01b). A fresh device under test holds none of that, so it answers NOT_FOUND where
the reference meter answered entries. A lab makes such history happen before the read, as an
operator would, and so does the runner:

* :data:`POPULATED` -- the one reviewed table from a log read to the condition its reference
  answer evidences when it publishes entries (a NOT_FOUND or failure answer evidences none:
  the same command must then find the log empty, or fail, by the device's own logic);
* :func:`derive_history` -- reads the reference response and names that condition;
* :data:`REPLAYED_FIRST` -- the set's own use cases whose commands start the history (the
  runner replays the first successful one of the set, re-keyed, as for
  :data:`~smemu.hil.preconditions_state.CONFIGURED_BY`);
* :func:`elapsed_for` -- the device time a replayed command needs to bear fruit (a sampling's
  span, from the Start Sampling's own fields), as an ELAPSED precondition the device under
  test enters (an emulated device's clock moves on; a rig's lab waits).

What the device then records -- which entries, their times and values -- is its own: the
comparison of the read treats them as the device's history (:mod:`smemu.hil.compare_rules`)
while the log, the command and the answer's shape are still compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from smemu.errors import DecodeError
from smemu.hil.preconditions import Condition, Precondition
from smemu.protocols.gbcs import frame
from smemu.protocols.zigbee import gbz, registry
from smemu.protocols.zigbee.zcl import ZclHeader

#: Message codes of the use cases named below.
CS10B: Final = 0x00A1
GCS18: Final = 0x0079
GCS15D: Final = 0x00C4
GCS31: Final = 0x0080
GCS04: Final = 0x006E
#: ZCL frame control of a cluster-specific command from server to client (a publish)
_CLUSTER_SPECIFIC: Final = 0x01
_SERVER_TO_CLIENT: Final = 0x08
_METERING: Final = 0x0702
_START_SAMPLING: Final = 0x07


@dataclass(frozen=True, slots=True)
class Populated:
    """One row of :data:`POPULATED`: a log read whose answer ``command_id`` on ``cluster_id``
    (the log's publish command) shows that the log held entries."""

    message_code: int
    cluster_id: int
    command_id: int
    condition: Condition
    reason: str


#: Log read -> the condition its entries evidence. Review like a spec change.
POPULATED: Final[tuple[Populated, ...]] = (
    Populated(
        CS10B,
        0x0709,
        0x01,
        Condition.SECURITY_LOGGED,
        "CS10b Publish Event Log of the security log: a GSME records a security event when "
        "it rejects a command (GBCS 5: a command failing its checks is discarded and "
        "logged); the lab sends one the device must reject (a stale counter)",
    ),
    Populated(
        GCS18,
        0x0702,
        0x07,
        Condition.SAMPLED,
        "GCS18 Get Sampled Data Response: the Network Data Log holds samples only once a "
        "GCS31 Start Sampling began it and its intervals have ended; the lab starts it with "
        "the set's GCS31 and lets the sampling run",
    ),
    Populated(
        GCS15D,
        0x0705,
        0x06,
        Condition.TOPPED_UP,
        "GCS15d Publish Debt Log: the payment-based debt repayment log holds an entry per "
        "top-up that collected payment-based debt; the lab configures the debt with the "
        "set's GCS04 and applies a top-up (CS01b)",
    ),
)

#: Condition -> the set's use cases replayed (the first successful command of each) before
#: the runner realises the rest of it.
REPLAYED_FIRST: Final[Mapping[Condition, tuple[int, ...]]] = {
    Condition.SAMPLED: (GCS31,),
    Condition.TOPPED_UP: (GCS04,),
}


def _gbz(message: bytes) -> tuple[int, gbz.GbzMessage] | None:
    try:
        inner = frame.signing_message(frame.locate(message).message)
        if inner is None or frame.payload_family(inner.payload) != "gbz":
            return None
        return inner.header.message_code, gbz.decode_exact(inner.payload)
    except DecodeError:
        return None


def derive_history(command: bytes, response: bytes) -> tuple[Precondition, ...]:
    """The history conditions the reference ``response`` to the log read ``command``
    evidences: one per :data:`POPULATED` row whose publish command the response holds
    (readable without keys: a component's ZCL header is never ciphered)."""
    found = _gbz(response)
    if found is None:
        return ()
    code, message = found
    out: list[Precondition] = []
    for row in POPULATED:
        if row.message_code != code:
            continue
        if any(
            c.cluster_id == row.cluster_id
            and c.command_id == row.command_id
            and c.frame_control & 0x03 == _CLUSTER_SPECIFIC
            and c.frame_control & _SERVER_TO_CLIENT
            for c in message.components
        ):
            out.append(Precondition(row.condition, code, None, row.reason))
    return tuple(out)


def sampling_span(command: bytes) -> int | None:
    """Seconds a Start Sampling (GCS31) ``command`` samples for: its Sample Request Interval
    times its Max Number of Samples (the longest, if it starts several); None when it is
    not a plaintext Start Sampling."""
    found = _gbz(command)
    if found is None:
        return None
    spans: list[int] = []
    for c in found[1].components:
        if (c.cluster_id, c.command_id) != (_METERING, _START_SAMPLING) or c.encryption:
            continue
        header = ZclHeader(c.frame_control, c.sequence, c.command_id, c.manufacturer_code)
        try:
            request = registry.decode_command(c.cluster_id, header, c.payload)
        except DecodeError:
            continue
        interval = getattr(request, "sample_request_interval", None)
        count = getattr(request, "max_number_of_samples", None)
        if isinstance(interval, int) and isinstance(count, int):
            spans.append(interval * count)
    return max(spans, default=None)


def elapsed_for(commands: Sequence[bytes]) -> Precondition | None:
    """The device time the replayed ``commands`` need before the read: the longest sampling
    span among them (None: none starts a sampling)."""
    spans = [s for s in (sampling_span(c) for c in commands) if s]
    if not spans:
        return None
    return Precondition(
        Condition.ELAPSED,
        GCS31,
        None,
        "the sampling the replayed GCS31 began fills its Network Data Log as its intervals "
        "end: the whole span (Sample Request Interval x Max Number of Samples) passes",
        elapsed=max(spans),
    )
