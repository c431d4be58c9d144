"""Issue 20 parts 1-3: who may sign which side, how the signer was known, and sealed signatures."""

from __future__ import annotations

import json
import stat
from datetime import date, datetime, timezone

import openpyxl
import pytest
from cli_helpers import run_cli

from mapsheets import service
from mapsheets.adapters.xlsx import read_grid, write_workbook
from mapsheets.core.diff import diff
from mapsheets.core.layout import workbook_spec
from mapsheets.core.score import execution_score
from mapsheets.core.winloss import plan_record
from mapsheets.service import seals
from mapsheets.service.signoff import sign

TODAY = date(2026, 12, 1)
AT = datetime(2026, 12, 2, 9, tzinfo=timezone.utc)
JANE = ("Jane Doe", "jane@acme.example", "buyer", "Champion")
SAM = ("Sam Seller", "sam@globex.example", "seller", "AE")


def with_team(path, *people) -> None:
    book = openpyxl.load_workbook(path)
    for person in people:
        book["Team"].append(list(person))
    book.save(path)


@pytest.fixture
def signable(plan_file):
    with_team(plan_file, JANE, SAM)
    return plan_file


def cli(*args, env_extra=None):
    return run_cli(*args, env={"MAPSHEETS_SELLER_DOMAINS": "globex.example", **(env_extra or {})})


def signoff_rows(path) -> list[list]:
    return [row for row in read_grid(path)["Sign-off"][1:] if any(row)]


def plan_of(path):
    return service.read_plan(str(path), today=TODAY).plan


@pytest.mark.parametrize("email, side", [("sam@globex.example", "buyer"), ("mallory@evil.example", "seller"),
                                         ("jane@acme.example", "seller")])
def test_cli_refuses_the_wrong_side_and_an_outsider_in_one_line(signable, email, side):
    result = cli("sign", str(signable), "--name", "X", "--email", email, "--side", side)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert email in result.stderr and "cannot sign" in result.stderr
    assert signoff_rows(signable) == []


def test_a_typed_sign_off_row_reads_unverified_everywhere(signable):
    plan = plan_of(signable)
    book = openpyxl.load_workbook(signable)
    book["Sign-off"].append(["Jane Doe", "jane@acme.example", "buyer", datetime(2026, 12, 2, 9), plan.fingerprint(),
                             "valid"])
    book.save(signable)
    shown = json.loads(cli("show", str(signable), "--json").stdout)
    assert [s["status"] for s in shown["signatures"]] == ["unverified"]
    assert execution_score(plan_of(signable), TODAY).signed_sides == 0
    assert "unverified" in cli("show", str(signable)).stdout
    checked = cli("verify", str(signable))
    assert checked.returncode == 1 and "seal does not hold" in checked.stdout


def test_on_behalf_of_is_shown_as_such_and_never_counts_as_the_buyers(signable, tmp_path):
    before = plan_of(signable)
    assert cli("sign", str(signable), "--name", "Sam Seller", "--email", "sam@globex.example",
               "--side", "seller").returncode == 0
    result = cli("sign", str(signable), "--name", "Sam Seller", "--email", "sam@globex.example", "--side", "buyer",
                 "--on-behalf-of", "Jane Doe <jane@acme.example>")
    assert result.returncode == 0, result.stderr
    words = "recorded by sam@globex.example on behalf of jane@acme.example"
    assert words in cli("show", str(signable)).stdout
    shown = json.loads(cli("show", str(signable), "--json").stdout)["signatures"]
    assert [(s["email"], s["status"], s["method"], s["own"]) for s in shown] == [
        ("sam@globex.example", "valid", "command line", True),
        ("jane@acme.example", "valid", "recorded on behalf", False)]
    after = plan_of(signable)
    assert execution_score(after, TODAY).signed_sides == 1  # the seller's only
    described = [c.describe() for c in diff(before, after)]
    assert any(words in d for d in described), described  # the digest's words
    row, _steps = plan_record("acme", [(TODAY, after)])
    assert row["signed"] is False and words in row["signatures"]
    assert cli("verify", str(signable)).returncode == 0


def test_the_buyer_can_still_sign_themselves_after_a_signature_recorded_on_their_behalf(signable):
    sign(str(signable), name="Sam Seller", email="sam@globex.example", side="buyer", now=AT,
         on_behalf_of=("Jane Doe", "jane@acme.example"))
    own = sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    assert not own.already and own.own
    assert execution_score(plan_of(signable), TODAY).signed_sides == 1


