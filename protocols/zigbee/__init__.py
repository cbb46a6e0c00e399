"""ZigBee (GBZ) payload codecs of GBCS (GBCS ref. §7.7) and the HAN tunnelling frames.

Protocol layer (sans-IO). ``gbz``: the GBZ container; ``zcl``: ZCL header, data types and
general commands; one module per Smart Energy cluster (``price``, ``metering``,
``messaging``, ``prepayment``, ``calendar``, ``device_management``, ``events``,
``tunnel``); ``registry``: the (cluster, direction, command) -> class table; ``typed``:
:func:`decode_typed`, a GBZ payload with every command typed.
"""

from __future__ import annotations

from smemu.protocols.zigbee.typed import GbzPayload, ZclComponent, decode_typed

__all__ = ["GbzPayload", "ZclComponent", "decode_typed"]
