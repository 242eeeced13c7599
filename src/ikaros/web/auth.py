"""Users, passwords and projects.

Passwords are hashed with scrypt (RFC 7914; N=2^14, r=8, p=1, 16-byte random salt) from the
standard library and compared in constant time. A password change ends every login session of
the user. On an open loopback server (127.0.0.1 or ::1 without ``--require-auth``) every request
acts as the built-in user ``local``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ikaros.errors import InputError
from ikaros.web.models import Project, ProjectMember, User
from ikaros.web.sessions import revoke_user_sessions

__all__ = [
    "LOCAL_USER",
    "TOKEN_USER",
    "add_user",
    "authenticate",
    "ensure_user",
    "hash_password",
    "set_password",
    "user_project_ids",
    "verify_password",
]

LOCAL_USER = "local"
TOKEN_USER = "token"
_N, _R, _P = 2**14, 8, 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_DUMMY_HASH: list[str] = []


def authenticate(session: Session, name: str, password: str) -> User | None:
    """The account ``name`` if ``password`` is its password, else None.

    Unknown and malformed names cost one scrypt evaluation too, so the answer time does not tell
    whether an account exists; a malformed name never reaches the database.
    """
    user = (
        session.scalar(select(User).where(User.name == name))
        if _NAME.fullmatch(name) and name not in (LOCAL_USER, TOKEN_USER)
        else None
    )
    if user is None or not user.password_hash:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hash_password(secrets.token_urlsafe(16)))
        verify_password(password, _DUMMY_HASH[0])
        return None
    return user if verify_password(password, user.password_hash) else None


def _with_project(session: Session, user: User) -> User:
    project = Project(name=f"{user.name}'s project")
    session.add(project)
    session.flush()
    session.add(ProjectMember(project_id=project.id, user_id=user.id))
    return user


def ensure_user(session: Session, name: str) -> User:
    """The user ``name`` (a built-in one without password), created with a project if new."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name, password_hash=None)
        session.add(user)
        session.flush()
        _with_project(session, user)
    return user


def _check_new_password(password: str) -> None:
    if len(password) < 8:
        raise InputError("the password is shorter than 8 characters", remedy="choose a longer one")
    if len(password) > 1024:
        raise InputError(
            "the password is longer than 1024 characters", remedy="choose a shorter one"
        )


def set_password(session: Session, name: str, password: str) -> int:
    """Give the account ``name`` a new password and end all its sessions (returns how many)."""
    user = (
        session.scalar(select(User).where(User.name == name))
        if _NAME.fullmatch(name) and name not in (LOCAL_USER, TOKEN_USER)
        else None
    )
    if user is None or user.password_hash is None:
        raise InputError(
            f"there is no user account {name!r}",
            remedy="check the name (and --data-dir); create accounts with `ikaros user add NAME`",
        )
    _check_new_password(password)
    user.password_hash = hash_password(password)
    return revoke_user_sessions(session, user.id)


def add_user(session: Session, name: str, password: str) -> User:
    """Create a user account with its own project."""
    if not _NAME.fullmatch(name) or name in (LOCAL_USER, TOKEN_USER):
        raise InputError(
            f"user name {name!r} is not allowed",
            remedy="use 1-64 letters, digits, '_', '.', '@' or '-' (not 'local' or 'token')",
        )
    _check_new_password(password)
    if session.scalar(select(User).where(User.name == name)) is not None:
        raise InputError(f"user {name!r} exists already", remedy="choose another name")
    user = User(name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return _with_project(session, user)


def user_project_ids(session: Session, user_id: int) -> list[str]:
    rows = session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_id == user_id))
    return sorted(rows)


def has_accounts(session: Session) -> bool:
    """Whether any user with a password exists."""
    return (
        session.scalar(select(User.id).where(User.password_hash.is_not(None)).limit(1)) is not None
    )
