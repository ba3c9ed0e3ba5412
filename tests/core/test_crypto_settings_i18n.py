from __future__ import annotations

import pytest
from pydantic import ValidationError

from countyos.core import i18n
from countyos.core.crypto import FieldCipher, mask_phone
from countyos.core.errors import NotFound
from countyos.core.settings import Settings


def test_field_cipher_round_trip_and_tamper_detection():
    c = FieldCipher("k" * 40)
    token = c.encrypt("13800001111")
    assert token != c.encrypt("13800001111")  # random nonce
    assert c.decrypt(token) == "13800001111"
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError):
        c.decrypt(tampered)
    assert c.blind_index("x") == FieldCipher("k" * 40).blind_index("x") != FieldCipher("j" * 40).blind_index("x")


def test_mask_phone():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""


def test_production_refuses_placeholder_secrets(monkeypatch):
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(env="prod", secret_key="change-me")
    with pytest.raises(ValidationError, match="32 characters"):
        Settings(env="prod", secret_key="short-but-not-placeholder")
    assert Settings(env="prod", secret_key="x" * 40).env == "prod"
    assert Settings(env="dev").env == "dev"


def test_errors_speak_the_callers_language():
    err = NotFound("User %(id)s does not exist", id=7)
    with i18n.use_locale("en"):
        assert err.message == "User 7 does not exist"
    with i18n.use_locale("zh_CN"):
        assert "7" in err.message and "User" not in err.message
