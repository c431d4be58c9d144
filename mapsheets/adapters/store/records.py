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
        content: dict[str, Any] = json.loads(self.content_json)
        return content


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


# Rows to records: ``row`` is a SQLAlchemy Row of the table of the same name.

def revision_record(row: Any, ref: str) -> RevisionRecord:
    return RevisionRecord(id=row.id, ref=ref, seq=row.seq, taken_at=row.taken_at,
                          fingerprint=row.fingerprint, content_json=row.content,
                          step_count=row.step_count, done_count=row.done_count,
                          source=json.loads(row.source), origin=row.origin)


def signature_record(row: Any, ref: str) -> SignatureRecord:
    return SignatureRecord(id=row.id, ref=ref, name=row.name, email=row.email, side=row.side,
                           signed_at=row.signed_at, fingerprint=row.fingerprint, revision_id=row.revision_id)


def event_record(row: Any, ref: str | None) -> EventRecord:
    return EventRecord(id=row.id, ref=ref, at=row.at, actor=row.actor, kind=row.kind,
                       detail=json.loads(row.detail))
