"""Test-only auth manager: SimpleAuthManager, except that the users named in
``LABELBOX_TEST_DENY_USERS`` may not read DAGs or assets (login, tokens and the UI stay stock).

Enabled in the page tests with ``AIRFLOW__CORE__AUTH_MANAGER=deny_auth_manager.DenyListAuthManager``
(this folder on the api-server's ``PYTHONPATH``).
"""

from __future__ import annotations

import os
from typing import Any

from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager


def _denied(user: Any) -> bool:
    names = os.environ.get("LABELBOX_TEST_DENY_USERS", "").split(",")
    return user.get_name() in {n.strip() for n in names if n.strip()}


class DenyListAuthManager(SimpleAuthManager):
    """Refuses DAG and asset read to the deny-listed users; everything else as SimpleAuthManager."""

    def is_authorized_dag(self, *, method: Any, user: Any, **kwargs: Any) -> bool:
        return not _denied(user) and super().is_authorized_dag(method=method, user=user, **kwargs)

    def is_authorized_asset(self, *, method: Any, user: Any, **kwargs: Any) -> bool:
        return not _denied(user) and super().is_authorized_asset(method=method, user=user, **kwargs)
