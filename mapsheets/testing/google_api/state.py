"""Shared state of one double: clock, ids, spreadsheets and Drive files."""
from __future__ import annotations

import datetime as dt
import random
import string
import threading

from .errors import ApiError, drive_not_found
from .model import Spreadsheet

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
_ID_CHARS = string.ascii_letters + string.digits + "-_"


class Clock:
    """UTC clock; real time unless a test sets or advances it."""

    def __init__(self):
        self._fixed: dt.datetime | None = None

    def now(self) -> dt.datetime:
        return self._fixed if self._fixed is not None else dt.datetime.now(dt.timezone.utc)

    def set(self, when: dt.datetime | None) -> None:
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        self._fixed = when

    def advance(self, **delta) -> None:
        self._fixed = self.now() + dt.timedelta(**delta)


def _revision(rec: dict, user: str) -> dict:
    return {"kind": "drive#revision", "id": rec["version"], "mimeType": rec["mimeType"],
            "modifiedTime": rec["modifiedTime"], "lastModifyingUser": user_record(user)}


def rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def user_record(email: str, name: str | None = None, me: bool = True) -> dict:
    display = name or email.split("@")[0].replace(".", " ").title()
    return {"kind": "drive#user", "displayName": display, "me": me,
            "permissionId": str(abs(hash(email)) % 10**20), "emailAddress": email}


class State:
    """Everything one double knows; guarded by one lock (requests are small)."""

    DEFAULT_USER = "tester@example.com"

    def __init__(self, seed: int | None = None):
        self.lock = threading.RLock()
        self.clock = Clock()
        self.rng = random.Random(seed)
        self.default_user = self.DEFAULT_USER
        # Strict mode (``GoogleApiDouble.act_as_google``): bearer token -> user, and a file opens only
        # for a user it is shared with; None: any token is the default user and every file opens.
        self.tokens: dict[str, str] | None = None
        self.acting: str | None = None  # the user of the request being answered, in strict mode
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.spreadsheets: dict[str, Spreadsheet] = {}
            self.files: dict[str, dict] = {}
            self.root_folder = self.new_id(28)

    def new_id(self, length: int = 44) -> str:
        return "1" + "".join(self.rng.choice(_ID_CHARS) for _ in range(length - 1))

    # --- files -------------------------------------------------------------
    def new_file(self, name: str, mime: str, user: str, parents: list | None = None,
                 file_id: str | None = None) -> dict:
        now = self.clock.now()
        fid = file_id or self.new_id()
        rec = {
            "kind": "drive#file", "id": fid, "name": name, "mimeType": mime, "starred": False,
            "trashed": False, "explicitlyTrashed": False, "parents": parents or [self.root_folder],
            "version": "1", "webViewLink": self.view_link(fid, mime),
            "createdTime": now, "modifiedTime": now, "viewedByMeTime": now,
            "lastModifyingUser": user_record(user), "owners": [user_record(user)],
            "ownedByMe": True, "shared": False, "description": None,
            "permissions": [{"kind": "drive#permission", "id": self.new_id(20)[:20], "type": "user",
                             "emailAddress": user, "role": "owner",
                             "displayName": user_record(user)["displayName"]}],
            "content": b"",
        }
        rec["_revisions"] = [_revision(rec, user)]
        self.files[fid] = rec
        return rec

    @staticmethod
    def view_link(fid: str, mime: str) -> str:
        if mime == SPREADSHEET_MIME:
            return f"https://docs.google.com/spreadsheets/d/{fid}/edit?usp=drivesdk"
        return f"https://drive.google.com/file/d/{fid}/view?usp=drivesdk"

    def file(self, fid: str) -> dict:
        rec = self.files.get(fid)
        ss = self.spreadsheets.get(fid)
        if rec is None or (ss is not None and ss.private) or not self.may_open(rec):
            raise drive_not_found(fid)  # Drive says "not found" for a file you cannot see
        return rec

    def may_open(self, rec: dict | None) -> bool:
        """Whether the request's user may open the file: always, unless strict; then only when a
        permission names them (any role) or anyone with the link may."""
        if self.acting is None or rec is None:
            return True
        return any(p.get("type") == "anyone" or (p.get("emailAddress") or "").lower() == self.acting.lower()
                   for p in rec.get("permissions", ()))

    def touch(self, fid: str | None, user: str) -> None:
        """Record a modification: bump modifiedTime (strictly increasing) and lastModifyingUser."""
        rec = self.files.get(fid) if fid is not None else None
        if rec is None:  # (a spreadsheet the call did not name, or that is gone)
            return
        now = self.clock.now()
        if now <= rec["modifiedTime"] and self.clock._fixed is None:
            now = rec["modifiedTime"] + dt.timedelta(milliseconds=1)
        rec["modifiedTime"] = max(now, rec["modifiedTime"]) if self.clock._fixed is None else now
        rec["lastModifyingUser"] = user_record(user)
        rec["version"] = str(int(rec["version"]) + 1)
        revisions = rec["_revisions"]  # one per save, oldest first; one save at one instant is one revision
        if revisions and (revisions[-1]["modifiedTime"], revisions[-1]["lastModifyingUser"]["emailAddress"]) == (
                rec["modifiedTime"], user):
            revisions.pop()
        revisions.append(_revision(rec, user))
        if fid in self.spreadsheets:  # the Drive name follows the spreadsheet title
            rec["name"] = self.spreadsheets[fid].props.get("title", rec["name"])

    # --- spreadsheets ------------------------------------------------------
    def create_spreadsheet(self, title: str, user: str, file_id: str | None = None,
                           parents: list | None = None) -> Spreadsheet:
        rec = self.new_file(title, SPREADSHEET_MIME, user, parents, file_id)
        ss = Spreadsheet(rec["id"], title, self.rng)
        self.spreadsheets[rec["id"]] = ss
        return ss

    def spreadsheet(self, sid: str) -> Spreadsheet:
        ss = self.spreadsheets.get(sid)
        rec = self.files.get(sid)
        if ss is None or (rec is not None and rec.get("trashed") and False):
            raise ApiError(404)
        if ss.private or not self.may_open(rec):
            # Google's answer to a sheet not shared with the caller (recorded: gspread's
            # ClientTest.test_access_private_spreadsheet cassette)
            raise ApiError(403, "The caller does not have permission")
        return ss
