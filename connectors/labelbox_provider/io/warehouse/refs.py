"""Which batches to load: references to committed batches, from Asset events or manifests.

Pure helpers (no Airflow import): the load DAG hands them its ``triggering_asset_events`` and
gets back exactly the batches those events announced, each once, oldest extraction first.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from labelbox_provider.state.codec import JsonRecord
from labelbox_provider.state.ledger import LEDGER_DIR

_MANIFEST_RE = re.compile(
    r"^(?P<root>.*)/project=(?P<project>[^/]+)/" + LEDGER_DIR + r"/(?P<batch>[^/]+)\.json$"
)


@dataclass(frozen=True)
class BatchRef(JsonRecord):
    """Where one committed batch lives: the mirror root, its project and its batch id.

    Its ``to_dict()`` is what the load DAG passes between tasks.
    """

    root: str  # local folder or fsspec URL of the mirror
    project_id: str  # Labelbox project id
    batch_id: str  # deterministic batch id (its manifest is _ledger/<batch_id>.json)

    @classmethod
    def from_manifest_url(cls, url: str) -> BatchRef:
        """Parse ``<root>/project=<id>/_ledger/<batch_id>.json`` (a path or any fsspec URL).

        >>> BatchRef.from_manifest_url("s3://b/m/project=p1/_ledger/x.json").root
        's3://b/m'
        """
        match = _MANIFEST_RE.match(url.rstrip())
        if match is None:
            raise ValueError(f"not a batch manifest location: {url!r}")
        root = match["root"] or "/"
        return cls(root, match["project"], match["batch"])

    @classmethod
    def from_event_extra(cls, extra: Mapping[str, Any]) -> BatchRef:
        """The batch an Asset event of the mirror announces (its ``extra``)."""
        if "manifest" not in extra:
            raise ValueError(f"asset event extra has no manifest location: keys {sorted(extra)}")
        ref = cls.from_manifest_url(str(extra["manifest"]))
        for key in ("project_id", "batch_id"):
            if key in extra and extra[key] != getattr(ref, key):
                raise ValueError(f"asset event {key} {extra[key]!r} disagrees with its manifest")
        return ref

    @property
    def manifest_url(self) -> str:
        """Location of the batch's manifest."""
        return posixpath.join(
            self.root, f"project={self.project_id}", LEDGER_DIR, f"{self.batch_id}.json"
        )


def refs_from_events(events: Mapping[Any, Sequence[Any]] | None) -> list[BatchRef]:
    """The batches announced by triggering Asset events, each once, oldest extraction first.

    ``events`` maps an Asset to its events (Airflow's ``triggering_asset_events``); each event
    has an ``extra`` dict. Events that are not mirror batch events (no ``manifest``) are
    ignored, so the DAG may also be scheduled on other Assets.
    """
    found: dict[BatchRef, str] = {}
    for asset_events in (events or {}).values():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            if "manifest" in extra:
                ref = BatchRef.from_event_extra(extra)
                found[ref] = max(found.get(ref, ""), str(extra.get("extracted_at", "")))
    return sorted(found, key=lambda r: (found[r], r.project_id, r.batch_id))


def refs_from_conf(batches: Iterable[Any]) -> list[BatchRef]:
    """Batches named in a run's conf: manifest locations or ``{root, project_id, batch_id}``."""
    out = []
    for item in batches:
        if isinstance(item, str):
            out.append(BatchRef.from_manifest_url(item))
        else:
            out.append(BatchRef.from_dict(item))
    return list(dict.fromkeys(out))
