"""ZigBee (GBZ) payload codecs of GBCS (GBCS ref. §7.7).

Protocol layer (sans-IO). Module ``gbz``: the GBZ container (header, extended-header
components, ZCL frame headers, encrypted components); ZCL payloads stay bytes for now.
"""
