"""Build a :class:`~labelbox_provider.hooks.labelbox.LabelboxHook` for use without Airflow.

Either an Airflow connection id (``--conn-id``: read from ``AIRFLOW_CONN_<ID>`` or any
configured secrets backend, no database needed for env vars), or an explicit ``--endpoint``
with the API key taken from the ``LABELBOX_API_KEY`` environment variable. The key is never a
command-line flag: flags land in shell history and in ``ps`` output.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from labelbox_provider.exceptions import CliError

if TYPE_CHECKING:
    from labelbox_provider.hooks.labelbox import LabelboxHook

API_KEY_ENV = "LABELBOX_API_KEY"  # where the CLI reads the API key


def check_endpoint(endpoint: str) -> str:
    """The full GraphQL URL of ``endpoint``; a clear error if it is not an http(s) URL."""
    from labelbox_provider.exceptions import LabelboxConfigError
    from labelbox_provider.hooks.settings import resolve_endpoint

    try:
        return resolve_endpoint(endpoint)
    except LabelboxConfigError as exc:
        raise CliError(f"--endpoint: {exc}") from None


def api_key_from_env() -> str:
    """The API key from ``LABELBOX_API_KEY``; refused when missing or blank."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise CliError(
            f"set the API key in the environment variable {API_KEY_ENV} "
            "(it is never taken from the command line), or use --conn-id"
        )
    return key


def build_hook(
    *, endpoint: str | None, conn_id: str | None, tuning: dict[str, Any] | None = None
) -> LabelboxHook:
    """A hook for ``conn_id``, or for ``endpoint`` + ``$LABELBOX_API_KEY``. Sends nothing."""
    from labelbox_provider.hooks.labelbox import LabelboxHook

    if conn_id is not None:
        return LabelboxHook(conn_id, **(tuning or {}))
    url = check_endpoint(endpoint or "https://api.labelbox.com")
    return LabelboxHook.from_credentials(api_key_from_env(), url, **(tuning or {}))
