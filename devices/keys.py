"""A test PKI for a premises: remote parties and devices, keys and SMKI-shaped certificates.

Layer: devices. gbcs-reference.md 1.2-1.3: every party has a DS and a KA P-256 key pair;
organisation certificates name their EUI in x500UniqueIdentifier (and their role in OU),
device certificates in subjectAltName hardwareModuleName. :func:`init_pki` writes a folder
in the keystore layout (``<eui>-{ds,ka}.{pem,key}``, certificates in the ``.pem`` files)
plus ``pki.json`` naming each party's role or device type, so a premises and a head-end
(``smemu send``) can both use it without ../shared. :func:`load_pki` reads such a folder,
or a ../shared/conformance/keystore folder (roles then default to the DCC test identities).

The emulated devices' manufacturer is a party of the folder too: its image signing key is
written like any other DS key (``<eui>-ds.{pem,key}`` under :data:`MANUFACTURER_EUI`) and
``pki.json`` names it (``"manufacturer"``), so the devices of ``smemu up`` trust the images
that ``smemu`` tools sign with it (:meth:`Pki.manufacturer_key`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID, ObjectIdentifier

from smemu.errors import ConfigError, SecurityError
from smemu.firmware.common.credentials import ANCHOR_PREFIX, Anchor, Role, provisioning_writes
from smemu.firmware.common.machine import DeviceType
from smemu.firmware.credentials_use_cases import certificate_writes
from smemu.protocols.gbcs.types import Eui64
from smemu.protocols.security.keys import (
    PrivateKey,
    PublicKey,
    generate_private_key,
    private_key_from_scalar,
    private_scalar,
    public_point,
)
from smemu.protocols.security.keystore import DirectoryKeyStore, InMemoryKeyStore, KeyKind

#: the remote parties of a generated PKI (the DCC test identities, reference 1.2)
DEFAULT_REMOTE_PARTIES: Final[Mapping[Role, Eui64]] = {
    Role.SUPPLIER: Eui64.parse("90-B3-D5-1F-30-01-00-00"),
    Role.NETWORK_OPERATOR: Eui64.parse("90-B3-D5-1F-30-02-00-00"),
    Role.ACCESS_CONTROL_BROKER: Eui64.parse("90-B3-D5-1F-30-00-00-02"),
    Role.OTHER_USER: Eui64.parse("90-B3-D5-1F-30-04-00-00"),
}
PKI_FILE: Final = "pki.json"
#: the EUI-64 the manufacturer's image signing key is filed under in a generated PKI
MANUFACTURER_EUI: Final = Eui64.parse("00-DB-12-FF-FF-FF-FF-F0")
_ORDER: Final = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_X500_UNIQUE_IDENTIFIER: Final = ObjectIdentifier("2.5.4.45")
_HARDWARE_MODULE_NAME: Final = ObjectIdentifier("1.3.6.1.5.5.7.8.4")
#: hwType of GBCS device certificates (reference 1.3)
_HW_TYPE: Final = "1.2.826.0.1.8641679.1.2.2.1"
#: certificate policies of device and organisation certificates (reference 1.3)
_DEVICE_POLICY: Final = ObjectIdentifier("1.2.826.0.1.1800000.1.2.1.4")
_ORG_POLICY: Final = ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.4")
_NOT_BEFORE: Final = datetime(2015, 1, 1, tzinfo=UTC)
_NOT_AFTER: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
#: the issuer name of every certificate the test CA signs
CA_NAME: Final = x509.Name(
    [x509.NameAttribute(NameOID.COMMON_NAME, "smemu test CA", _type=_ASN1Type.PrintableString)]
)
#: labels of the keys a seeded PKI derives besides the parties' own (see :func:`_key`)
_CA_LABEL: Final = "root"
_MANUFACTURER_LABEL: Final = "manufacturer"


def _der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray((40 * arcs[0] + arcs[1],))
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        rest = arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return bytes((0x06, len(body))) + bytes(body)


def _key(seed: bytes | None, label: str) -> PrivateKey:
    """The key a PKI seeded with ``seed`` derives for ``label`` (a random key without a seed)."""
    if seed is None:
        return generate_private_key()
    digest = hashlib.sha256(seed + b"\x00" + label.encode()).digest()
    return private_key_from_scalar(int.from_bytes(digest, "big") % (_ORDER - 1) + 1)


def ca_key(seed: bytes) -> PrivateKey:
    """The CA key that :func:`init_pki` with ``seed`` signs every certificate with."""
    return _key(seed, _CA_LABEL)


def manufacturer_key(seed: bytes) -> PrivateKey:
    """The emulated device manufacturer's image signing key of the PKI seeded with ``seed``.

    Not a party of the PKI folder: the manufacturer signs the firmware images that the
    emulated devices verify before they hold or activate them (CS05 / CS06, ECS/GCS
    firmware distribution).
    """
    return _key(seed, _MANUFACTURER_LABEL)


def issue_certificate(
    ca: PrivateKey,
    public_key: PublicKey,
    eui: Eui64,
    *,
    role: Role | None = None,
    key_agreement: bool = False,
) -> bytes:
    """An SMKI-shaped certificate (DER) over ``public_key`` for ``eui``, signed by ``ca``.

    :param role: the organisation's role (an organisation certificate); None: a device
        certificate (hardwareModuleName ``eui``).
    :param key_agreement: a KA certificate (keyAgreement usage); else DS (digitalSignature).
    """
    cert = _certificate(public_key, ca, eui, role, key_agreement)
    return cert.public_bytes(serialization.Encoding.DER)


def _serial(material: bytes) -> int:
    """A positive 127-bit certificate serial number derived from ``material``."""
    return int.from_bytes(hashlib.sha256(material).digest()[:16], "big") >> 1


def key_identifier(key: PrivateKey | PublicKey) -> bytes:
    """The 8-byte subject / authority key identifier of a key (reference 1.3: SMKI key
    identifiers are 8 bytes; here the first 8 bytes of SHA-256 over the X||Y point)."""
    return hashlib.sha256(public_point(key)).digest()[:8]


def _certificate(
    subject_key: PublicKey, issuer_key: PrivateKey, eui: Eui64, role: Role | None, ka: bool
) -> x509.Certificate:
    """An SMKI-shaped certificate (reference 1.3): key usage, 8-byte SKI, the subject's
    name (organisation) or hardwareModuleName (device), the policy, 8-byte AKI."""
    usage = x509.KeyUsage(
        digital_signature=not ka,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=ka,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    ski = key_identifier(subject_key)
    policy = x509.CertificatePolicies(
        [x509.PolicyInformation(_DEVICE_POLICY if role is None else _ORG_POLICY, None)]
    )
    builder = (
        x509.CertificateBuilder()
        .issuer_name(CA_NAME)
        .public_key(subject_key)
        # 16-byte serial, one per key (a supplier's KA and prepayment KA differ)
        .serial_number(_serial(bytes(eui) + bytes((ka,)) + ski))
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
    )
    if role is not None:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{int(role):02X}"),
                x509.NameAttribute(
                    _X500_UNIQUE_IDENTIFIER, b"\x00" + bytes(eui), _type=_ASN1Type.BitString
                ),
            ]
        )
        builder = builder.subject_name(subject)
    else:
        inner = _der_oid(_HW_TYPE) + b"\x04\x08" + bytes(eui)
        value = bytes((0x30, len(inner))) + inner
        san = x509.SubjectAlternativeName([x509.OtherName(_HARDWARE_MODULE_NAME, value)])
        builder = builder.subject_name(x509.Name([])).add_extension(san, critical=True)
    builder = builder.add_extension(policy, critical=True).add_extension(
        x509.AuthorityKeyIdentifier(key_identifier(issuer_key), None, None), critical=False
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(folder: Path, eui: Eui64, kind: KeyKind, key: PrivateKey, cert: bytes) -> None:
    stem = folder / f"{eui.hex()}-{kind.value}"
    stem.with_suffix(".pem").write_bytes(cert)
    path = stem.with_suffix(".key")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    os.chmod(path, 0o600)


@dataclass(frozen=True, slots=True)
class Pki:
    """A loaded PKI: every key, who is who, and where it lives."""

    folder: Path
    keystore: InMemoryKeyStore
    remote_parties: Mapping[Role, Eui64]
    devices: Mapping[Eui64, DeviceType]
    #: the EUI the manufacturer's image signing key is filed under (None: no manufacturer)
    manufacturer: Eui64 | None = None

    def manufacturer_key(self) -> PrivateKey | None:
        """The manufacturer's image signing key (None: the PKI has none)."""
        if self.manufacturer is None:
            return None
        return self.keystore.ds_private(self.manufacturer)

    def manufacturer_point(self) -> bytes | None:
        """The manufacturer's public image verification point X||Y (what devices trust)."""
        if self.manufacturer is None:
            return None
        key = self.keystore.ds_public(self.manufacturer)
        return None if key is None else public_point(key)

    def certificate(self, eui: Eui64, kind: KeyKind) -> bytes | None:
        """The DER of ``eui``'s certificate of ``kind`` (None: a bare key, or none)."""
        return self._der(eui, kind)

    def anchors(self) -> tuple[Anchor, ...]:
        """Trust anchors for a device: the remote parties' public keys."""
        out = []
        for role, eui in self.remote_parties.items():
            ds = self.keystore.ds_public(eui)
            ka = self.keystore.ka_public(eui)
            out.append(
                Anchor(
                    role,
                    eui,
                    None if ds is None else public_point(ds),
                    None if ka is None else public_point(ka),
                )
            )
        return tuple(out)

    def provisioning(self, eui: Eui64) -> dict[str, bytes]:
        """NVM entries installing ``eui``'s own keys and certificates and the trust anchors.

        Besides the key pairs and anchors (:func:`provisioning_writes`): the device's own DS
        and KA certificates (a meter answers CS02e with them), and the supplier's prepayment
        top-up KA public key (the ``pp`` point of its anchor: a meter derives the UTRN key
        from it, reference 6.1).

        :raises SecurityError: the PKI holds no private keys for the device.
        """
        ds = self.keystore.ds_private(eui)
        ka = self.keystore.ka_private(eui)
        if ds is None or ka is None:
            raise SecurityError(f"the PKI in {self.folder} has no private keys for {eui}")
        writes = provisioning_writes(private_scalar(ds), private_scalar(ka), self.anchors())
        writes.update(certificate_writes(self._der(eui, KeyKind.DS), self._der(eui, KeyKind.KA)))
        for role, party in self.remote_parties.items():
            pp = self.keystore.pp_ka_public(party)
            key = ANCHOR_PREFIX + role.slug
            if pp is not None and key in writes:
                anchor = json.loads(writes[key])
                anchor["pp"] = public_point(pp).hex()
                writes[key] = json.dumps(anchor, sort_keys=True).encode()
        return writes

    def _der(self, eui: Eui64, kind: KeyKind) -> bytes | None:
        """The DER of ``eui``'s certificate in the PKI folder (None: a bare key or none)."""
        path = self.folder / f"{eui.hex()}-{kind.value}.pem"
        try:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
        except (OSError, ValueError):
            return None
        return cert.public_bytes(serialization.Encoding.DER)

    def to_json(self) -> dict[str, object]:
        obj: dict[str, object] = {
            "remote_parties": {r.slug: e.hex() for r, e in self.remote_parties.items()},
            "devices": {e.hex(): t.value for e, t in self.devices.items()},
        }
        if self.manufacturer is not None:
            obj["manufacturer"] = self.manufacturer.hex()
        return obj


