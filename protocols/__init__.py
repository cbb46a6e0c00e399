"""Sans-IO codecs: bytes <-> typed GBCS, DLMS, GBZ and ASN.1 messages, security and UTRN.

Layer: protocols, the bottom of the dependency direction (architecture.md). Nothing here
does I/O, reads a clock or holds device state; it imports only ``smemu.errors`` and itself.
"""
