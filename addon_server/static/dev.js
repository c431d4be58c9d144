// The dev page: the spreadsheet view reloads after each sidebar action.
window.addEventListener("message", function (event) {
  if (event.origin !== window.location.origin || event.data !== "mapsheets:changed") return;
  document.getElementById("grid").contentWindow.location.reload();
});
