"""The digest run's bulk reads answer what the per-plan reads do (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.adapters.test_store import NOW, REF, edited, snap, store  # noqa: F401  (the fixture)


def test_bulk_reads_match_the_per_plan_reads(store, plan):
    other = "/plans/other.xlsx"
    for ref in (REF, other):
        store.register_plan(ref, "xlsx", "Acme")
    first = snap(store, plan)
    snap(store, edited(plan, 0, "done"))
    snap(store, plan, ref=other)
    store.set_logged_revision(REF, first[0].id)
    store.log_event("watch --link", ref=REF, actor="ae", detail={"url": "https://x.example"}, at=NOW)
    refs = [REF, other, "/plans/unknown.xlsx"]

    latest = store.latest_revisions(refs)
    assert set(latest) == {REF, other}
    for ref in (REF, other):
        assert latest[ref].id == store.revision(ref, "latest").id \
            and latest[ref].seq == store.revision(ref, "latest").seq
    assert store.logged_revisions(refs) == {ref: store.logged_revision(ref) for ref in refs}
    events = store.events_of(refs)
    assert {ref: [e.id for e in events[ref]] for ref in refs} \
        == {ref: [e.id for e in store.events(ref)] for ref in refs}
    assert store.latest_revisions([]) == {} and store.events_of([]) == {}


def test_one_run_at_a_time_claims_a_plans_changes_tab(store, plan):
    """The claim is taken by one run, refused to another, free again once released, and taken
    over once older than the lease (its run died)."""
    from datetime import timedelta

    store.register_plan(REF, "xlsx", "Acme")
    snap(store, plan)
    store.set_seen_source(REF, {"modified_ns": 1}, NOW)
    assert store.claim_changes(REF, NOW)
    assert not store.claim_changes(REF, NOW + timedelta(minutes=1))  # another run, meanwhile
    store.release_changes(REF)
    assert store.claim_changes(REF, NOW + timedelta(minutes=2))
    assert not store.claim_changes(REF, NOW + timedelta(minutes=16))  # within the 15-minute lease
    assert store.claim_changes(REF, NOW + timedelta(minutes=18))  # the holder died: taken over
