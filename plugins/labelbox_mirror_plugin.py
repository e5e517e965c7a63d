"""Airflow UI plugin: the Labelbox mirror's page, in the nav bar, behind Airflow's auth.

The api-server mounts :func:`labelbox_provider.ui.app.build_app` under ``/labelbox-mirror``;
the UI shows it in the nav bar (``/plugin/labelbox-mirror``, an iframe on the same origin).
Settings (the mirror root, storage options, the freshness threshold) come from the
api-server's environment: see docs/ui.md.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from labelbox_provider.ui.app import URL_PREFIX, URL_ROUTE, build_app


class LabelboxMirrorPlugin(AirflowPlugin):
    """Mounts the mirror's page and API on the api-server and links it from the nav bar."""

    name = "labelbox_mirror"
    fastapi_apps = [{"app": build_app(), "url_prefix": URL_PREFIX, "name": "Labelbox mirror"}]
    external_views = [
        {
            "name": "Labelbox mirror",
            "href": f"{URL_PREFIX}/",
            "destination": "nav",
            "url_route": URL_ROUTE,  # without it the UI neither lists nor embeds the view
            "nav_top_level": True,  # its own button in the sidebar, like Dags and Assets
            "icon": f"{URL_PREFIX}/icon.svg",
        }
    ]
