"""Benchmarks for users sizing a lab: the codec against the cryptography it cannot avoid.

Layer: hil. ``codec`` times the product path (decode, verify signature and MAC, decrypt,
re-encode) over a corpus, then the bare ECDSA / KDF / GMAC / AES-GCM calls the same corpus
needs, in the same run, and reports their ratio (performance.md: ratios, never absolutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from smemu.protocols.gbcs import decrypt, frame, secure
from smemu.protocols.gbcs.frame import MacProtectedMessage
from smemu.protocols.gbcs.inspect import inspect_bytes
from smemu.protocols.security import ecdsa, gcm, kdf
from smemu.protocols.security.keystore import KeyStore
from smemu.protocols.text import parse_message_text


def load_corpus(folder: Path) -> list[bytes]:
    """Every message of every ``*.HEX`` file below ``folder``, as bytes (read once, untimed)."""
    messages = []
    for path in sorted(folder.rglob("*.HEX")):
        messages.extend(parse_message_text(path.read_text()))
    return messages


def _mac_floor(secret: bytes, info: bytes, originator: bytes, aad: bytes) -> bytes:
    return gcm.gmac(kdf.derive_key(secret, info), originator, aad)


def _crypto_plan(
    corpus: list[bytes], store: KeyStore, *, decryption: bool
) -> list[Callable[[], object]]:
    """The crypto calls the corpus needs, with every input prepared beforehand.

    Shared secrets come from the store's cache, as on the product path once warm. With
    ``decryption`` the AES-GCM decryption of encrypted payloads is included.
    """
    calls: list[Callable[[], object]] = []
    for data in corpus:
        located = frame.locate(data)
        message = located.message
        inner = frame.signing_message(message)
        if inner is None:
            continue
        header = inner.header
        if inner.signature:
            public = store.ds_public(header.originator)
            if public is not None:
                calls.append(partial(ecdsa.verify, public, located.signed_data, inner.signature))
        if isinstance(message, MacProtectedMessage):
            aad = secure.mac_aad(message.security_control, located.signing_apdu)
            secret = store.shared_secret(*secure.mac_key_pairs(inner)[0])
            if secret is not None:
                info = kdf.other_info(
                    header.originator, header.cra, header.originator_counter, header.recipient
                )
                calls.append(partial(_mac_floor, secret, info, header.originator, aad))
        blocks = decrypt.ciphered_blocks(inner) if decryption else []
        key = decrypt.encryption_key(inner, store) if blocks else None
        if key is not None:
            calls.extend(partial(gcm.decrypt_block, key, header.originator, b) for b in blocks)
    return calls


@dataclass(frozen=True, slots=True)
class CodecBench:
    """Figures of one ``bench codec`` run (seconds are the best of the repetitions)."""

    messages: int
    corpus_s: float  #: decode + verify signature and MAC + re-encode
    crypto_floor_s: float  #: ECDSA verify + KDF + GMAC only
    repetitions: int
    #: the same two figures with payload decryption on both sides
    corpus_decrypt_s: float = 0.0
    crypto_floor_decrypt_s: float = 0.0

    @property
    def ratio(self) -> float:
        return self.corpus_s / self.crypto_floor_s if self.crypto_floor_s else float("inf")

    @property
    def ratio_with_decryption(self) -> float:
        floor = self.crypto_floor_decrypt_s
        return self.corpus_decrypt_s / floor if floor else float("inf")

    def as_json(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "corpus_s": round(self.corpus_s, 6),
            "crypto_floor_s": round(self.crypto_floor_s, 6),
            "ratio": round(self.ratio, 3),
            "corpus_with_decryption_s": round(self.corpus_decrypt_s, 6),
            "crypto_floor_with_decryption_s": round(self.crypto_floor_decrypt_s, 6),
            "ratio_with_decryption": round(self.ratio_with_decryption, 3),
            "repetitions": self.repetitions,
            "clock": "thread CPU time",
            "per_message_us": round(self.corpus_s / max(self.messages, 1) * 1e6, 2),
        }


def _seconds(work: Callable[[], object]) -> float:
    # Thread CPU time, not wall time: on a shared machine another process taking the core
    # mid-pass would otherwise land on whichever figure was running (performance.md: the
    # machines are noisy). Both figures are single-threaded, so nothing is left out.
    start = time.thread_time()
    work()
    return time.thread_time() - start


def bench_codec(
    corpus: list[bytes],
    store: KeyStore,
    *,
    repetitions: int = 7,
    progress: Callable[[str], None] | None = None,
) -> CodecBench:
    """Run the codec benchmark: alternate corpus and floor passes so noise hits both alike."""

    def corpus_pass() -> None:
        for data in corpus:
            inspect_bytes(data, store, decrypt=False)

    def corpus_decrypt_pass() -> None:
        for data in corpus:
            inspect_bytes(data, store)

    corpus_decrypt_pass()  # warm: fills the ECDH cache, as a running lab would have it
    plan = _crypto_plan(corpus, store, decryption=False)
    plan_decrypt = _crypto_plan(corpus, store, decryption=True)

    def floor_pass() -> None:
        for call in plan:
            call()

    def floor_decrypt_pass() -> None:
        for call in plan_decrypt:
            call()

    best = [float("inf")] * 4
    passes = (corpus_pass, floor_pass, corpus_decrypt_pass, floor_decrypt_pass)
    for rep in range(1, repetitions + 1):
        # interleaved, so that noise on the machine hits every figure alike
        for i, work in enumerate(passes):
            best[i] = min(best[i], _seconds(work))
        if progress:
            times = f"corpus {best[0]:.4f} s, floor {best[1]:.4f} s"
            progress(f"repetition {rep}/{repetitions}: {times}")
    return CodecBench(len(corpus), best[0], best[1], repetitions, best[2], best[3])
