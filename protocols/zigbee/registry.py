"""The one registry of typed ZCL commands, and whole ZCL frames (header + typed command).

Protocol layer (sans-IO). Two literal tables: profile-wide commands by command id, and
cluster-specific commands by (cluster id, direction, command id); ZCL r8 §2.4, SE 1.4.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from smemu.errors import DecodeError
from smemu.protocols.zigbee import (
    calendar,
    device_management,
    events,
    messaging,
    metering,
    prepayment,
    price,
    tunnel,
    zcl,
)
from smemu.protocols.zigbee.zcl import (
    CLIENT_TO_SERVER as C2S,
)
from smemu.protocols.zigbee.zcl import (
    SERVER_TO_CLIENT as S2C,
)
from smemu.protocols.zigbee.zcl import (
    RawCommand,
    ZclCommand,
    ZclHeader,
)

__all__ = [
    "CLUSTER_COMMANDS",
    "CLUSTER_NAMES",
    "GENERAL_COMMANDS",
    "ZclFrame",
    "command_class",
    "decode_command",
    "decode_frame",
]

#: Cluster id -> readable name.
CLUSTER_NAMES: Final[Mapping[int, str]] = {
    0x0000: "basic",
    0x0003: "identify",
    0x000A: "time",
    0x0019: "ota_upgrade",
    0x0700: "price",
    0x0701: "demand_response_load_control",
    0x0702: "metering",
    0x0703: "messaging",
    0x0704: "tunneling",
    0x0705: "prepayment",
    0x0707: "calendar",
    0x0708: "device_management",
    0x0709: "events",
}

#: Profile-wide (frame type 0) commands, the same in every cluster and direction.
GENERAL_COMMANDS: Final[Mapping[int, type[ZclCommand]]] = {
    0x00: zcl.ReadAttributes,
    0x01: zcl.ReadAttributesResponse,
    0x02: zcl.WriteAttributes,
    0x03: zcl.WriteAttributesUndivided,
    0x04: zcl.WriteAttributesResponse,
    0x05: zcl.WriteAttributesNoResponse,
    0x06: zcl.ConfigureReporting,
    0x07: zcl.ConfigureReportingResponse,
    0x08: zcl.ReadReportingConfiguration,
    0x0A: zcl.ReportAttributes,
    0x0B: zcl.DefaultResponse,
    0x0C: zcl.DiscoverAttributes,
    0x0D: zcl.DiscoverAttributesResponse,
}

#: Cluster-specific (frame type 1) commands by (cluster, direction, command id).
CLUSTER_COMMANDS: Final[Mapping[tuple[int, int, int], type[ZclCommand]]] = {
    # Price 0x0700
    (0x0700, C2S, 0x00): price.GetCurrentPrice,
    (0x0700, C2S, 0x01): price.GetScheduledPrices,
    (0x0700, C2S, 0x02): price.PriceAcknowledgement,
    (0x0700, C2S, 0x03): price.GetBlockPeriods,
    (0x0700, C2S, 0x04): price.GetConversionFactor,
    (0x0700, C2S, 0x05): price.GetCalorificValue,
    (0x0700, C2S, 0x06): price.GetTariffInformation,
    (0x0700, C2S, 0x07): price.GetPriceMatrix,
    (0x0700, C2S, 0x08): price.GetBlockThresholds,
    (0x0700, C2S, 0x09): price.GetCo2Value,
    (0x0700, C2S, 0x0A): price.GetTierLabels,
    (0x0700, C2S, 0x0B): price.GetBillingPeriod,
    (0x0700, C2S, 0x0F): price.GetCurrencyConversion,
    (0x0700, C2S, 0x10): price.GetTariffCancellation,
    (0x0700, S2C, 0x00): price.PublishPrice,
    (0x0700, S2C, 0x01): price.PublishBlockPeriod,
    (0x0700, S2C, 0x02): price.PublishConversionFactor,
    (0x0700, S2C, 0x03): price.PublishCalorificValue,
    (0x0700, S2C, 0x04): price.PublishTariffInformation,
    (0x0700, S2C, 0x05): price.PublishPriceMatrix,
    (0x0700, S2C, 0x06): price.PublishBlockThresholds,
    (0x0700, S2C, 0x07): price.PublishCo2Value,
    (0x0700, S2C, 0x08): price.PublishTierLabels,
    (0x0700, S2C, 0x09): price.PublishBillingPeriod,
    (0x0700, S2C, 0x0C): price.PublishCurrencyConversion,
    (0x0700, S2C, 0x0D): price.CancelTariff,
    # Metering 0x0702
    (0x0702, C2S, 0x00): metering.GetProfile,
    (0x0702, C2S, 0x03): metering.RequestFastPollMode,
    (0x0702, C2S, 0x05): metering.TakeSnapshot,
    (0x0702, C2S, 0x06): metering.GetSnapshot,
    (0x0702, C2S, 0x07): metering.StartSampling,
    (0x0702, C2S, 0x08): metering.GetSampledData,
    (0x0702, C2S, 0x0A): metering.ResetLoadLimitCounter,
    (0x0702, C2S, 0x0B): metering.ChangeSupply,
    (0x0702, C2S, 0x0C): metering.LocalChangeSupply,
    (0x0702, C2S, 0x0D): metering.SetSupplyStatus,
    (0x0702, C2S, 0x0E): metering.SetUncontrolledFlowThreshold,
    (0x0702, S2C, 0x00): metering.GetProfileResponse,
    (0x0702, S2C, 0x01): metering.RequestMirror,
    (0x0702, S2C, 0x02): metering.RemoveMirror,
    (0x0702, S2C, 0x03): metering.RequestFastPollModeResponse,
    (0x0702, S2C, 0x04): metering.ScheduleSnapshotResponse,
    (0x0702, S2C, 0x05): metering.TakeSnapshotResponse,
    (0x0702, S2C, 0x06): metering.PublishSnapshot,
    (0x0702, S2C, 0x07): metering.GetSampledDataResponse,
    (0x0702, S2C, 0x0C): metering.SupplyStatusResponse,
    (0x0702, S2C, 0x0D): metering.StartSamplingResponse,
    # Messaging 0x0703
    (0x0703, C2S, 0x00): messaging.GetLastMessage,
    (0x0703, C2S, 0x01): messaging.MessageConfirmation,
    (0x0703, C2S, 0x02): messaging.GetMessageCancellation,
    (0x0703, S2C, 0x00): messaging.DisplayMessage,
    (0x0703, S2C, 0x01): messaging.CancelMessage,
    (0x0703, S2C, 0x02): messaging.DisplayProtectedMessage,
    (0x0703, S2C, 0x03): messaging.CancelAllMessages,
    # Tunneling 0x0704
    (0x0704, C2S, 0x00): tunnel.RequestTunnel,
    (0x0704, C2S, 0x01): tunnel.CloseTunnel,
    (0x0704, C2S, 0x02): tunnel.TransferData,
    (0x0704, C2S, 0x03): tunnel.TransferDataError,
    (0x0704, C2S, 0x04): tunnel.AckTransferData,
    (0x0704, C2S, 0x05): tunnel.ReadyData,
    (0x0704, C2S, 0x06): tunnel.GetSupportedTunnelProtocols,
    (0x0704, S2C, 0x00): tunnel.RequestTunnelResponse,
    (0x0704, S2C, 0x01): tunnel.TransferDataToClient,
    (0x0704, S2C, 0x02): tunnel.TransferDataErrorToClient,
    (0x0704, S2C, 0x03): tunnel.AckTransferDataToClient,
    (0x0704, S2C, 0x04): tunnel.ReadyDataToClient,
    (0x0704, S2C, 0x05): tunnel.SupportedTunnelProtocolsResponse,
    (0x0704, S2C, 0x06): tunnel.TunnelClosureNotification,
    # Prepayment 0x0705
    (0x0705, C2S, 0x00): prepayment.SelectAvailableEmergencyCredit,
    (0x0705, C2S, 0x02): prepayment.ChangeDebt,
    (0x0705, C2S, 0x03): prepayment.EmergencyCreditSetup,
    (0x0705, C2S, 0x04): prepayment.ConsumerTopUp,
    (0x0705, C2S, 0x05): prepayment.CreditAdjustment,
    (0x0705, C2S, 0x06): prepayment.ChangePaymentMode,
    (0x0705, C2S, 0x07): prepayment.GetPrepaySnapshot,
    (0x0705, C2S, 0x08): prepayment.GetTopUpLog,
    (0x0705, C2S, 0x09): prepayment.SetLowCreditWarningLevel,
    (0x0705, C2S, 0x0A): prepayment.GetDebtRepaymentLog,
    (0x0705, C2S, 0x0B): prepayment.SetMaximumCreditLimit,
    (0x0705, C2S, 0x0C): prepayment.SetOverallDebtCap,
    (0x0705, S2C, 0x01): prepayment.PublishPrepaySnapshot,
    (0x0705, S2C, 0x02): prepayment.ChangePaymentModeResponse,
    (0x0705, S2C, 0x03): prepayment.ConsumerTopUpResponse,
    (0x0705, S2C, 0x05): prepayment.PublishTopUpLog,
    (0x0705, S2C, 0x06): prepayment.PublishDebtLog,
    # Calendar 0x0707
    (0x0707, C2S, 0x00): calendar.GetCalendar,
    (0x0707, C2S, 0x01): calendar.GetDayProfiles,
    (0x0707, C2S, 0x02): calendar.GetWeekProfiles,
    (0x0707, C2S, 0x03): calendar.GetSeasons,
    (0x0707, C2S, 0x04): calendar.GetSpecialDays,
    (0x0707, C2S, 0x05): calendar.GetCalendarCancellation,
    (0x0707, S2C, 0x00): calendar.PublishCalendar,
    (0x0707, S2C, 0x01): calendar.PublishDayProfile,
    (0x0707, S2C, 0x02): calendar.PublishWeekProfile,
    (0x0707, S2C, 0x03): calendar.PublishSeasons,
    (0x0707, S2C, 0x04): calendar.PublishSpecialDays,
    (0x0707, S2C, 0x05): calendar.CancelCalendar,
    # Device Management 0x0708
    (0x0708, C2S, 0x00): device_management.GetChangeOfTenancy,
    (0x0708, C2S, 0x01): device_management.GetChangeOfSupplier,
    (0x0708, C2S, 0x02): device_management.RequestNewPassword,
    (0x0708, C2S, 0x03): device_management.GetSiteId,
    (0x0708, C2S, 0x04): device_management.ReportEventConfiguration,
    (0x0708, C2S, 0x05): device_management.GetCin,
    (0x0708, S2C, 0x00): device_management.PublishChangeOfTenancy,
    (0x0708, S2C, 0x01): device_management.PublishChangeOfSupplier,
    (0x0708, S2C, 0x02): device_management.RequestNewPasswordResponse,
    (0x0708, S2C, 0x03): device_management.UpdateSiteId,
    (0x0708, S2C, 0x04): device_management.SetEventConfiguration,
    (0x0708, S2C, 0x05): device_management.GetEventConfiguration,
    (0x0708, S2C, 0x06): device_management.UpdateCin,
    # Events 0x0709
    (0x0709, C2S, 0x00): events.GetEventLog,
    (0x0709, C2S, 0x01): events.ClearEventLogRequest,
    (0x0709, S2C, 0x00): events.PublishEvent,
    (0x0709, S2C, 0x01): events.PublishEventLog,
    (0x0709, S2C, 0x02): events.ClearEventLogResponse,
}


def command_class(cluster_id: int, header: ZclHeader) -> type[ZclCommand] | None:
    """The typed class of the command ``header`` names in ``cluster_id``, if registered."""
    if header.frame_type == zcl.FRAME_GENERAL:
        return GENERAL_COMMANDS.get(header.command_id)
    if header.frame_type == zcl.FRAME_CLUSTER_SPECIFIC and header.manufacturer_code is None:
        return CLUSTER_COMMANDS.get((cluster_id, header.direction, header.command_id))
    return None


def decode_command(cluster_id: int, header: ZclHeader, payload: bytes) -> ZclCommand:
    """Decode a ZCL payload as the command ``header`` names; :class:`RawCommand` if unknown.

    :raises DecodeError: the payload does not fit the command (path: the command's name).
    """
    record = command_class(cluster_id, header)
    if record is None:
        return RawCommand(bytes(payload))
    try:
        return record.decode_exact(payload)
    except DecodeError as exc:
        raise exc.within(record.__name__) from None


@dataclass(frozen=True, slots=True)
class ZclFrame:
    """A whole ZCL frame as the HAN carries it: header then the typed command."""

    #: The cluster the frame is addressed to (from the APS layer, not the frame).
    cluster_id: int
    header: ZclHeader
    command: ZclCommand

    @classmethod
    def build(
        cls,
        command: ZclCommand,
        sequence: int,
        *,
        cluster_id: int | None = None,
        disable_default_response: bool = False,
        direction: int | None = None,
    ) -> ZclFrame:
        """A frame for ``command``: cluster, frame type and direction from its class.

        :param cluster_id: required for profile-wide commands.
        """
        cluster = command.CLUSTER_ID if command.CLUSTER_ID is not None else cluster_id
        if cluster is None:
            raise ValueError("a profile-wide command needs cluster_id")
        header = command.header(
            sequence, disable_default_response=disable_default_response, direction=direction
        )
        return cls(cluster, header, command)

    def encode(self) -> bytes:
        """Header then payload.

        :raises LocalProtocolError: a field out of range.
        """
        return self.header.encode() + self.command.encode()

    def to_json(self) -> dict[str, Any]:
        """Readable frame."""
        return {
            "cluster": CLUSTER_NAMES.get(self.cluster_id, f"0x{self.cluster_id:04X}"),
            "header": self.header.to_json(),
            "command": command_name(self.command),
            "payload": self.command.to_json(),
        }


def command_name(command: ZclCommand) -> str:
    """snake_case name of a command class (``PublishPriceMatrix`` -> ``publish_price_matrix``)."""
    name = type(command).__name__
    out = [name[0].lower()]
    for ch in name[1:]:
        out.append(f"_{ch.lower()}" if ch.isupper() else ch)
    return "".join(out).removesuffix("_to_client")


def decode_frame(cluster_id: int, data: bytes) -> ZclFrame:
    """Decode one whole ZCL frame (header + payload) received for ``cluster_id``.

    :raises DecodeError: path ``zcl``.
    """
    try:
        header, payload = ZclHeader.decode(data)
    except DecodeError as exc:
        raise exc.within("zcl.header") from None
    base = len(data) - len(payload)
    try:
        command = decode_command(cluster_id, header, payload)
    except DecodeError as exc:
        raise exc.within("zcl", base) from None
    return ZclFrame(cluster_id, header, command)
