"""The console's cookies: a signed session holding the bearer token, a CSRF nonce, the language.

The session cookie holds the bearer token encrypted and authenticated (Fernet: AES-CBC with an
HMAC-SHA256, keyed from the console secret, settings.console_secret, or one derived from the ID hash
key), so a copied cookie neither shows the token nor outlives the working day it is good for; it is
HttpOnly and SameSite=Lax. A
form's CSRF token is the HMAC of the visitor's nonce cookie: a page on another site can neither
read the nonce nor compute the token, so its forged POST is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

SESSION_COOKIE = "ledger_console_session"
NONCE_COOKIE = "ledger_console_nonce"
LANG_COOKIE = "ledger_console_lang"
SESSION_SECONDS = 8 * 3600
LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Signer:
    secret: bytes

    @classmethod
    def from_settings(cls, settings: object) -> Signer:
        explicit = getattr(settings, "console_secret", None)
        if explicit:
            return cls(explicit.encode())
        # Derived, so a deployment that set its ID hash key has a private console secret too.
        base = str(getattr(settings, "id_hash_key", "")).encode()
        return cls(hmac.new(base, b"ledger-console-session", hashlib.sha256).digest())

    def _mac(self, purpose: str, payload: str) -> str:
        return hmac.new(self.secret, f"{purpose}|{payload}".encode(), hashlib.sha256).hexdigest()

    def _fernet(self) -> Fernet:
        key = hmac.new(self.secret, b"console-session-key", hashlib.sha256).digest()
        return Fernet(base64.urlsafe_b64encode(key))

    def session(self, token: str) -> str:
        return self._fernet().encrypt(token.encode()).decode()

    def token_of(self, cookie: str | None) -> str | None:
        """The bearer token of a genuine session cookie less than SESSION_SECONDS old, else None."""
        if not cookie:
            return None
        try:
            return self._fernet().decrypt(cookie.encode(), ttl=SESSION_SECONDS).decode()
        except (InvalidToken, ValueError):
            return None

    def csrf(self, nonce: str) -> str:
        return self._mac("csrf", nonce)

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(self.csrf(nonce or ""), token or "")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def language(cookie: str | None, accept_language: str | None) -> str:
    """The chosen language: the switch's cookie, else the browser's first preference between
    Chinese and English; Chinese by default."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "zh"
