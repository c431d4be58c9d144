"""Code.gs under Node: stubs for the Apps Script services it uses (ScriptApp, UrlFetchApp,
PropertiesService, SpreadsheetApp), loaded with `vm`. UrlFetchApp answers from a list, or (given a
backend URL) makes the real HTTP request, synchronously as Apps Script does. A user's triggers and
properties go in and come out, so one person's sessions follow each other."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CODE = Path(__file__).resolve().parents[2] / "addon_server" / "apps_script" / "Code.gs"
NODE = shutil.which("node")

# Every call is recorded in `log`; the scenario comes as JSON on argv; the log goes to stdout as JSON.
HARNESS = r"""
const fs = require("fs"), vm = require("vm"), { execFileSync } = require("child_process");
const [codePath, scenarioJson] = process.argv.slice(2);
const scenario = JSON.parse(scenarioJson);
const log = { fetches: [], created: [], deleted: [], results: [], errors: [] };
let tokens = 0;
const props = Object.assign({}, scenario.props || {});
const answers = (scenario.answers || []).slice(), idTokens = (scenario.idTokens || []).slice();
function trigger(id, handler, every) {
  return { getUniqueId: () => id, getHandlerFunction: () => handler, every: every };
}
const live = (scenario.live || []).map((id) => trigger(id, "runDigests", 1));
let nextTrigger = (scenario.live || []).map((id) => Number(id.split("-")[1])).reduce((a, b) => Math.max(a, b), 0);
// Apps Script's UrlFetchApp is synchronous: a child process makes the request and prints the answer.
const CHILD = `let d = ""; process.stdin.on("data", (c) => (d += c)).on("end", async () => {
  const r = JSON.parse(d), o = r.options;
  const res = await fetch(r.url, { method: (o.method || "get").toUpperCase(), body: o.payload,
    headers: Object.assign({ "Content-Type": o.contentType || "application/json" }, o.headers || {}) });
  process.stdout.write(JSON.stringify({ code: res.status, text: await res.text() })); });`;
function httpSync(url, options) {
  return JSON.parse(execFileSync(process.execPath, ["-e", CHILD], { input: JSON.stringify({ url, options }) }));
}
const sandbox = {
  ScriptApp: {
    getIdentityToken: () => {
      tokens++;
      if (!scenario.idTokens) return "id-token-" + tokens;
      if (!idTokens.length) throw new Error("no ID token left");
      return idTokens.shift();  // each call a fresh one, as Google mints them
    },
    getOAuthToken: () => scenario.oauthToken || "oauth-token-" + tokens,
    getProjectTriggers: () => live.slice(),
    deleteTrigger: (t) => { live.splice(live.indexOf(t), 1); log.deleted.push(t.getUniqueId()); },
    newTrigger: (handler) => ({ timeBased: () => ({ everyHours: (n) => ({ create: () => {
      const t = trigger("trigger-" + (++nextTrigger), handler, n); live.push(t);
      log.created.push({ id: t.getUniqueId(), handler: handler, hours: n });
      return t; } }) }) }),
  },
  PropertiesService: { getUserProperties: () => ({
    getProperty: (k) => (k in props ? props[k] : null),
    setProperty: (k, v) => { props[k] = String(v); },
    deleteProperty: (k) => { delete props[k]; },
  }) },
  UrlFetchApp: { fetch: (url, options) => {
    log.fetches.push({ url: url, options: options });
    const a = scenario.backend ? httpSync(url, options) : (answers.shift() || { code: 200, body: {} });
    const text = a.text !== undefined ? a.text : JSON.stringify(a.body);
    log.fetches[log.fetches.length - 1].answer = { code: a.code, text: text };
    return { getResponseCode: () => a.code, getContentText: () => text };
  } },
  SpreadsheetApp: { getActiveSpreadsheet: () => ({ getId: () => scenario.sheet }) },
  console: console,
};
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(codePath, "utf8"), sandbox, { filename: "Code.gs" });
if (scenario.backend) vm.runInContext("BACKEND = " + JSON.stringify(scenario.backend), sandbox);
for (const step of scenario.steps) {
  try {
    if (step.call === "dropTriggers") {  // removed outside Code.gs (the Apps Script dashboard)
      live.length = 0; log.results.push(null);
    } else if (step.call === "runDigests") {  // Apps Script firing a clock trigger
      const t = step.trigger === "live" ? live[0] : { getUniqueId: () => step.trigger };
      log.results.push(sandbox.runDigests({ triggerUid: t ? t.getUniqueId() : "none", authMode: "FULL" }) ?? null);
    } else {
      log.results.push(sandbox[step.call].apply(null, step.args || []) ?? null);
    }
  } catch (err) { log.errors.push(String(err.message || err)); log.results.push(null); }
}
log.live = live.map((t) => t.getUniqueId());
log.props = props;
process.stdout.write(JSON.stringify(log));
"""


def run_code_gs(tmp_path: Path, steps: list[dict[str, Any]], answers: list[dict[str, Any]] | None = None,
                sheet: str = "sheet-abc", **scenario: Any) -> dict[str, Any]:
    """Run ``steps`` against Code.gs; ``scenario`` may add backend (a URL: real requests), idTokens,
    oauthToken, and props and live (the user's properties and trigger IDs from a session before)."""
    if NODE is None:
        pytest.skip("node is not installed (CI installs nodejs)")
    harness = tmp_path / "apps_script_harness.js"
    harness.write_text(HARNESS)
    data = {"steps": steps, "answers": answers or [], "sheet": sheet, **scenario}
    done = subprocess.run([NODE, str(harness), str(CODE), json.dumps(data)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


__all__ = ["CODE", "NODE", "run_code_gs"]
