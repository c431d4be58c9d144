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
 * backend's status and JSON body as a string.
 */
function callBackend(path, body) {
  if (!/^[a-z]+(-[a-z]+)*$/.test(path)) {  // e.g. "summary", "step-status", "request-signature"
    throw new Error("unknown backend path");
  }
  var payload = JSON.parse(body || "{}");
  payload.spreadsheet_id = SpreadsheetApp.getActiveSpreadsheet().getId();
  var response = UrlFetchApp.fetch(BACKEND + "/api/" + path, {
    method: "post",
    contentType: "application/json",
    payload: JSON.stringify(payload),
    headers: {
      Authorization: "Bearer " + ScriptApp.getIdentityToken(),
      "X-Mapsheets-Access-Token": ScriptApp.getOAuthToken()
    },
    muteHttpExceptions: true
  });
  var text = response.getContentText();
  var parsed;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    parsed = { error: "the backend answered HTTP " + response.getResponseCode(), field: null };
  }
  return JSON.stringify({ status: response.getResponseCode(), body: parsed });
}
