"""What the store hands out: plain frozen dataclasses, all datetimes timezone-aware UTC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


def canonical_json(data: Any) -> str:
    """The one JSON text of a plan dict: equal plans give equal text (stored and compared as is)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class PlanRecord:
    id: int
    ref: str
    backend: str
    title: str
    created_at: datetime


@dataclass(frozen=True)
class RevisionRecord:
    id: int
    ref: str
    seq: int  # 1, 2, 3 … per plan, no gaps
    taken_at: datetime
    fingerprint: str
    content_json: str  # canonical_json of the plan dict
    step_count: int
    done_count: int
    source: dict[str, Any]  # backend revision info, e.g. file mtime or Drive modifiedTime
    origin: str | None = None  # what stored it: snapshot, sign, digest, watch (None: not recorded)

    @property
    def content(self) -> dict[str, Any]:
        """The plan dict as snapshotted (``Plan.from_dict`` reads it back)."""
        return json.loads(self.content_json)


@dataclass(frozen=True)
class SignatureRecord:
    id: int
    ref: str
    name: str
    email: str
    side: str
    signed_at: datetime
    fingerprint: str
    revision_id: int | None


@dataclass(frozen=True)
class EventRecord:
    id: int
    ref: str | None  # None for store-wide events
    at: datetime
    actor: str
    kind: str
    detail: dict[str, Any]
