"""Chunked AEAD for envelope payloads (SM4-GCM, AES-256-GCM) and background hashing.

Chunk ``c`` of file ``i`` in envelope ``E``::

    nonce = i (4 bytes, big-endian) ‖ c (8 bytes, big-endian)
    aad   = E (the 16 raw bytes of the envelope id) ‖ i (4 bytes) ‖ c (8 bytes) ‖ final (1 byte)
    stored = ciphertext ‖ tag (16 bytes)

The content key is fresh per envelope, so a (file, chunk) pair never repeats a nonce under a key.
"""

from __future__ import annotations

import queue
import struct
import threading
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ggzy_client.envelope_format import TAG_SIZE
from ggzy_client.keys import new_hash

KEY_SIZES = {"sm4-gcm": 16, "aes-256-gcm": 32}
DEFAULT_DIGEST = {"sm4-gcm": "sm3", "aes-256-gcm": "sha256"}


def nonce(file_index: int, chunk_index: int) -> bytes:
    return struct.pack(">IQ", file_index, chunk_index)


def aad(envelope_id: bytes, file_index: int, chunk_index: int, final: bool) -> bytes:
    return envelope_id + struct.pack(">IQB", file_index, chunk_index, 1 if final else 0)


class ChunkCipher:
    """One content key, one cipher; ``seal``/``open`` one chunk (``open`` raises ``InvalidTag``)."""

    def __init__(self, cipher: str, key: bytes) -> None:
        if len(key) != KEY_SIZES[cipher]:
            raise ValueError(f"{cipher} needs a {KEY_SIZES[cipher]}-byte key")
        self.cipher = cipher
        self._key = key
        self._aes = AESGCM(key) if cipher == "aes-256-gcm" else None

    def seal(self, nonce_: bytes, data: bytes | memoryview, aad_: bytes) -> bytes:
        if self._aes is not None:
            return self._aes.encrypt(nonce_, data, aad_)
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce_)).encryptor()
        enc.authenticate_additional_data(aad_)
        body = enc.update(data) + enc.finalize()
        return body + enc.tag

    def open(self, nonce_: bytes, data: bytes, aad_: bytes) -> bytes:
        if len(data) < TAG_SIZE:
            raise InvalidTag()
        if self._aes is not None:
            return self._aes.decrypt(nonce_, data, aad_)
        body, tag = memoryview(data)[:-TAG_SIZE], bytes(data[-TAG_SIZE:])
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce_, tag)).decryptor()
        dec.authenticate_additional_data(aad_)
        return dec.update(body) + dec.finalize()


class HashWorker:
    """A digest computed on a background thread (``hashlib`` and ``cryptography`` release the
    GIL while hashing, so this overlaps with encryption on another core). ``feed`` takes
    immutable bytes; at most ``depth`` pieces wait, bounding memory."""

    _STOP: Any = object()

    def __init__(self, alg: str, depth: int = 4) -> None:
        self._hash = new_hash(alg)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not self._STOP:
            self._hash.update(item)

    def feed(self, data: bytes) -> None:
        self._queue.put(data)

    def hexdigest(self) -> str:
        self._queue.put(self._STOP)
        self._thread.join()
        return self._hash.finish().hex()

    def close(self) -> None:
        """Stop the thread without a result (on an error path)."""
        if self._thread.is_alive():
            self._queue.put(self._STOP)
            self._thread.join()
