"""What administrators do: users, reset links, the audit log and the statistics of how
MediaNest is used, over auth's services."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.admin.analytics import Analytics
from medianest.admin.pages import install_admin_pages
from medianest.admin.router import router
from medianest.admin.service import AdminService
from medianest.auth.activity import AccountActivity
from medianest.auth.domain import Auth
from medianest.core.domain import Domain
from medianest.core.runtime import Platform


@dataclass(kw_only=True)
class Admin(Domain):
    service: AdminService


def build_admin(platform: Platform, auth: Auth) -> Admin:
    service = AdminService(
        audit=platform.audit,
        users=auth.users,
        account=auth.account,
        analytics=Analytics(AccountActivity()),
    )
    return Admin(name="admin", routers=(router,), pages=install_admin_pages, service=service)
