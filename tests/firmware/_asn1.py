"""Helpers for the ASN.1 use-case tests: send a command, read the typed answer."""

from __future__ import annotations

from datetime import datetime, timedelta

from smemu.devices.keys import Pki
from smemu.firmware.common.commands import CommandMachine
from smemu.firmware.common.credentials import Role
from smemu.firmware.common.han import HanFrame, TunnelCommand, decode_han
from smemu.firmware.common.machine import MessageEvent, Step
from smemu.protocols.asn1 import Asn1Payload, decode_typed
from smemu.protocols.gbcs import frame, secure
from smemu.protocols.gbcs.frame import GeneralSigningMessage
from smemu.protocols.security.keystore import KeyStore
from tests.firmware._support import ESME, T0, command


def send(
    machine: CommandMachine,
    pki: Pki,
    code: int,
    counter: int,
    payload: Asn1Payload,
    *,
    sign: bool = True,
    role: Role = Role.SUPPLIER,
    at: datetime | None = None,
) -> Step:
    data = command(pki, ESME, code, counter, payload.encode(), sign=sign, role=role)
    return machine.step(MessageEvent("han", HanFrame(TunnelCommand.PUT, data).encode()), at or T0)


def messages(step: Step) -> list[GeneralSigningMessage]:
    out = []
    for s in step.sends:
        inner = frame.signing_message(frame.locate(decode_han(s.data).message).message)
        assert inner is not None
        out.append(inner)
    return out


def answer(step: Step, store: KeyStore) -> tuple[GeneralSigningMessage, Asn1Payload]:
    """The one message sent, checked (signature or MAC valid), with its typed payload."""
    [sent] = step.sends
    located = frame.locate(decode_han(sent.data).message)
    inner = frame.signing_message(located.message)
    assert inner is not None
    if inner.signature:
        assert secure.verify_signature(located, store) is secure.Verdict.VALID
    else:
        assert secure.verify_mac(located, store) is secure.Verdict.VALID
    payload = decode_typed(
        inner.payload, message_code=inner.message_code, cra=int(inner.header.cra)
    )
    return inner, payload


HOUR = timedelta(hours=1)
