"""The digest run's bulk reads answer what the per-plan reads do (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.adapters.test_store import NOW, REF, edited, snap, store  # noqa: F401  (the fixture)


def test_bulk_reads_match_the_per_plan_reads(store, plan):  # noqa: F811  (the fixture)
    other = "/plans/other.xlsx"
    for ref in (REF, other):
        store.plans.register(ref, "xlsx", "Acme")
    first = snap(store, plan)
    snap(store, edited(plan, 0, "done"))
    snap(store, plan, ref=other)
    store.sources.set_logged_revision(REF, first[0].id)
    store.audit.log("watch --link", ref=REF, actor="ae", detail={"url": "https://x.example"}, at=NOW)
    refs = [REF, other, "/plans/unknown.xlsx"]

    latest = store.revisions.latest(refs)
    assert set(latest) == {REF, other}
    for ref in (REF, other):
        assert latest[ref].id == store.revisions.get(ref, "latest").id \
            and latest[ref].seq == store.revisions.get(ref, "latest").seq
    assert store.sources.logged_revisions(refs) == {ref: store.sources.logged_revision(ref) for ref in refs}
    events = store.audit.events_of(refs)
    assert {ref: [e.id for e in events[ref]] for ref in refs} == \
        {ref: [e.id for e in store.audit.events(ref)] for ref in refs}
    assert store.revisions.latest([]) == {} and store.audit.events_of([]) == {}


def test_one_run_at_a_time_claims_a_plans_changes_tab(store, plan):  # noqa: F811  (the fixture)
    """The claim is taken by one run, refused to another, free again once released, and taken
    over once older than the lease (its run died)."""
    from datetime import timedelta

    store.plans.register(REF, "xlsx", "Acme")
    snap(store, plan)
    store.sources.set_seen(REF, {"modified_ns": 1}, NOW)
    assert store.sources.claim_changes(REF, NOW)
    assert not store.sources.claim_changes(REF, NOW + timedelta(minutes=1))  # another run, meanwhile
    store.sources.release_changes(REF)
    assert store.sources.claim_changes(REF, NOW + timedelta(minutes=2))
    assert not store.sources.claim_changes(REF, NOW + timedelta(minutes=16))  # within the 15-minute lease
    assert store.sources.claim_changes(REF, NOW + timedelta(minutes=18))  # the holder died: taken over
