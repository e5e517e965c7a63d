"""The hook: the only code that talks to the Labelbox API.

``labelbox.py`` holds the whole ``LabelboxHook`` class; the wire helpers beside it are
``export_v1`` / ``export_v2`` (request texts, answer parsing), ``transport`` (HTTP, sync and
async), ``errors`` (server answers -> typed exceptions), ``retry`` (the retry predicate and loop,
on tenacity), ``download`` (spool files with byte checks and resume), ``frames`` (video frames),
``settings`` (connection -> validated settings), ``dates`` (export date filters) and ``redact``.
"""

from __future__ import annotations
