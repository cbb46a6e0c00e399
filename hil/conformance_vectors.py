"""Reference vector discovery: the folders and files of a DCC Reference Test Data Set.

Layer: hil. :func:`discover` walks a vector folder laid out as the RTDS is (one folder
``<SRV>_<UseCase>`` per service request variant, files
``<scenario>_{COMMAND,PRECOMMAND,RESPONSE}_GBCS.HEX`` and ``<...>_ALERT_<...>_GBCS.HEX``) and
groups the files into :class:`Scenario` objects per :class:`UseCaseVectors`. Nothing else of a
file name is read: what a command is, who it is for and what answers it come from decoding it
(:mod:`smemu.hil.conformance_types`).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Final

from smemu.errors import ConfigError, DecodeError

#: ``<scenario>_<KIND>_GBCS.HEX``: a command, pre-command or response file.
_MESSAGE_FILE: Final = re.compile(
    r"^(?P<key>.+)_(?P<kind>PRECOMMAND|COMMAND|RESPONSE)_GBCS\.HEX$", re.IGNORECASE
)
#: ``<scenario...>_ALERT[_<label>]_GBCS.HEX``: an alert the scenario leads to.
_ALERT_FILE: Final = re.compile(r"^(?P<key>.+?)_ALERT(?:_(?P<label>.+))?_GBCS\.HEX$", re.IGNORECASE)
_VECTOR_SUFFIX: Final = "_GBCS.HEX"


@dataclass(frozen=True, slots=True)
class Scenario:
    """One command of a use case with its reference answer (the files, not their bytes)."""

    folder: str  #: the use-case folder's name, ``<SRV>_<UseCase>``
    name: str  #: the file names' common part, before ``_COMMAND`` / ``_RESPONSE``
    command: Path | None = None
    precommand: Path | None = None
    response: Path | None = None
    alerts: tuple[Path, ...] = ()

    @property
    def id(self) -> str:
        """``<folder>/<name>``: unique within a vector set."""
        return f"{self.folder}/{self.name}"

    @property
    def input(self) -> Path | None:
        """The file to replay: the COMMAND, else the PRECOMMAND."""
        return self.command if self.command is not None else self.precommand


@dataclass(frozen=True, slots=True)
class UseCaseVectors:
    """All scenarios of one ``<SRV>_<UseCase>`` folder."""

    folder: str
    service: str  #: the service request variant (``SRV``), e.g. ``2.1``
    use_case: str  #: the use case as the folder names it, e.g. ``ECS08``
    path: Path
    scenarios: tuple[Scenario, ...]
    #: alert files that belong to no scenario of the folder
    loose_alerts: tuple[Path, ...] = ()


def split_folder(name: str) -> tuple[str, str]:
    """``2.1_ECS08`` -> (``2.1``, ``ECS08``); a name without ``_`` is all use case."""
    service, sep, use_case = name.partition("_")
    return (service, use_case) if sep else ("", name)


def _tokens(key: str) -> list[str]:
    return key.upper().split("_")


def scenario_variant(scenario: Scenario) -> str | None:
    """The device variant a scenario is for: ``twin`` when its name says TWIN (the reference
    set runs the same command against a single- and a twin-element ESME); else None."""
    return "twin" if "TWIN" in _tokens(scenario.name) else None


def _is_subsequence(short: Sequence[str], long: Sequence[str]) -> bool:
    it = iter(long)
    return all(token in it for token in short)


def _folder_vectors(folder: Path) -> UseCaseVectors:
    slots: dict[str, dict[str, Path]] = defaultdict(dict)
    alerts: list[tuple[str, Path]] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        match = _MESSAGE_FILE.match(path.name)
        if match is not None:
            slots[match["key"]][match["kind"].upper()] = path
            continue
        alert = _ALERT_FILE.match(path.name)
        if alert is not None:
            alerts.append((alert["key"], path))
    owned: dict[str, list[Path]] = defaultdict(list)
    loose: list[Path] = []
    for key, path in alerts:
        # An alert belongs to the scenario whose name is the longest subsequence of the
        # alert's leading part (``X_8F66_FUTURE_DATED_SUCCESS`` -> ``X_FUTURE_DATED_SUCCESS``).
        tokens = _tokens(key)
        owners = [k for k in slots if _is_subsequence(_tokens(k), tokens)]
        if owners:
            owned[max(owners, key=lambda k: (len(_tokens(k)), k))].append(path)
        else:
            loose.append(path)
    scenarios = tuple(
        Scenario(
            folder.name,
            key,
            files.get("COMMAND"),
            files.get("PRECOMMAND"),
            files.get("RESPONSE"),
            tuple(owned.get(key, ())),
        )
        for key, files in sorted(slots.items())
    )
    service, use_case = split_folder(folder.name)
    return UseCaseVectors(folder.name, service, use_case, folder, scenarios, tuple(loose))


def discover(root: Path, *, pattern: str | None = None) -> list[UseCaseVectors]:
    """Every folder under ``root`` (itself included) holding ``*_GBCS.HEX`` vectors.

    :param pattern: keep only use cases whose folder, use-case id or scenario id matches
        this shell pattern (``ECS0*``, ``2.1_*``, ``*FUTURE_DATED*``); scenarios that do not
        match are left out of a folder whose name does not match either.
    :raises ConfigError: ``root`` is not a folder.
    """
    if not root.is_dir():
        raise ConfigError(f"vector folder {root} does not exist")
    folders = sorted({p.parent for p in root.rglob("*") if p.name.upper().endswith(_VECTOR_SUFFIX)})
    out: list[UseCaseVectors] = []
    for folder in folders:
        vectors = _folder_vectors(folder)
        if pattern is not None and not (
            fnmatchcase(vectors.folder, pattern) or fnmatchcase(vectors.use_case, pattern)
        ):
            kept = tuple(s for s in vectors.scenarios if fnmatchcase(s.id, pattern))
            if not kept:
                continue
            vectors = UseCaseVectors(
                vectors.folder, vectors.service, vectors.use_case, vectors.path, kept
            )
        if vectors.scenarios:
            out.append(vectors)
    return out


def read_vector(path: Path) -> bytes:
    """The message in a ``.HEX`` file (hex digits, whitespace ignored).

    :raises DecodeError: the file is not hex.
    """
    text = "".join(path.read_text(encoding="ascii", errors="replace").split())
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise DecodeError(f"{path.name}: not hex ({exc})", path=str(path)) from exc

