"""Construction of the world's fixed parts: organisation, users, API key, projects.

Project *state* (labels, data rows) is not built here: :meth:`Setup.populated` builds it on
first use, so constructing a world with large projects is instant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from labelbox_provider.emulator.world.api import ALL_MEDIA_TYPES, LLM_MEDIA_TYPES
from labelbox_provider.emulator.world.ids import b36, digest, hashed_id
from labelbox_provider.emulator.world.ontology import build_ontology
from labelbox_provider.emulator.world.timeline import ProjectState, populate
from labelbox_provider.emulator.world.views import ProjectCtx

_USER_NAMES = ("Ada Admin", "Lena Labeler", "Raj Reviewer", "Kim Keypoint")  # user 0 = API user
_ALL_MEDIA = frozenset(ALL_MEDIA_TYPES) | frozenset(LLM_MEDIA_TYPES)


@dataclass
class WorldConfig:
    """The constructor arguments that shape the world."""

    seed: int
    projects: list[Any]  # [{"media_type", "labels", "name"?}, ...]
    start: datetime
    history_days: float
    user_timezone: str


def _iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Setup:
    """Organisation, users and project contexts of one world."""

    def __init__(self, cfg: WorldConfig) -> None:
        seed = cfg.seed
        self.cfg = cfg
        org_id = hashed_id(seed, "organization")
        org_created = cfg.start - timedelta(days=400)
        domain = f"org{b36(digest(seed, 'domain'), 5)}.example.com"
        self.api_key = "lb-emu-" + b36(digest(seed, "api-key"), 16) + b36(digest(seed, "k2"), 16)
        self.organization = {
            "id": org_id,
            "name": f"Emulated Org {seed}",
            "createdAt": _iso(org_created),
            "updatedAt": _iso(org_created),
        }
        self.users: list[dict[str, Any]] = []
        for n, name in enumerate(_USER_NAMES):
            nick = name.split()[0].lower()
            self.users.append(
                {
                    "id": hashed_id(seed, "user", n),
                    "email": f"{nick}@{domain}",
                    "name": name,
                    "nickname": nick,
                    "timezone": cfg.user_timezone,
                    "createdAt": _iso(org_created + timedelta(days=n)),
                    "updatedAt": _iso(org_created + timedelta(days=n)),
                    "isViewer": False,
                    "isExternalUser": n == 3,
                    "intercomHash": b36(digest(seed, "intercom", n), 20),
                    "picture": f"https://gravatar.emulator.invalid/{nick}.png",
                }
            )
        self.ctxs = [self._project(k, spec, org_id) for k, spec in enumerate(cfg.projects)]
        self.by_id = {ctx.id: ctx for ctx in self.ctxs}
        self._populated: set[str] = set()

    def _project(self, k: int, spec: Any, org_id: str) -> ProjectCtx:
        seed, media = self.cfg.seed, str(spec["media_type"])
        if media not in _ALL_MEDIA:
            raise ValueError(f"unknown media type {media!r}")
        key = f"p{k}"
        created = self.cfg.start - timedelta(days=1 + k)
        pretty = media.replace("_", " ").title()
        ctx = ProjectCtx(
            seed=seed,
            key=key,
            id=hashed_id(seed, "project", k),
            name=str(spec.get("name") or f"{pretty} project {k}"),
            media_type=media,
            created_at=int(created.timestamp() * 1000),
            ontology=build_ontology(seed, key, media),
            dataset_id=hashed_id(seed, "dataset", k),
            dataset_name=f"{pretty} dataset {k}",
            org_id=org_id,
            users=self.users,
            planned_labels=int(spec.get("labels", 40)),
        )
        return ctx

    def populated(self, ctx: ProjectCtx) -> ProjectState:
        """The project's state, built from its seed on first use (caller holds the lock)."""
        if ctx.id not in self._populated:
            t0 = int(self.cfg.start.timestamp() * 1000)
            span = round(self.cfg.history_days * 86_400_000)
            rng = random.Random(digest(self.cfg.seed, ctx.key, "history"))
            populate(ctx.state, rng, ctx.planned_labels, t0, span)
            self._populated.add(ctx.id)
        return ctx.state
