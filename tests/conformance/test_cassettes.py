"""Replay gspread's recorded Google traffic against the double and compare the answers.

Normalised, because the double legitimately cannot know them:
- ids Google generates (spreadsheet/file ids, sheetId, namedRangeId, protectedRangeId): mapped
  recorded -> double as they first appear, then substituted in later requests and expected bodies;
- timestamps (createdTime, modifiedTime): compared for shape only;
- pixelSize after autoResizeDimensions (depends on Google's font metrics).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from mapsheets.testing.google_api import GoogleApiDouble

REPO = Path(__file__).resolve().parents[2]
# `../shared` beside the repository (not copied into it); MAPSHEETS_TEST_CASSETTES names another place
# (a git worktree's ../shared is not the checkout's).
CASSETTES = Path(os.environ.get("MAPSHEETS_TEST_CASSETTES", "").strip()
                 or REPO.parent / "shared" / "google-recordings" / "gspread-cassettes")
MISSING = (f"no gspread cassettes at {CASSETTES} (they live in ../shared/google-recordings/gspread-cassettes "
           "beside the repository; MAPSHEETS_TEST_CASSETTES names another folder)")
SERVICE_ACCOUNT = "telegram-budgeter@telegram-budgeter.iam.gserviceaccount.com"  # the recording's caller
HOSTS = ("https://sheets.googleapis.com", "https://www.googleapis.com")
ID_KEYS = {"id", "spreadsheetId", "sheetId", "namedRangeId", "protectedRangeId"}
TIME_KEYS = {"createdTime", "modifiedTime"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
# Outside the implemented subset, with the reason.
UNSUPPORTED = {
    "/upload/drive/v2/": "Drive v2 upload (import_csv) is not part of the Drive v3 double",
    "addDimensionGroup": "addDimensionGroup/deleteDimensionGroup are not implemented",
}
# Cassettes that open files the recording account held before the test (unknowable to a fresh double).
NEEDS_FOREIGN_FILES = {"ClientTest.test_openall", "ClientTest.test_open_all_has_metadata"}
IGNORE_KEYS = {"WorksheetTest.test_auto_resize_columns": {"pixelSize"}}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


def _cassettes() -> list:
    if not CASSETTES.is_dir() or not any(CASSETTES.glob("*.json")):
        # One case for the whole folder: under CI it fails (the double must be checked against
        # Google there), elsewhere it skips saying where it looked.
        return [pytest.param(None, id="absent")]
    out = []
    for path in sorted(CASSETTES.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        reason = next((why for needle, why in UNSUPPORTED.items() if needle in text), None)
        if path.stem in NEEDS_FOREIGN_FILES:
            reason = "opens spreadsheets that pre-existed in the recording account"
        marks = [pytest.mark.skip(reason=f"outside the subset: {reason}")] if reason else []
        out.append(pytest.param(path, marks=marks, id=path.stem))
    return out


class IdMap:
    """Recorded id -> double id, learned from responses as they come."""

    def __init__(self):
        self.ids: dict = {}

    def learn(self, recorded, actual) -> None:
        if isinstance(recorded, dict) and isinstance(actual, dict):
            for k, v in recorded.items():
                if k in ID_KEYS and k in actual and not isinstance(v, (dict, list)):
                    self.ids.setdefault(v, actual[k])
                elif k in actual:
                    self.learn(v, actual[k])
        elif isinstance(recorded, list) and isinstance(actual, list):
            for a, b in zip(recorded, actual, strict=False):
                self.learn(a, b)

    def text(self, s: str) -> str:
        for old, new in self.ids.items():
            if isinstance(old, str) and len(old) > 20:
                s = s.replace(old, new)
        return s

    def json(self, value, key: str | None = None):
        if isinstance(value, dict):
            return {k: self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, key) for v in value]
        if key in ID_KEYS and not isinstance(value, bool) and value in self.ids:
            return self.ids[value]
        if isinstance(value, str):
            return self.text(value)
        return value


def _normalise(value, ignore: set, key: str | None = None):
    if isinstance(value, dict):
        return {k: _normalise(v, ignore, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, ignore, key) for v in value]
    if key in TIME_KEYS and isinstance(value, str) and TIMESTAMP.match(value):
        return "<timestamp>"
    if key in ignore:
        return "<ignored>"
    return value


def _rebase(uri: str, root: str) -> str:
    for host in HOSTS:
        if uri.startswith(host):
            return root + uri[len(host):]
    raise AssertionError(f"unexpected host in {uri}")


def _private_ids(interactions: list) -> set[str]:
    """Ids the recording could not read (403): the double marks them private up front."""
    out = set()
    for it in interactions:
        if it["response"]["status"]["code"] == 403:
            m = re.search(r"/spreadsheets/([\w-]{20,})", it["request"]["uri"])
            if m:
                out.add(m.group(1))
    return out


@pytest.mark.parametrize("path", _cassettes())
def test_cassette_replays_like_google(path: Path | None) -> None:
    if path is None:
        if _in_ci():
            pytest.fail(f"CI=true but {MISSING}: the double must be checked against recorded Google traffic in CI",
                        pytrace=False)
        pytest.skip(MISSING)
    interactions = json.loads(path.read_text(encoding="utf-8"))["interactions"]
    ignore = IGNORE_KEYS.get(path.stem, set())
    ids = IdMap()
    with GoogleApiDouble(seed=0, user=SERVICE_ACCOUNT) as double, requests.Session() as http:
        for sid in _private_ids(interactions):
            double.set_private(sid)
            ids.ids[sid] = sid
        for n, it in enumerate(interactions):
            req, rec = it["request"], it["response"]
            headers = {"Authorization": "Bearer test-token"}
            for name, vals in req["headers"].items():
                if name.lower() == "content-type":
                    headers["Content-Type"] = vals[0]
            body = req["body"]
            if body:
                try:
                    body = json.dumps(ids.json(json.loads(body)))
                except ValueError:
                    body = ids.text(body)
            resp = http.request(req["method"], ids.text(_rebase(req["uri"], double.root)),
                                data=body.encode() if body else None, headers=headers)
            where = f"interaction {n}: {req['method']} {req['uri']}"
            assert resp.status_code == rec["status"]["code"], f"{where}\n{resp.text[:2000]}"
            text = rec["body"]["string"]
            if not text:
                continue
            try:
                expected = json.loads(text)
            except ValueError:
                assert resp.text == text, where
                continue
            actual = resp.json()
            if isinstance(expected.get("files"), list) and "drive/v3/files?" in req["uri"]:
                # Files the recording account already held are unknowable: keep only this replay's.
                expected["files"] = [f for f in expected["files"] if f.get("id") in ids.ids]
            ids.learn(expected, actual)
            assert _normalise(actual, ignore) == _normalise(ids.json(expected), ignore), where


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_cassette_folder_fails_under_ci_and_skips_with_its_reason_elsewhere(tmp_path, ci):
    env = {**os.environ, "MAPSHEETS_TEST_CASSETTES": str(tmp_path / "nowhere"), "CI": ci,
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", __file__,
                           "-k", "replays_like_google"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    where = str(tmp_path / "nowhere")
    if ci:
        assert done.returncode == 1, done.stdout
        assert "1 failed" in done.stdout and f"CI=true but no gspread cassettes at {where}" in done.stdout
    else:
        assert done.returncode == 0, done.stdout
        assert "1 skipped" in done.stdout and f"no gspread cassettes at {where}" in done.stdout
