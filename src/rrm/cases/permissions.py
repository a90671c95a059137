"""Who may do what: the acting user of every operation is resolved and checked here.

Viewers read; analysts edit incidents; leads also close and reopen them, lower their TLP, sign
statements for their organisation and manage users and partners.
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from rrm.cases.models import PartnerRow, UserRow
from rrm.cases.vocab import Role
from rrm.errors import InputError, NotFoundError, PermissionDeniedError

__all__ = ["acting_user", "country_code", "partner_by_code", "require_role"]

_COUNTRY = re.compile(r"^[A-Z]{2}$")


def country_code(text: str, *, field: str = "country") -> str:
    """An ISO 3166-1 alpha-2 country code, upper case."""
    code = text.strip().upper()
    if not _COUNTRY.match(code):
        raise InputError(f"{text!r} is not a two-letter country code (ISO 3166-1 alpha-2)", field=field)
    return code


def require_role(user: UserRow, needed: Role, action: str) -> None:
    role = Role(user.role)
    if not role.allows(needed):
        raise PermissionDeniedError(
            f"{user.name} ({role}) may not {action}: the {needed} role is needed",
            user=user.name, role=role.value, action=action,
        )


def acting_user(session: Session, name: str | None, needed: Role, action: str) -> UserRow:
    """The user named ``name``, checked to hold at least the ``needed`` role for ``action``."""
    if not name:
        raise PermissionDeniedError(
            f"to {action}, say who you are: --user NAME or RRM_USER", user="", role=None, action=action
        )
    user = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
    if user is None:
        raise PermissionDeniedError(
            f"{name!r} is not a user of this RRM (see 'rrm users list'), so may not {action}",
            user=name, role=None, action=action,
        )
    require_role(user, needed, action)
    return user


def partner_by_code(session: Session, code: str) -> PartnerRow:
    partner = session.scalars(select(PartnerRow).where(PartnerRow.code == code.strip().upper())).one_or_none()
    if partner is None:
        raise NotFoundError(f"no partner {code!r} (see 'rrm partners list')")
    return partner
