/*
 * upload.js - ikaros workbench: niceties for the cohort upload form (#upload-form).
 *
 * Shows the chosen file's name and size (in #upload-file-info, created after the file input if
 * the template has none), optionally warns when it exceeds data-max-bytes on the form, and
 * disables the submit button ("Uploading...") while the plain form POST is in flight.
 * The button is re-enabled when the page is restored from the back/forward cache.
 */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form) { return; }
  var input = form.querySelector("input[type=file]");
  var buttons = Array.prototype.slice.call(form.querySelectorAll("button[type=submit], input[type=submit], button:not([type])"));
  var maxBytes = parseInt(form.getAttribute("data-max-bytes") || "", 10);

  function formatSize(bytes) {
    if (!(bytes >= 0)) { return ""; }
    if (bytes < 1024) { return bytes + " B"; }
    var units = ["KB", "MB", "GB"], v = bytes / 1024, i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + " " + units[i];
  }

  var info = document.getElementById("upload-file-info");
  if (!info && input) {
    info = document.createElement("p");
    info.id = "upload-file-info";
    info.className = "file-info";
    info.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", info);
  }

  function tooLarge(file) { return isFinite(maxBytes) && maxBytes > 0 && file && file.size > maxBytes; }

  function showFile() {
    if (!info) { return; }
    var file = input && input.files && input.files[0];
    info.classList.remove("file-info-error");
    if (!file) { info.textContent = ""; return; }
    info.textContent = "Selected: " + file.name + " (" + formatSize(file.size) + ")";
    if (tooLarge(file)) {
      info.textContent += " - larger than the " + formatSize(maxBytes) + " limit.";
      info.classList.add("file-info-error");
    }
  }

  function setBusy(busy) {
    buttons.forEach(function (b) {
      b.disabled = busy;
      if (busy) {
        b.setAttribute("data-label", b.tagName === "INPUT" ? b.value : b.textContent);
        if (b.tagName === "INPUT") { b.value = "Uploading..."; } else { b.textContent = "Uploading..."; }
      } else if (b.hasAttribute("data-label")) {
        if (b.tagName === "INPUT") { b.value = b.getAttribute("data-label"); } else { b.textContent = b.getAttribute("data-label"); }
        b.removeAttribute("data-label");
      }
    });
    form.classList.toggle("is-uploading", busy);
    form.setAttribute("aria-busy", busy ? "true" : "false");
  }

  if (input) { input.addEventListener("change", showFile); showFile(); }

  form.addEventListener("submit", function (ev) {
    var file = input && input.files && input.files[0];
    if (tooLarge(file)) { ev.preventDefault(); showFile(); return; }
    if (form.classList.contains("is-uploading")) { ev.preventDefault(); return; }   // double submit
    // Disable after the browser has collected the form data (disabled buttons are not submitted).
    window.setTimeout(function () { setBusy(true); }, 0);
  });

  window.addEventListener("pageshow", function (ev) { if (ev.persisted) { setBusy(false); } });
})();
