"""A device's own keys and its trust anchors (the remote parties it knows), kept in NVM.

Layer: firmware. GBCS 4.3 / gbcs-reference.md 1.3, 4.2: every device holds a digital
signature (DS) and a key agreement (KA) P-256 key pair, and the public keys of the remote
parties allowed to command it (supplier, network operator, access-control broker, other
user ...). Both are non-volatile: a device that restarts keeps them.

NVM keys: ``cred/ds`` and ``cred/ka`` hold the 32-byte private scalars; ``anchor/<role>``
holds JSON ``{"eui": hex, "ds": hex point or null, "ka": hex point or null}``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from smemu.errors import SecurityError
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import public_key_from_point
from smemu.protocols.security.keystore import InMemoryKeyStore, KeyKind


class Role(enum.IntEnum):
    """RemotePartyRole numbers of GBCS (reference 1.2); ``OTHER_USER`` is role 127.

    ``LOAD_CONTROLLER`` (8) is the number the DCC key store uses for the SMETS v5 load
    controller (reference 1.2: "role 8 in dccboxed-keystore"); GBCS ASN.1 stops at 7.
    """

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7
    LOAD_CONTROLLER = 8
    OTHER_USER = 127

    @property
    def slug(self) -> str:
        """File- and key-friendly name: ``supplier``, ``network-operator`` ..."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_slug(cls, text: str) -> Role:
        try:
            return cls[text.upper().replace("-", "_")]
        except KeyError:
            raise SecurityError(f"unknown remote party role {text!r}") from None


OWN_DS: Final = "cred/ds"
OWN_KA: Final = "cred/ka"
ANCHOR_PREFIX: Final = "anchor/"


@dataclass(frozen=True, slots=True)
class Anchor:
    """A remote party the device trusts: its role, EUI and public key points (X||Y)."""

    role: Role
    eui: Eui64
    ds_point: bytes | None
    ka_point: bytes | None

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "eui": self.eui.hex(),
                "ds": None if self.ds_point is None else self.ds_point.hex(),
                "ka": None if self.ka_point is None else self.ka_point.hex(),
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, role: Role, raw: bytes) -> Anchor:
        try:
            obj = json.loads(raw)
            ds, ka = obj.get("ds"), obj.get("ka")
            return cls(
                role,
                Eui64(bytes.fromhex(obj["eui"])),
                None if ds is None else bytes.fromhex(ds),
                None if ka is None else bytes.fromhex(ka),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SecurityError(f"corrupt trust anchor for {role.slug}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Credentials:
    """Everything a device needs to check commands and secure its own messages."""

    eui: Eui64
    keystore: InMemoryKeyStore  #: own private keys + anchors' public keys
    anchors: Mapping[Eui64, Anchor]  #: by EUI

    def role_of(self, eui: Eui64) -> Role | None:
        anchor = self.anchors.get(eui)
        return None if anchor is None else anchor.role

    def anchor(self, role: Role) -> Anchor | None:
        for anchor in self.anchors.values():
            if anchor.role is role:
                return anchor
        return None

    @property
    def acbs(self) -> tuple[Eui64, ...]:
        return tuple(
            a.eui for a in self.anchors.values() if a.role is Role.ACCESS_CONTROL_BROKER
        )


def prepayment_point(anchor_json: bytes | None) -> bytes | None:
    """The prepayment top-up KA point an anchor cell carries (JSON member ``pp``), if any."""
    if anchor_json is None:
        return None
    try:
        value = json.loads(anchor_json).get("pp")
        return bytes.fromhex(value) if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None


def provisioning_writes(
    ds_scalar: bytes, ka_scalar: bytes, anchors: tuple[Anchor, ...]
) -> dict[str, bytes]:
    """The NVM entries that install a device's keys and trust anchors."""
    writes = {OWN_DS: ds_scalar, OWN_KA: ka_scalar}
    for anchor in anchors:
        writes[ANCHOR_PREFIX + anchor.role.slug] = anchor.to_json()
    return writes


def load_credentials(eui: Eui64, nvm: Mapping[str, bytes]) -> Credentials:
    """Build the device's key store from NVM (cheap: private keys are built on first use).

    :raises SecurityError: an entry is corrupt.
    """
    store = InMemoryKeyStore()
    for key, kind in ((OWN_DS, KeyKind.DS), (OWN_KA, KeyKind.KA)):
        scalar = nvm.get(key)
        if scalar is not None:
            store.add_private_key(eui, kind, scalar)
    anchors: dict[Eui64, Anchor] = {}
    for key in sorted(k for k in nvm if k.startswith(ANCHOR_PREFIX)):
        anchor = Anchor.from_json(Role.from_slug(key[len(ANCHOR_PREFIX) :]), nvm[key])
        anchors[anchor.eui] = anchor
        if anchor.ds_point is not None:
            store.add_public_key(anchor.eui, KeyKind.DS, public_key_from_point(anchor.ds_point))
        if anchor.ka_point is not None:
            store.add_public_key(anchor.eui, KeyKind.KA, public_key_from_point(anchor.ka_point))
    return Credentials(eui, store, anchors)
