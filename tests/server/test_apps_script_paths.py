"""Every path the sidebar calls passes Code.gs's callBackend, run under Node with stubs for
SpreadsheetApp, ScriptApp and UrlFetchApp: "request-signature" and "step-status" were refused by a
letters-only check, so inside Sheets those buttons could only fail."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ADDON = Path(__file__).resolve().parents[2] / "addon_server"
NODE = shutil.which("node")

HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const fetched = [];
const ctx = {
  SpreadsheetApp: { getActiveSpreadsheet: () => ({ getId: () => "sheet-123" }) },
  ScriptApp: { getIdentityToken: () => "id-token", getOAuthToken: () => "oauth-token" },
  UrlFetchApp: { fetch: (url, opts) => { fetched.push([url, JSON.parse(opts.payload)]);
    return { getContentText: () => "{}", getResponseCode: () => 200 }; } },
  HtmlService: {}, JSON,
};
vm.createContext(ctx);
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), ctx);
const out = {};
for (const path of JSON.parse(process.argv[3])) {
  try { ctx.callBackend(path, JSON.stringify({ step: "S-1" })); out[path] = "sent"; }
  catch (err) { out[path] = String(err.message); }
}
console.log(JSON.stringify({ out, fetched }));
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_every_path_the_sidebar_calls_passes_callbackend(tmp_path):
    paths = sorted(set(re.findall(r'\bcall\("([^"]+)"', (ADDON / "static" / "sidebar.js").read_text()))
                   | set(re.findall(r'submit\("[^"]+", "([^"]+)"', (ADDON / "static" / "sidebar.js").read_text())))
    assert {"summary", "steps", "sign", "request-signature", "step-status"} <= set(paths)
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    code = ADDON / "apps_script" / "Code.gs"
    run = subprocess.run([NODE, str(harness), str(code), json.dumps(paths + ["../x", "A"])],
                         capture_output=True, text=True, timeout=60, check=True)
    answer = json.loads(run.stdout)
    assert answer["out"] == {**{p: "sent" for p in paths}, "../x": "unknown backend path", "A": "unknown backend path"}
    assert answer["fetched"][paths.index("step-status")] == [
        "https://mapsheets.example.com/api/step-status", {"step": "S-1", "spreadsheet_id": "sheet-123"}]
