"""Crypto helpers with the national algorithms (GB/T 39786 密评): SM4-GCM for fields, SM3 for MACs.

All keys derive from the one ``secret_key`` setting with HKDF-SM3, each for one purpose, so a county
manages one secret. Field ciphertexts carry a version prefix so that keys can be rotated later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac as std_hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FIELD_PREFIX = "sm4g1:"
_NONCE = 12
_TAG = 16


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SM3(), length=length, salt=b"countyos", info=purpose.encode()).derive(secret.encode())


def sm3_hmac(key: bytes, data: bytes) -> str:
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize().hex()


class FieldCipher:
    """Encrypts short personal fields (phone numbers, TOTP secrets) with SM4-GCM."""

    def __init__(self, secret: str) -> None:
        self._key = derive_key(secret, "field-encryption", 16)
        self._index_key = derive_key(secret, "blind-index")

    def encrypt(self, plaintext: str) -> str:
        nonce = os.urandom(_NONCE)
        enc = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        ct = enc.update(plaintext.encode()) + enc.finalize()
        return FIELD_PREFIX + base64.urlsafe_b64encode(nonce + ct + enc.tag).decode()

    def decrypt(self, token: str) -> str:
        if not token.startswith(FIELD_PREFIX):
            raise ValueError("not an encrypted field")
        raw = base64.urlsafe_b64decode(token[len(FIELD_PREFIX) :])
        nonce, ct, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
        dec = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        try:
            return (dec.update(ct) + dec.finalize()).decode()
        except InvalidTag as exc:
            raise ValueError("encrypted field failed its integrity check") from exc

    def blind_index(self, value: str) -> str:
        """A keyed hash for exact-match lookup of an encrypted value."""
        return sm3_hmac(self._index_key, value.encode())


def new_token(nbytes: int = 32) -> str:
    return secrets.token_urlsafe(nbytes)


def token_hash(token: str) -> str:
    """Store only hashes of session ids and API tokens."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return std_hmac.compare_digest(a.encode(), b.encode())


def mask_phone(phone: str | None) -> str:
    """138****1234: keep the first three and last four digits."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
