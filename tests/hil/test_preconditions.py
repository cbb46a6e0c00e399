"""Deriving an ERROR scenario's fault from a reference response whose failure is encrypted.

hil/preconditions.py: ``derive(command, response, keys)`` decrypts the response's ciphered GBZ
components with the reference key store before reading their statuses (GCS13b/c: the failed
attribute sits in an encrypted Read Attributes Response).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from smemu.firmware.common.faults import ZclAccess, ZclPoint
from smemu.hil.conformance import Scenario, discover, read_vector
from smemu.hil.preconditions import Condition, derive
from smemu.protocols.security.keystore import DirectoryKeyStore, KeyStore

pytestmark = pytest.mark.timeout(60)

METERING, MULTIPLIER = 0x0702, 0x0301


def _scenario(rtds_dir: Path, folder: str, suffix: str) -> Scenario:
    suites = discover(rtds_dir, pattern=folder)
    return next(s for suite in suites for s in suite.scenarios if s.name.endswith(suffix))


def _vectors(rtds_dir: Path, folder: str, suffix: str) -> tuple[bytes, bytes]:
    scenario = _scenario(rtds_dir, folder, suffix)
    assert scenario.input is not None and scenario.response is not None
    return read_vector(scenario.input), read_vector(scenario.response)


@pytest.mark.parametrize("folder", ["4.1.2_GCS13c", "4.1.4_GCS13b"])
def test_an_encrypted_failed_attribute_is_found_with_the_reference_keys(
    rtds_dir: Path, keystore_dir: Path, folder: str
) -> None:
    command, response = _vectors(rtds_dir, folder, "_ERROR")
    keys = DirectoryKeyStore.load(keystore_dir)
    found = derive(command, response, keys)
    assert [(p.condition, p.point) for p in found] == [
        (Condition.HARDWARE_FAULT, ZclPoint(ZclAccess.ATTRIBUTE, METERING, MULTIPLIER))
    ]
    # without the keys the ciphered component evidences nothing (it cannot be read)
    assert derive(command, response) == ()


@pytest.mark.parametrize("folder", ["4.1.2_GCS13c", "4.1.4_GCS13b"])
def test_a_successful_encrypted_answer_evidences_no_fault(
    rtds_dir: Path, keystore_dir: Path, folder: str
) -> None:
    command, response = _vectors(rtds_dir, folder, "_SUCCESS_RELIABLE_GSME")
    assert derive(command, response, DirectoryKeyStore.load(keystore_dir)) == ()


def test_keys_that_cannot_decrypt_leave_the_components_unread(
    rtds_dir: Path, tmp_path: Path
) -> None:
    """A key store without the reference parties' keys: no exception, nothing derived."""
    command, response = _vectors(rtds_dir, "4.1.2_GCS13c", "_ERROR")
    empty: KeyStore = DirectoryKeyStore.load(tmp_path)
    assert derive(command, response, empty) == ()


@pytest.mark.parametrize(
    ("folder", "suffix", "point"),
    [
        # 31 Get Snapshot frames: three answered by a Publish Snapshot, 26 by a success
        # Default Response, the 30th (rank 29) by HARDWARE_FAILURE, the last by 0xFF
        ("4.6.1_GCS16a", "_ERROR", ZclPoint(ZclAccess.COMMAND, METERING, 0x06, 29)),
        # Get Prepayment Snapshot frames: a Publish Prepay Snapshot first, then the failure
        ("4.14_GCS16b", "_KRP_ERROR", ZclPoint(ZclAccess.COMMAND, 0x0705, 0x07, 1)),
        # twelve Get Snapshot frames, then Get Prepayment Snapshot twice: the second fails
        ("4.4.3_GCS15c", "_ERROR", ZclPoint(ZclAccess.COMMAND, 0x0705, 0x07, 1)),
    ],
)
def test_a_failed_repeated_command_is_ranked_among_the_command_frames(
    rtds_dir: Path, folder: str, suffix: str, point: ZclPoint
) -> None:
    """Response component i answers command component i, whatever kind of reply it is."""
    command, response = _vectors(rtds_dir, folder, suffix)
    found = derive(command, response)
    assert [(p.condition, p.point) for p in found] == [(Condition.HARDWARE_FAULT, point)]
