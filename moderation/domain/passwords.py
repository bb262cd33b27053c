"""What makes a moderator's password acceptable."""

from __future__ import annotations

from moderation.domain.errors import N_, InvalidInput

MIN_PASSWORD_LENGTH = 10

#: A few of the most common passwords of at least the minimum length.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "password123",
        "password12",
        "password1234",
        "qwertyuiop",
        "1q2w3e4r5t",
        "iloveyou12",
        "administrator",
        "letmein123",
        "abcdefghij",
        "aaaaaaaaaa",
    }
)


def check_password_strength(password: str, username: str = "") -> None:
    """Refuse empty, short, common or username-like passwords with a one-line reason."""
    if not password or not password.strip():
        raise InvalidInput(N_("The password is empty."))
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            N_("The password is too short: use at least %(min)d characters."),
            min=MIN_PASSWORD_LENGTH,
        )
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        raise InvalidInput(N_("The password is too easy to guess; choose another."))
    if username and username.lower() in lowered:
        raise InvalidInput(N_("The password must not contain the username."))


def clean_username(value: str) -> str:
    """Usernames: 1-64 printable characters without spaces."""
    username = value.strip()
    if not username or len(username) > 64 or any(ch.isspace() for ch in username):
        raise InvalidInput(
            N_("Invalid username %(name)r: 1-64 characters without spaces."), name=value
        )
    if not username.isprintable():
        raise InvalidInput(N_("Invalid username: control characters are not allowed."))
    return username
