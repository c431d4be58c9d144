/**
 * mapsheets for Google Sheets: a menu, a 300 px sidebar fetched from the backend, and one proxy
 * (callBackend) through which the sidebar reaches the backend's JSON API. Set BACKEND to your
 * deployment (and the same prefix in appsscript.json's urlFetchWhitelist).
 */
var BACKEND = "https://mapsheets.example.com";

function onOpen(e) {
  SpreadsheetApp.getUi().createAddonMenu().addItem("Open", "showSidebar").addToUi();
}

function onInstall(e) {
  onOpen(e);
}

function showSidebar() {
  var response = UrlFetchApp.fetch(BACKEND + "/sidebar/embed", { muteHttpExceptions: true });
  if (response.getResponseCode() !== 200) {
    throw new Error("mapsheets backend answered " + response.getResponseCode());
  }
  var html = HtmlService.createHtmlOutput(response.getContentText())
    .setTitle("mapsheets")
    .setWidth(300);
  SpreadsheetApp.getUi().showSidebar(html);
}

/**
 * The sidebar's only way out (google.script.run.callBackend): adds who the user is (an ID token),
 * the user's own access token for this spreadsheet, and the spreadsheet's ID. Returns the
 * backend's status and JSON body as a string. Saving "Email me changes" installs (or removes)
 * this user's hourly digest trigger for this spreadsheet; opening the sidebar reinstalls a lost one.
 */
function callBackend(path, body) {
  if (!/^[a-z]+(-[a-z]+)*$/.test(path)) {  // e.g. "summary", "step-status", "request-signature"
    throw new Error("unknown backend path");
  }
  var payload = JSON.parse(body || "{}");
  var sheetId = SpreadsheetApp.getActiveSpreadsheet().getId();
  payload.spreadsheet_id = sheetId;
  var response = post_(path, payload);
  var text = response.getContentText();
  var parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    parsed = { error: "the backend answered HTTP " + response.getResponseCode(), field: null };
  }
  if (response.getResponseCode() === 200) {
    var every = path === "subscription" ? parsed.every : path === "summary" && parsed.me && parsed.me.subscription;
    if (every === "daily" || every === "weekly") {
      installDigestTrigger(sheetId);
    } else if (every === "off" && path === "subscription") {
      removeDigestTrigger(sheetId);
    }
  }
  return JSON.stringify({ status: response.getResponseCode(), body: parsed });
}

/** POST to the backend's JSON API as the user: a fresh ID token and OAuth token every call. */
function post_(path, payload) {
  return UrlFetchApp.fetch(BACKEND + "/api/" + path, {
    method: "post",
    contentType: "application/json",
    payload: JSON.stringify(payload),
    headers: {
      Authorization: "Bearer " + ScriptApp.getIdentityToken(),
      "X-Mapsheets-Access-Token": ScriptApp.getOAuthToken()
    },
    muteHttpExceptions: true
  });
}

// -- Digests: the backend's cron cannot open a sheet nobody shared with it, and the add-on keeps no
// token. So each subscriber gets one hourly trigger per spreadsheet (add-ons may run clock
// triggers at most hourly; installable triggers run as the user who made them), and each run
// asks the backend to send what is due, with that user's fresh tokens. User properties remember
// spreadsheet -> trigger and trigger -> spreadsheet (a clock trigger has no active spreadsheet).

var DIGEST_HANDLER = "runDigests";
var TRIGGER_OF = "mapsheets.digestTrigger.";  // + spreadsheet ID -> the trigger's unique ID
var SHEET_OF = "mapsheets.digestSheet.";  // + trigger unique ID -> spreadsheet ID

/** This user's digest trigger for the spreadsheet: the one installed before if it still exists. */
function installDigestTrigger(sheetId) {
  var props = PropertiesService.getUserProperties();
  var known = props.getProperty(TRIGGER_OF + sheetId);
  if (known && findTrigger_(known)) {
    return known;
  }
  var id = ScriptApp.newTrigger(DIGEST_HANDLER).timeBased().everyHours(1).create().getUniqueId();
  props.setProperty(TRIGGER_OF + sheetId, id);
  props.setProperty(SHEET_OF + id, sheetId);
  if (known) {
    props.deleteProperty(SHEET_OF + known);
  }
  return id;
}

/** Removes this user's digest trigger for the spreadsheet; whether there was one. */
function removeDigestTrigger(sheetId) {
  var props = PropertiesService.getUserProperties();
  var known = props.getProperty(TRIGGER_OF + sheetId);
  if (!known) {
    return false;
  }
  var trigger = findTrigger_(known);
  if (trigger) {
    ScriptApp.deleteTrigger(trigger);
  }
  props.deleteProperty(TRIGGER_OF + sheetId);
  props.deleteProperty(SHEET_OF + known);
  return true;
}

function findTrigger_(id) {
  var triggers = ScriptApp.getProjectTriggers();
  for (var i = 0; i < triggers.length; i++) {
    if (triggers[i].getUniqueId() === id) {
      return triggers[i];
    }
  }
  return null;
}

/**
 * The hourly trigger: the backend reads the sheet with this user's token and sends every digest of
 * the plan that is due (a missed or repeated run is harmless). A user no longer subscribed loses
 * the trigger. A failure is thrown, so it shows in the user's Apps Script executions.
 */
function runDigests(e) {
  var id = e && e.triggerUid;
  var sheetId = id && PropertiesService.getUserProperties().getProperty(SHEET_OF + id);
  if (!sheetId) {
    return;
  }
  var response = post_("digest-run", { spreadsheet_id: sheetId });
  var code = response.getResponseCode();
  var answer = {};
  try {
    answer = JSON.parse(response.getContentText());
  } catch (err) {
    answer = {};
  }
  if (code === 200 && answer.subscribed === false) {
    removeDigestTrigger(sheetId);
  } else if (code !== 200) {
    throw new Error("mapsheets digest run: HTTP " + code + " " + (answer.error || ""));
  }
}
