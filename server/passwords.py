"""Password rules and password checks that take as long for unknown users as for known ones.

The rules apply to every role, petugas included: a petugas password opens a device token
that reaches the residents of the officer's desa.
"""
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 10
MAX_LENGTH = 256
ZXCVBN_MAX = 72
MIN_SCORE = 3  # zxcvbn 0–4; 3 is "safely unguessable" (≥ 10^8 guesses)
_COMMON = frozenset(FREQUENCY_LISTS["passwords"])  # zxcvbn's 30,000 most common passwords

MSG_LENGTH = f"Kata sandi minimal {MIN_LENGTH} karakter."
MSG_TOO_LONG = f"Kata sandi maksimal {MAX_LENGTH} karakter."
MSG_CHARACTERS = "Kata sandi memuat karakter yang tidak sah."
MSG_GUESSABLE = ("Kata sandi ini terlalu mudah ditebak (kata sandi umum, pola papan ketik, "
                 "urutan, ulangan atau nama pengguna). Pakai beberapa kata yang tidak "
                 "berhubungan, misalnya tiga kata dan satu angka.")

_dummy_hashes: dict[str, str] = {}


def password_problem(password, user_inputs=()):
    """Why this password may not be set, or None when it may.

    password: str; user_inputs: words of the account (username, full name) that must not
    carry the password. Returns an Indonesian message (str) or None.
    """
    if not isinstance(password, str) or len(password) < MIN_LENGTH:
        return MSG_LENGTH
    if len(password) > MAX_LENGTH:
        return MSG_TOO_LONG
    if not _encodable(password) or any(ord(ch) < 32 or ord(ch) == 127 for ch in password):
        return MSG_CHARACTERS
    if password.lower() in _COMMON:
        return MSG_GUESSABLE
    inputs = [word for text in user_inputs if isinstance(text, str) and _encodable(text)
              for word in [text, *text.split()] if word]
    # zxcvbn refuses more than 72 characters and slows down sharply before that: a strong
    # beginning makes the whole password strong.
    if zxcvbn(password[:ZXCVBN_MAX], user_inputs=inputs)["score"] < MIN_SCORE:
        return MSG_GUESSABLE
    return None


def verify_password(password_hash, password):
    """True when password matches password_hash; never raises on odd input.

    password_hash: str, or None for an unknown user: then a dummy hash of the configured
    method is checked, so that an unknown username costs the same time as a wrong password.
    A password that cannot be UTF-8 encoded (a lone surrogate) is checked the same way and
    fails.
    """
    usable = isinstance(password, str) and _encodable(password)
    if password_hash is None or not usable:
        check_password_hash(_dummy_hash(), password if usable else "")
        return False
    return check_password_hash(password_hash, password)


def _dummy_hash():
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    if method not in _dummy_hashes:
        _dummy_hashes[method] = generate_password_hash("not-a-password", method=method)
    return _dummy_hashes[method]


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
