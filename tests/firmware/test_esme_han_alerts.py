"""The ESME side of HCALC control: HECS01 logged on a refresh request, a failed state change
recorded and alerted (seed 004, 5.5.4.1).

The ESME is driven as in :mod:`tests.firmware.test_esme_han`.
"""

from __future__ import annotations

from datetime import timedelta

from smemu.devices.keys import Pki
from smemu.firmware import esme_han, hcalc_frames
from smemu.firmware.common.han import decode_han
from smemu.firmware.common.machine import MessageEvent, Tx
from smemu.firmware.common.respond import GENERIC_NON_CRITICAL_ALERT
from smemu.protocols.dlms import apdu
from smemu.protocols.dlms.data import LongUnsigned, Structure
from smemu.protocols.gbcs import frame
from smemu.protocols.gbcs.types import Cra
from tests.firmware.test_esme_han import (
    HCALC,
    PPMID,
    T0,
    HanMeter,
    commissioned,
    ecs47a,
    pki,  # noqa: F401  (module fixture)
)

FAILED = hcalc_frames.encode(hcalc_frames.StateResult(1, False))


def _alert_codes(tx: Tx) -> list[tuple[int, int]]:
    """(message code, alert code) of every alert ``tx`` sent on the ESME's ``han`` port."""
    out = []
    for sent in tx.sends:
        assert sent.port == "han"
        inner = frame.signing_message(frame.locate(decode_han(sent.data).message).message)
        assert inner is not None and inner.header.cra is Cra.ALERT
        body = apdu.decode_exact(inner.payload)
        assert isinstance(body, apdu.DataNotificationMessage)
        assert isinstance(body.body, Structure) and isinstance(body.body.items[0], LongUnsigned)
        code = inner.header.other_information.message_code
        out.append((code, body.body.items[0].value))
    return out


def test_a_refresh_request_is_logged_as_hecs01(pki: Pki) -> None:  # noqa: F811
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 2),)))
    step, _ = meter.step(
        MessageEvent("alc", hcalc_frames.encode(hcalc_frames.RefreshRequest()), HCALC)
    )
    assert [e.code for e in step.logs if e.code] == [esme_han.HECS01]
    assert esme_han.HECS01 == 0x0119


def test_only_a_joined_hcalcs_refresh_is_logged(pki: Pki) -> None:  # noqa: F811
    meter = HanMeter(pki, commissioned(ppmids=(PPMID,), hcalcs=((HCALC, 1),)))
    step, _ = meter.step(
        MessageEvent("alc", hcalc_frames.encode(hcalc_frames.RefreshRequest()), PPMID)
    )
    assert esme_han.HECS01 not in [e.code for e in step.logs]


def test_a_failed_state_change_is_logged_and_alerted_to_the_supplier(pki: Pki) -> None:  # noqa: F811
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    ecs47a(meter, 1, True, T0, T0 + timedelta(hours=1))
    tx = meter.tx()
    esme_han.on_frame(tx, HCALC, FAILED, machine=meter.machine)
    assert [e.code for e in tx.logs if e.code] == [esme_han.ALERT_NOT_ACTIONED]
    assert _alert_codes(tx) == [(GENERIC_NON_CRITICAL_ALERT, 0x8155)]
    assert [e[1:3] for e in esme_han.log_entries(tx)][-1] == (0x100, esme_han.OUTCOME_FAILURE)


def test_a_successful_state_change_raises_no_alert(pki: Pki) -> None:  # noqa: F811
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    ecs47a(meter, 1, True, T0, T0 + timedelta(hours=1))
    tx = meter.tx()
    ok = hcalc_frames.encode(hcalc_frames.StateResult(1, True))
    esme_han.on_frame(tx, HCALC, ok, machine=meter.machine)
    assert tx.sends == [] and not [e for e in tx.logs if e.code]


def test_without_a_machine_the_failure_is_only_logged(pki: Pki) -> None:  # noqa: F811
    meter = HanMeter(pki, commissioned(hcalcs=((HCALC, 1),)))
    tx = meter.tx()
    esme_han.on_frame(tx, HCALC, FAILED)
    assert tx.sends == []
    assert esme_han.ALERT_NOT_ACTIONED in [e.code for e in tx.logs]
