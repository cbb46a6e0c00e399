"""The smemu pytest plugin, run inside pytester: options, markers, fixtures, skips, JUnit."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from importlib.metadata import entry_points

import pytest

from smemu.devices.keys import init_pki
from smemu.firmware.common.machine import DeviceType
from smemu.protocols.gbcs.types import Eui64

pytest_plugins = ["pytester"]

PLUGIN = "smemu.hil.pytest_plugin.plugin"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    # No -p: the installed package registers the plugin through the pytest11 entry point,
    # which is how users get it.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_the_plugin_is_registered_through_the_pytest11_entry_point() -> None:
    plugins = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert plugins.get("smemu") == PLUGIN


def test_options_are_prefixed_and_grouped(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "--help")
    text = result.stdout.str()
    assert "smemu: emulated GB smart metering devices or a real rig" in text
    for option in ("--smemu-device", "--smemu-pki", "--smemu-firmware", "--smemu-timeout"):
        assert option in text


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    text = _run(pytester, "--markers").stdout.str()
    assert "smemu_device_type(name)" in text and "smemu_rig:" in text


def test_an_emulated_esme_answers_and_identities_reach_junit(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.smemu_device_type("esme")
        def test_read_switch(smemu_head_end, smemu_device, smemu_clock, smemu_capture):
            assert smemu_device.device_type.value == "esme"
            smemu_head_end.capture = smemu_capture
            response = smemu_head_end.request("ECS45")
            assert response is not None and response.verified, response
            assert smemu_capture.count == 2

        @pytest.mark.smemu_rig
        def test_needs_a_rig():
            raise AssertionError("must not run under emulation")
        """
    )
    result = _run(pytester, "--junitxml=out.xml", "-o", "junit_family=xunit1")
    result.assert_outcomes(passed=1, skipped=1)
    root = ET.parse(pytester.path / "out.xml").getroot()
    case = next(c for c in root.iter("testcase") if c.get("name") == "test_read_switch")
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["smemu.rig"] == "emulated"
    assert props["smemu.device.type"] == "esme"
    assert props["smemu.firmware.version"]


def test_a_configured_but_absent_rig_skips_rather_than_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_device(smemu_device):
            raise AssertionError("must not run without the rig")

        def test_premises(smemu_premises):
            raise AssertionError("premises are emulated only")
        """
    )
    pki = pytester.path / "pki"
    init_pki(pki, {Eui64.parse("00-11-22-33-44-55-66-77"): DeviceType.ESME}, seed=b"t")
    # a closed loopback port: nothing listens there
    result = _run(pytester, "--smemu-device", "tcp://127.0.0.1:9", "--smemu-pki", str(pki), "-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*cannot reach the device*", "*emulated*"])
    # without the rig's PKI: also a skip, saying what is missing
    result = _run(pytester, "--smemu-device", "tcp://127.0.0.1:9", "-rs", "-k", "device")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*--smemu-pki*"])


def test_the_config_comes_from_the_environment_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        """
        def test_config(smemu_config):
            assert smemu_config.device == "tcp://127.0.0.1:9"
            assert smemu_config.timeout == 2.5
            assert not smemu_config.emulated
        """
    )
    monkeypatch.setenv("SMEMU_DEVICE", "tcp://127.0.0.1:9")
    monkeypatch.setenv("SMEMU_TIMEOUT", "2.5")
    _run(pytester).assert_outcomes(passed=1)
