"""The simulated world: organisation, projects, labels, a clock, a timeline and its records.

``model`` holds `World`, the world's one entry point; the plain types of its API are in ``api``.
The rest are its parts: ``setup`` (organisation, users, projects), ``ontology``, ``content`` and
``geometry`` (what a label holds), ``timeline`` and ``events`` (state and what activity does to
it), ``views`` (format-neutral views of a data row and a label), ``query`` (filters and ground
truth), ``ids``, and the export records rendered from the views: ``v1_records`` (spec section
3), ``v2_annotations`` and ``v2_records`` (spec section 4.7).
"""

from __future__ import annotations

from labelbox_provider.emulator.world.api import (
    ALL_MEDIA_TYPES,
    EVENT_KINDS,
    LLM_MEDIA_TYPES,
    V1_ERAS,
    ExportFilter,
    ProjectInfo,
    V2Params,
)
from labelbox_provider.emulator.world.model import World

__all__ = [
    "ALL_MEDIA_TYPES",
    "EVENT_KINDS",
    "LLM_MEDIA_TYPES",
    "V1_ERAS",
    "ExportFilter",
    "ProjectInfo",
    "V2Params",
    "World",
]
