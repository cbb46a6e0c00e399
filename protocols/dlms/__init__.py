"""DLMS/COSEM payload codecs of GBCS: lengths, A-XDR Data, APDUs, protected data (GBCS ref. §7).

Protocol layer (sans-IO). Modules: ``length`` (BER-style lengths, §2), ``axdr`` (the Data
codec, §7.3-7.4, over the value classes of ``data`` and ``dates``), ``apdu`` (access-request,
access-response, data-notification, §7.2), ``protection`` (ciphered blocks, §4.5, §7.6).
"""