def test_a_sheet_made_before_the_seal_columns_gets_them_and_its_new_signature_verifies(signable):
    book = openpyxl.load_workbook(signable)
    book["Sign-off"].delete_cols(7, 3)  # Method, Recorded by, Seal: a Sign-off tab as older versions made it
    book.save(signable)
    sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    assert read_grid(signable)["Sign-off"][0][6:9] == ["Method", "Recorded by", "Seal"]
    plan = plan_of(signable)
    assert [(plan.signature_status(s), s.method) for s in plan.signatures] == [("valid", "command line")]


def test_the_seal_verifies_with_only_the_public_key(signable):
    sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    public = cli("verify", "--public-key").stdout.split()
    assert public and all(k.startswith("ed25519:") for k in public)
    other_home = {"MAPSHEETS_DB": f"sqlite:///{signable.parent / 'elsewhere' / 'state.db'}"}  # no private key
    trusted = cli("verify", str(signable), "--trust", public[0], env_extra=other_home)
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    assert "seal holds, fingerprint holds" in trusted.stdout and "command line" in trusted.stdout
    assert not (signable.parent / "elsewhere" / "signing-key.json").exists()
    key_file = seals.key_path()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("column, value", [(0, "Jane Doh"), (1, "jim@acme.example"), (2, "seller"),
                                           (3, datetime(2026, 12, 2, 10)), (4, "v2:0000000000000000"),
                                           (6, "Google sign-in"), (7, "sam@globex.example")])
def test_changing_any_sealed_field_makes_it_unverified(signable, column, value):
    sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    assert [s.verified for s in plan_of(signable).signatures] == [True]
    book = openpyxl.load_workbook(signable)
    book["Sign-off"].cell(row=2, column=column + 1, value=value)
    book.save(signable)
    plan = plan_of(signable)
    assert [plan.signature_status(s) for s in plan.signatures] == ["unverified"]
    assert cli("verify", str(signable)).returncode == 1


def test_a_changed_plan_identity_or_a_row_copied_from_another_plan_is_unverified(signable, plan, tmp_path):
    sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    row = signoff_rows(signable)[0]
    other = tmp_path / "other.xlsx"
    plan.buyer = "Initech"
    write_workbook(other, workbook_spec(plan))
    book = openpyxl.load_workbook(other)
    book["Sign-off"].append(row)
    book.save(other)
    copied = plan_of(other)
    assert [copied.signature_status(s) for s in copied.signatures] == ["unverified"]

    renamed = plan_of(signable)
    renamed.title = "Another plan"
    seals.check(renamed)
    assert [renamed.signature_status(s) for s in renamed.signatures] == ["unverified"]


def test_key_rotation_keeps_old_signatures_valid(signable):
    sign(str(signable), name="Jane Doe", email="jane@acme.example", side="buyer", now=AT)
    old_keys = seals.public_keys()
    rotated = cli("verify", "--rotate-key")
    assert rotated.returncode == 0
    new_keys = seals.public_keys()
    assert len(new_keys) == 2 and new_keys[1] == old_keys[0] and new_keys[0] != old_keys[0]
    sign(str(signable), name="Sam Seller", email="sam@globex.example", side="seller", now=AT)
    plan = plan_of(signable)
    assert [plan.signature_status(s) for s in plan.signatures] == ["valid", "valid"]
    assert execution_score(plan, TODAY).signed_sides == 2
    seals_used = {row[8].split(":")[1] for row in signoff_rows(signable)}
    assert len(seals_used) == 2  # each sealed by its own key


def test_the_server_publishes_the_public_key():
    from addon_server import create_app

    app = create_app({"DEV": True, "HOST": "127.0.0.1", "TESTING": True})
    response = app.test_client().get("/.well-known/mapsheets-signing-key", base_url="http://127.0.0.1")
    assert response.status_code == 200
    assert response.get_data(as_text=True).split() == seals.public_keys()


def test_processes_making_the_first_key_at_once_all_end_with_the_same_one(tmp_path):
    """A key replaced by another process's first key would leave the seals made with it unverifiable
    (seen in CI: six signers at once on a new machine, three rows)."""
    import subprocess
    import sys
    import time

    key, go = tmp_path / "signing-key.json", tmp_path / "go"
    code = ("import sys, time, pathlib\nfrom mapsheets.adapters import seal\n"
            "while not pathlib.Path(sys.argv[2]).exists(): time.sleep(0.001)\n"
            "print(seal.load(pathlib.Path(sys.argv[1]), create=True).public_keys())")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(key), str(go)], stdout=subprocess.PIPE, text=True)
             for _ in range(8)]
    time.sleep(1.5)  # every process is waiting at the start line
    go.touch()
    keys = {p.communicate(timeout=60)[0].strip() for p in procs}
    assert len(keys) == 1, keys
    assert oct(key.stat().st_mode & 0o777) == "0o600"
