"""Partners (organisations) and their local users with roles. The very first user of an empty
database may be created without an acting user (the bootstrap): it must be a lead.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from rrm.cases.audit import record
from rrm.cases.db import CasesDB
from rrm.cases.models import PartnerRow, UserRow
from rrm.cases.permissions import acting_user, country_code, partner_by_code
from rrm.cases.values import Partner, User
from rrm.cases.vocab import Role
from rrm.errors import ConflictError, InputError, PermissionDeniedError

__all__ = ["add_partner", "add_user", "list_partners", "list_users"]

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")


def _partner(row: PartnerRow) -> Partner:
    return Partner(code=row.code, name=row.name, country=row.country)


def _user(row: UserRow) -> User:
    return User(name=row.name, role=Role(row.role), partner=row.partner.code)


def add_partner(db: CasesDB, actor: str | None, code: str, *, name: str, country: str) -> Partner:
    """Add a partner organisation. A lead adds partners; an empty database accepts the first one."""
    if not _CODE.match(code.strip()):
        raise InputError(f"{code!r} is not a partner code (letters, digits, '-', '_', '.')", field="code")
    if not name.strip():
        raise InputError("a partner needs a name", field="name")
    with db.transaction() as session:
        bootstrap = session.scalar(select(func.count()).select_from(UserRow)) == 0
        who = actor or "(bootstrap)"
        if not bootstrap:
            who = acting_user(session, actor, Role.LEAD, "add partners").name
        row = PartnerRow(code=code.strip().upper(), name=name.strip(), country=country_code(country))
        session.add(row)
        try:
            session.flush()
        except IntegrityError as error:
            raise ConflictError(f"partner {row.code} already exists") from error
        record(session, who, "partner.add", f"partner {row.code}", after={"name": row.name, "country": row.country})
        return _partner(row)


def add_user(db: CasesDB, actor: str | None, name: str, *, role: Role, partner: str) -> User:
    """Add a local user. A lead adds users; the first user of an empty database must be a lead."""
    if not _NAME.match(name):
        raise InputError(f"{name!r} is not a user name (letters, digits, '.', '_', '-', '@')", field="name")
    with db.transaction() as session:
        bootstrap = session.scalar(select(func.count()).select_from(UserRow)) == 0
        if bootstrap:
            if role is not Role.LEAD:
                raise PermissionDeniedError(
                    "the first user must be a lead, who then adds the others",
                    user=name, role=role.value, action="add the first user",
                )
            who = actor or name
        else:
            who = acting_user(session, actor, Role.LEAD, "add users").name
        row = UserRow(name=name, role=role.value, partner=partner_by_code(session, partner))
        session.add(row)
        try:
            session.flush()
        except IntegrityError as error:
            raise ConflictError(f"user {name} already exists") from error
        record(session, who, "user.add", f"user {name}", after={"role": role.value, "partner": row.partner.code})
        return _user(row)


def list_partners(db: CasesDB) -> list[Partner]:
    with db.transaction() as session:
        return [_partner(row) for row in session.scalars(select(PartnerRow).order_by(PartnerRow.code))]


def list_users(db: CasesDB) -> list[User]:
    with db.transaction() as session:
        return [_user(row) for row in session.scalars(select(UserRow).order_by(UserRow.name))]
