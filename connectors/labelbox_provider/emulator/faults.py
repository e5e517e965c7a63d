"""Fault injection: rules that say which requests fail, how, and how often.

A rule names a fault ``kind``, a ``target`` (which requests it may hit) and a trigger: either a
``probability`` drawn from a random generator seeded by the server seed and the rule's position,
or ``count`` (the next N matching requests, after skipping ``after`` of them). Every fault that
fires is counted per kind, so a test can prove the fault really happened.

Targets are tags of the request: ``*`` (anything), ``graphql`` (any GraphQL call), an operation
name such as ``GetLabelExportUrlPyApi``, ``download`` (any file download) or one download kind
(``download:v1``, ``download:v2``, ``download:frames``, ``download:mask``), ``export`` /
``export:v1`` / ``export:v2`` (evaluated once when an export is created), ``record`` /
``record:v1`` / ``record:v2`` (evaluated once per rendered record).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["FAULT_KINDS", "FaultPlan", "FaultRule"]

# kind -> what it does, and where it applies.
FAULT_KINDS: dict[str, str] = {
    "http_429": "HTTP 429 + Retry-After, JSON rate-limit message (graphql, download)",
    "http_5xx": "HTTP 500/502/503 (field `status`); `upstream: true` gives the envoy reset body",
    "reset": "close the connection without any response (graphql, download)",
    "slow": "sleep `delay` seconds, then answer normally (graphql, download)",
    "graphql_error": "a GraphQL error with `code` (and `status` for INTERNAL_SERVER_ERROR)",
    "stuck": "the export never leaves IN_PROGRESS / shouldPoll (export)",
    "export_failed": "the export ends FAILED (v2) or done without a URL (v1) (export)",
    "truncated": "download sends fewer bytes than promised; `mode`: short | cut (download)",
    "expired_url": "download answers as an expired signed URL (download)",
    "malformed_record": "the rendered record is corrupted (record)",
}


@dataclass
class FaultRule:
    """One fault rule. Unused knobs keep their defaults."""

    kind: str  # one of FAULT_KINDS
    target: str = "*"  # request tag the rule applies to (see module docstring)
    probability: float = 1.0  # chance per matching request when `count` is None
    count: int | None = None  # fire on the next N matching requests (then stop)
    after: int = 0  # let this many matching requests pass before the rule can fire
    status: int | None = None  # HTTP status (http_5xx) or exception status (graphql_error)
    retry_after: float = 1.0  # Retry-After seconds (http_429)
    delay: float = 1.0  # seconds to sleep (slow)
    upstream: bool = False  # envoy "upstream connect error" body (http_5xx)
    mode: str = "short"  # truncated: "short" (honest short body) or "cut" (connection dropped)
    code: str = "INTERNAL_SERVER_ERROR"  # GraphQL error code (graphql_error)
    message: str | None = None  # error message override (graphql_error, http_429)
    seen: int = field(default=0, repr=False)  # matching requests so far
    fired: int = field(default=0, repr=False)  # times fired so far

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; known: {sorted(FAULT_KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        """The rule as JSON-ready data (including its `seen`/`fired` progress)."""
        return asdict(self)


class FaultPlan:
    """The active rules of one server, their random generators, and the per-kind counters."""

    def __init__(self, seed: int = 0, rules: Iterable[FaultRule | Mapping[str, Any]] = ()) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._rules: list[FaultRule] = []
        self._rngs: list[random.Random] = []
        self.replace(rules)

    def replace(self, rules: Iterable[FaultRule | Mapping[str, Any]]) -> None:
        """Swap in a new rule list (counters are kept; see `reset_counts`)."""
        parsed = [r if isinstance(r, FaultRule) else FaultRule(**dict(r)) for r in rules]
        with self._lock:
            self._rules = parsed
            self._rngs = [random.Random(f"{self._seed}:{i}") for i in range(len(parsed))]

    def rules(self) -> list[dict[str, Any]]:
        """The current rules as JSON-ready data."""
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def decide(self, tags: Iterable[str], kinds: Iterable[str] | None = None) -> FaultRule | None:
        """The first rule that fires for a request with these tags (counted), or None."""
        tagset = set(tags) | {"*"}
        wanted = set(kinds) if kinds is not None else None
        with self._lock:
            for rule, rng in zip(self._rules, self._rngs, strict=True):
                if rule.target not in tagset or (wanted is not None and rule.kind not in wanted):
                    continue
                if self._fires(rule, rng):
                    self._counts[rule.kind] = self._counts.get(rule.kind, 0) + 1
                    return rule
        return None

    @staticmethod
    def _fires(rule: FaultRule, rng: random.Random) -> bool:
        rule.seen += 1
        if rule.seen <= rule.after:
            return False
        if rule.count is not None:
            if rule.fired >= rule.count:
                return False
        elif rng.random() >= rule.probability:
            return False
        rule.fired += 1
        return True

    def counts(self) -> dict[str, int]:
        """Faults injected so far, per kind."""
        with self._lock:
            return dict(self._counts)

    def reset_counts(self) -> None:
        """Zero the per-kind counters."""
        with self._lock:
            self._counts.clear()
