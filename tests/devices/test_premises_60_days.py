"""Issue 7 "Done means": sixty simulated days of the whole premises at >= 1,000x.

The default premises (comms hub with its gas proxy, ESME, GSME, PPMID, HCALC) lives 60 days
on a virtual clock that jumps from timer to timer (each step sees the simulated instant it
would see at any speed): electricity on a two-rate TOU tariff with a standing charge set by
the supplier's head-end (ECS01a), gas metered while the GSME sleeps and wakes every 30
minutes on its own TOU tariff (GCS01a, held by the GPF until the wake), a gas read answered
by the GPF, a gas top-up typed on the PPMID (accepted by the GSME, whose device log holds the
PPMID from commissioning), the HCALC's calendars with random offsets and a consumer boost, a
supply outage with the HCALC failing open and asking for a refresh, a firmware image
distributed by the hub, held and activated (CS06) on the ESME, run at once on the PPMID
(CS09), both signed by the manufacturer key the premises commissioned its devices with.
The story is played once (:mod:`._premises_life`); each test below
judges one part of it against the reference: the pure-Python register engine for the ESME
and the GSME, the reference switch timeline for the HCALC.

A part whose feature the firmware does not have yet is its own ``xfail(strict=True)`` test
naming what is missing, so it turns red the day the feature lands.
"""

from __future__ import annotations

import pytest

from smemu.protocols.gbcs.secure import Verdict

from ._premises_life import Checkpoint, Life, live
from ._premises_ref import DAYS, VERSION, esme_usage

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Life:
    return live(tmp_path_factory.mktemp("premises-60-days"))


def _agree(c: Checkpoint) -> None:
    assert c.esme == c.esme_ref, c.name
    assert c.esme_state == c.esme_ref_state, c.name
    assert c.esme_logs == c.esme_ref_logs, c.name
    assert c.gsme == c.gsme_ref, c.name
    assert c.gsme_state == c.gsme_ref_state, c.name
    assert c.gsme_logs == c.gsme_ref_logs, c.name


def test_sixty_days_ran_faster_than_1000x(life: Life) -> None:
    assert (life.end - life.start).days == DAYS
    assert DAYS * 86_400 / life.wall_s > 1_000
    assert life.esme_stats.get("errors", 0) == 0


def test_the_tariffs_compiled_by_the_meters_are_the_references(life: Life) -> None:
    assert life.answers["ECS01a"] is not None and life.answers["ECS01a"].verified
    device, ref = life.tables["esme"]
    assert device == ref
    gcs01a = life.answers["GCS01a"]  # answered when the GSME woke
    assert gcs01a is not None and gcs01a.verified
    device, ref = life.tables["gsme"]
    assert device == ref
    changed, woke = life.gas_tariff_at
    assert changed == woke


@pytest.mark.parametrize("name", ["day 20", "day 40", "before the outage"])
def test_every_register_agrees_with_the_reference_engine(life: Life, name: str) -> None:
    c = life.checkpoints[name]
    _agree(c)
    # the life had what it should: both TOU rates used, gas flowing, a standing charge
    assert c.esme_ref.tou_wh[0] > 0 and c.esme_ref.tou_wh[1] > 0
    assert c.esme_ref.import_wh == sum(c.esme_ref.tou_wh)
    assert c.esme_ref.accumulated_cost > 0
    assert c.gsme_ref.import_wh > 0
    # gas on its own TOU tariff: both rates used, priced, a standing charge
    assert c.gsme_ref.tou_wh[0] > 0 and c.gsme_ref.tou_wh[1] > 0
    assert c.gsme_ref.accumulated_cost > 0


def test_registers_after_the_outage_agree_with_the_reference_engine(life: Life) -> None:
    _agree(life.checkpoints["day 60"])


def test_the_outage_is_the_only_difference_at_the_end(life: Life) -> None:
    """Everything but the ESME's energy during the outage still agrees at day 60 (the gas
    meter entirely); the ESME's import exceeds the reference by at most the outage load."""
    c = life.checkpoints["day 60"]
    assert c.gsme == c.gsme_ref
    assert c.gsme_state == c.gsme_ref_state
    off, on = (int(t.timestamp()) for t in life.outage)
    dark = sum(esme_usage(off, on, None))
    assert 0 <= c.esme.import_wh - c.esme_ref.import_wh <= dark


def test_the_gsme_meters_gas_from_commissioning(life: Life) -> None:
    device, flow = life.gsme_gas_from_commissioning
    assert device == flow


def test_a_gas_read_through_the_gpf_shows_the_last_wake(life: Life) -> None:
    answer = life.answers["GCS13a"]
    assert answer is not None and answer.verified
    assert life.gas_read_litres is not None  # the answer decrypts and carries the volume
    assert life.gas_read_litres == life.gas_read_expected > 0


def test_the_gpf_answers_a_gas_read_while_the_gsme_sleeps(life: Life) -> None:
    answer = life.answers["GCS13a"]
    assert answer is not None and answer.verified


def test_a_top_up_on_the_ppmid_reaches_the_gsme(life: Life) -> None:
    added, expected = life.gas_top_up
    assert added == expected


def test_the_hcalc_follows_its_calendar_offsets_boost_and_outage(life: Life) -> None:
    for switch, (recorded, expected) in life.hcalc.items():
        assert recorded == expected, f"switch {switch}"
    off, on = (int(t.timestamp()) for t in life.outage)
    for recorded, _ in life.hcalc.values():
        during = [closed for t, closed in recorded if t <= (off + on) // 2]
        assert during[-1] is False  # failed open
    # the random offsets move the calendar instants off the whole minute
    instants = [t for recorded, _ in life.hcalc.values() for t, _c in recorded]
    assert any(t % 60 for t in instants)
    # the boost closed switch 1 at 10:00 on day 10
    boost = int(life.boost_at.timestamp())
    assert (boost, True) in life.hcalc[1][0]


def test_the_hcalc_asks_for_a_refresh_when_power_returns(life: Life) -> None:
    assert life.hcalc_refresh_requests
    assert life.hcalc_refresh_requests[0] == life.outage[1]


def test_the_hcalc_refresh_is_answered(life: Life) -> None:
    assert not life.hcalc_refresh_pending


def test_a_firmware_image_is_distributed_to_and_activated_on_the_esme(life: Life) -> None:
    assert life.pending_image["esme"]
    answer = life.answers["CS06 esme"]
    assert answer is not None and answer.verified
    assert life.firmware["esme"] == VERSION


def test_a_firmware_image_is_distributed_to_and_activated_on_the_ppmid(life: Life) -> None:
    """No CS06 for a PPMID (CS05c, CS09): it runs a verified image at once and tells the
    access control broker with a signed CS09, which the hub counts as the receipt."""
    assert life.firmware["ppmid"] == VERSION
    assert len(life.ppmid_cs09) == 1
    originator, signature = life.ppmid_cs09[0]
    assert originator == life.ppmid
    assert signature == Verdict.VALID