def _write_manufacturer(folder: Path, ca: PrivateKey, key: PrivateKey) -> None:
    """File the manufacturer's image signing key as :data:`MANUFACTURER_EUI`'s DS key."""
    cert = _certificate(key.public_key(), ca, MANUFACTURER_EUI, None, False)
    _write_key(
        folder, MANUFACTURER_EUI, KeyKind.DS, key, cert.public_bytes(serialization.Encoding.PEM)
    )


def init_pki(
    folder: Path,
    devices: Mapping[Eui64, DeviceType],
    *,
    remote_parties: Mapping[Role, Eui64] = DEFAULT_REMOTE_PARTIES,
    seed: bytes | None = None,
) -> Pki:
    """Generate keys and certificates for ``remote_parties`` and ``devices`` into ``folder``.

    The manufacturer's image signing key is written too (:data:`MANUFACTURER_EUI`); with a
    seed it is :func:`manufacturer_key` of that seed.

    :param seed: derive every key from this seed (reproducible); random keys without it.
    :raises ConfigError: ``folder`` already holds a PKI, or a party uses the manufacturer's EUI.
    """
    if MANUFACTURER_EUI in devices or MANUFACTURER_EUI in remote_parties.values():
        raise ConfigError(f"{MANUFACTURER_EUI} is the manufacturer's EUI; give the party another")
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / PKI_FILE).exists():
        raise ConfigError(f"{folder} already holds a PKI ({PKI_FILE}); use another folder")
    ca = _key(seed, _CA_LABEL)
    _write_manufacturer(folder, ca, _key(seed, _MANUFACTURER_LABEL))
    parties: list[tuple[Eui64, Role | None]] = [(e, r) for r, e in remote_parties.items()]
    parties += [(e, None) for e in devices]
    for eui, role in parties:
        # a supplier also has a prepayment top-up KA key pair (reference 6.1: UTRNs)
        kinds = (KeyKind.DS, KeyKind.KA) + ((KeyKind.PP_KA,) if role is Role.SUPPLIER else ())
        for kind in kinds:
            key = _key(seed, f"{eui.hex()}-{kind.value}")
            cert = _certificate(key.public_key(), ca, eui, role, kind is not KeyKind.DS)
            _write_key(folder, eui, kind, key, cert.public_bytes(serialization.Encoding.PEM))
    pki = Pki(
        folder, InMemoryKeyStore(), dict(remote_parties), dict(devices), MANUFACTURER_EUI
    )
    (folder / PKI_FILE).write_text(json.dumps(pki.to_json(), indent=2, sort_keys=True) + "\n")
    return load_pki(folder)


