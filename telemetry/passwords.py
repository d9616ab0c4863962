"""Password rules for dashboard accounts: long enough, not common, not guessable.

Every password that is set (CLI, first start, any form) passes
:func:`check_password_rules`: at least 12 characters, and rated at least
"safely unguessable" (score 3 of 4) by zxcvbn, whose dictionaries include the
common-password lists; the username and display name count as known words.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 12
# zxcvbn's score 3: about 10^8 guesses or more ("safely unguessable" online).
MIN_STRENGTH = 3
# bcrypt only looks at the first 72 bytes and bcrypt 5 refuses longer input.
MAX_PASSWORD_BYTES = 72
RULES_TEXT = (
    f"at least {MIN_PASSWORD_LENGTH} characters, not a common password, not easy to guess; "
    "four unrelated words work well, or let the CLI generate one"
)


class PasswordRejected(ValueError):
    """A password that may not be used; the message says why and what to do."""


def check_password_rules(password: str, *, known_words: Iterable[str] = ()) -> None:
    """Raise :class:`PasswordRejected` when ``password`` cannot be used, saying why."""
    if password != password.strip():
        # The login form strips what is typed, so such a password could never match.
        raise PasswordRejected("the password starts or ends with a space; remove it")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(
            f"the password has {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}"
        )
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise PasswordRejected(f"the password is longer than {MAX_PASSWORD_BYTES} bytes")
    rating = zxcvbn(password, user_inputs=[word for word in known_words if word])
    if _is_common(rating):
        raise PasswordRejected(
            f"the password is in a list of common passwords. Choose another: {RULES_TEXT}"
        )
    if rating["score"] < MIN_STRENGTH:
        raise PasswordRejected(
            f"the password is too easy to guess (strength {rating['score']} of 4, "
            f"{MIN_STRENGTH} needed).{_advice(rating)} Choose another: {RULES_TEXT}"
        )


def generate_password() -> str:
    """A random password for a new account (96 random bits, 16 URL-safe characters)."""
    while True:
        password = secrets.token_urlsafe(12)
        try:
            check_password_rules(password)
        except PasswordRejected:  # a random run like "aaaa..." is vanishingly rare
            continue
        return password


def _is_common(rating: dict) -> bool:
    """The whole password is one entry of zxcvbn's common-password list."""
    sequence = rating.get("sequence") or []
    return (
        len(sequence) == 1
        and sequence[0].get("pattern") == "dictionary"
        and sequence[0].get("dictionary_name") == "passwords"
    )


def _advice(rating: dict) -> str:
    feedback = rating.get("feedback") or {}
    words = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
    text = " ".join(word.strip() for word in words if word.strip())
    return f" {text}" if text else ""
