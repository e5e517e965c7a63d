"""The mirror pipeline without Airflow: plan, export, wait, download, flatten, commit.

- :mod:`~labelbox_provider.pipeline.run`: :class:`MirrorPipeline`, the run loop;
- :mod:`~labelbox_provider.pipeline.export`: the format-specific export steps (v1, v2);
- :mod:`~labelbox_provider.pipeline.commit`: flattening an export, committing its batch;
- :mod:`~labelbox_provider.pipeline.reconcile`: the tombstones run;
- :mod:`~labelbox_provider.pipeline.config`: the validated configuration and its defaults;
- :mod:`~labelbox_provider.pipeline.types`: export references, poll states, results.
"""

from __future__ import annotations