def add_devices(pki: Pki, devices: Iterable[tuple[Eui64, DeviceType]]) -> Pki:
    """Add key pairs for devices the PKI does not know yet (random keys); return the new PKI."""
    known = dict(pki.devices)
    ca = generate_private_key()
    changed = False
    for eui, kind_of in devices:
        if eui in known and pki.keystore.ds_private(eui) is not None:
            continue
        for kind in (KeyKind.DS, KeyKind.KA):
            key = generate_private_key()
            cert = _certificate(key.public_key(), ca, eui, None, kind is KeyKind.KA)
            _write_key(pki.folder, eui, kind, key, cert.public_bytes(serialization.Encoding.PEM))
        known[eui] = kind_of
        changed = True
    if not changed:
        return pki
    updated = Pki(pki.folder, pki.keystore, pki.remote_parties, known, pki.manufacturer)
    (pki.folder / PKI_FILE).write_text(json.dumps(updated.to_json(), indent=2, sort_keys=True))
    return load_pki(pki.folder)


def add_manufacturer(pki: Pki, seed: bytes | None = None) -> Pki:
    """Give a PKI made before manufacturers were filed (no ``"manufacturer"`` in
    ``pki.json``) the manufacturer's key: :func:`manufacturer_key` of ``seed``, a random key
    without one. A PKI that has a manufacturer, or one without ``pki.json`` (a reference
    keystore, read-only), is returned as it is."""
    if pki.manufacturer is not None or not (pki.folder / PKI_FILE).exists():
        return pki
    if pki.keystore.ds_private(MANUFACTURER_EUI) is None:
        _write_manufacturer(pki.folder, generate_private_key(), _key(seed, _MANUFACTURER_LABEL))
    updated = Pki(pki.folder, pki.keystore, pki.remote_parties, pki.devices, MANUFACTURER_EUI)
    (pki.folder / PKI_FILE).write_text(json.dumps(updated.to_json(), indent=2, sort_keys=True))
    return load_pki(pki.folder)


