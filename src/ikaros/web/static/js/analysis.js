/*
 * analysis.js - ikaros workbench: live progress on the analysis page (/analyses/{id}).
 *
 * div#analysis carries data-analysis (the id) and optionally data-status (the status the server
 * rendered). While the status is queued/running, polls GET /api/v1/analyses/{id} every 700 ms
 * and updates <progress id="analysis-progress">, #analysis-status and #analysis-label. When the
 * status becomes "done" the page is reloaded once so the server renders the download links; on
 * "failed" the error text is shown in #analysis-error (created if the template has none).
 * Network errors are retried with back-off. CSP-safe: textContent only.
 */
(function () {
  "use strict";

  var POLL_MS = 700;
  var MAX_BACKOFF_MS = 10000;
  var root = document.getElementById("analysis");
  if (!root) { return; }
  var id = root.getAttribute("data-analysis");
  if (!id) { return; }

  var progress = document.getElementById("analysis-progress");
  var statusEl = document.getElementById("analysis-status");
  var labelEl = document.getElementById("analysis-label");
  var STATUS_TEXT = { queued: "Queued", running: "Running", done: "Done", failed: "Failed" };
  var reloadKey = "ikaros-analysis-reloaded-" + id;
  var failures = 0;
  var sawActive = false;

  function errorBox() {
    var box = document.getElementById("analysis-error");
    if (!box) {
      box = document.createElement("div");
      box.id = "analysis-error";
      box.className = "message message-error";
      box.setAttribute("role", "alert");
      root.appendChild(box);
    }
    return box;
  }

  function notice(text) {
    var box = document.getElementById("analysis-notice");
    if (!box && text) {
      box = document.createElement("p");
      box.id = "analysis-notice";
      box.className = "message message-warning";
      box.setAttribute("role", "status");
      root.appendChild(box);
    }
    if (box) { box.textContent = text || ""; box.hidden = !text; }
  }

  function setStatus(status) {
    if (statusEl) {
      statusEl.textContent = STATUS_TEXT[status] || String(status || "");
      statusEl.className = "badge badge-" + String(status || "queued").replace(/[^a-z]/g, "");
    }
    root.setAttribute("data-status", status || "");
    root.classList.remove("status-queued", "status-running", "status-done", "status-failed");
    if (status) { root.classList.add("status-" + status); }
    root.setAttribute("aria-busy", status === "queued" || status === "running" ? "true" : "false");
  }

  function update(a) {
    var status = a.status;
    setStatus(status);
    if (progress) {
      var frac = typeof a.progress === "number" && isFinite(a.progress) ? Math.max(0, Math.min(1, a.progress)) : null;
      if (status === "queued" && (frac === null || frac === 0)) {
        progress.removeAttribute("value");          // indeterminate while waiting
      } else {
        progress.max = 1;
        progress.value = status === "done" ? 1 : (frac === null ? 0 : frac);
      }
      progress.textContent = frac === null ? "" : Math.round(frac * 100) + "%";
      progress.setAttribute("aria-valuetext", (frac === null ? "" : Math.round(frac * 100) + "% ") + (a.progress_label || ""));
    }
    if (labelEl) {
      labelEl.textContent = status === "queued" ? "waiting for a free worker" :
        (status === "running" && a.progress_label !== status ? a.progress_label || "" : "");
    }
    if (status === "failed") {
      var box = errorBox();
      box.textContent = a.error ? String(a.error) : "The analysis failed.";
      box.hidden = false;
    }
  }

  function reloadOnce() {
    var already = false;
    try { already = window.sessionStorage.getItem(reloadKey) === "1"; window.sessionStorage.setItem(reloadKey, "1"); } catch (e) { /* ignore */ }
    if (!already) { window.location.reload(); }
  }

  function poll() {
    window.fetch("/api/v1/analyses/" + encodeURIComponent(id), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().catch(function () { return null; }).then(function (body) {
          if (!resp.ok) {
            var d = body && body.detail;
            var err = new Error(typeof d === "string" ? d : "Request failed (HTTP " + resp.status + ").");
            err.fatal = resp.status === 404;
            throw err;
          }
          return body;
        });
      })
      .then(function (a) {
        failures = 0;
        notice("");
        update(a);
        if (a.status === "queued" || a.status === "running") {
          sawActive = true;
          window.setTimeout(poll, POLL_MS);
        } else if (a.status === "done" && sawActive) {
          reloadOnce();
        }
      })
      .catch(function (err) {
        if (err && err.fatal) {
          var box = errorBox();
          box.textContent = err.message;
          box.hidden = false;
          return;
        }
        failures += 1;
        var wait = Math.min(MAX_BACKOFF_MS, POLL_MS * Math.pow(2, failures));
        notice("Lost contact with the server (" + (err && err.message ? err.message : "network error") +
          "); retrying in " + Math.round(wait / 1000) + " s.");
        window.setTimeout(poll, wait);
      });
  }

  var initial = root.getAttribute("data-status");
  if (initial === "done" || initial === "failed") {
    // Server already rendered the final state; clear the reload marker for a future run.
    try { window.sessionStorage.removeItem(reloadKey); } catch (e) { /* ignore */ }
    return;
  }
  sawActive = initial === "queued" || initial === "running" || !initial;
  poll();
})();
