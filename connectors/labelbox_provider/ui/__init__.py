"""The mirror's page in Airflow's UI: what it shows (status) and how (page), served by app.

``plugins/labelbox_mirror_plugin.py`` mounts :func:`labelbox_provider.ui.app.build_app` on the
api-server; docs/ui.md describes the page, its settings and its access rule.
"""

from __future__ import annotations