def load_pki(folder: Path) -> Pki:
    """Read a PKI folder (``pki.json`` optional: the DCC test identities otherwise).

    :raises SecurityError: unreadable keys; :raises ConfigError: a malformed ``pki.json``.
    """
    store = DirectoryKeyStore.load(folder)
    remote: dict[Role, Eui64] = {}
    devices: dict[Eui64, DeviceType] = {}
    manufacturer: Eui64 | None = None
    meta = folder / PKI_FILE
    if meta.exists():
        try:
            obj = json.loads(meta.read_text())
            for slug, eui in obj.get("remote_parties", {}).items():
                remote[Role.from_slug(slug)] = Eui64.parse(eui)
            for eui, kind in obj.get("devices", {}).items():
                devices[Eui64.parse(eui)] = DeviceType(kind)
            if obj.get("manufacturer") is not None:
                manufacturer = Eui64.parse(str(obj["manufacturer"]))
        except (ValueError, AttributeError, SecurityError) as exc:
            raise ConfigError(f"{meta}: {exc}") from exc
    else:
        remote = {r: e for r, e in DEFAULT_REMOTE_PARTIES.items() if e in store.euis()}
    if manufacturer is not None and store.ds_private(manufacturer) is None:
        raise ConfigError(f"{meta}: no key file for the manufacturer {manufacturer}")
    return Pki(folder, store, remote, devices, manufacturer)

