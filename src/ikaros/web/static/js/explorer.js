/*
 * explorer.js - ikaros workbench: interactive marker explorer (/cohorts/{id}/explore).
 *
 * Reads div#explorer (data-cohort, data-markers JSON array, data-endpoints JSON array,
 * data-time-unit), builds the controls inside it (marker and endpoint selects, a cut-point slider
 * over the index into `candidates` with Q1/median/Q3 marks, the current cut, n low/high, the
 * cut origin badge), a p-value panel (unadjusted log-rank p; for an optimised cut the
 * search-corrected p, its method and an explanation) and the Kaplan-Meier chart (IkarosKM).
 * Data: GET /api/v1/cohorts/{id}/explorer?marker=..&endpoint=..[&cut=..]; slider input is
 * debounced (150 ms), stale responses are ignored, API errors ({"detail": ...}) are shown in a
 * message box. Marker, endpoint and a moved cut are mirrored in the page URL (shareable).
 * CSP-safe: DOM built with createElement + textContent only.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var THUMB_PX = 18;              // keep in sync with the range thumb width in app.css
  var METHOD_NAMES = { Lau94: "Lausen-Schumacher 1994", Lau92: "Lausen-Schumacher 1992", condMC: "conditional Monte Carlo" };

  var root = document.getElementById("explorer");
  if (!root) { return; }

  // ---- helpers -------------------------------------------------------------------------------
  function el(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "class") { node.className = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function parseList(raw) {
    if (!raw) { return []; }
    try { var v = JSON.parse(raw); return Array.isArray(v) ? v : []; } catch (e) { return []; }
  }

  // Options may be plain strings or {value|key|id, label} objects.
  function optionOf(item) {
    if (item && typeof item === "object") {
      var v = item.value !== undefined ? item.value : item.key !== undefined ? item.key : item.id;
      return { value: String(v), label: String(item.label || v) };
    }
    var s = String(item);
    return { value: s, label: /^[a-z]{2,4}$/.test(s) ? s.toUpperCase() : s };
  }

  function isNum(v) { return typeof v === "number" && isFinite(v); }

  /* p-value: <0.0001, else 4 decimals below 0.001, else two significant figures (0.0062, 0.043, 0.43). */
  function formatP(p) {
    if (!isNum(p)) { return "n/a"; }
    if (p < 0.0001) { return "<0.0001"; }
    if (p < 0.001) { return p.toFixed(4); }
    if (p > 0.99) { return ">0.99"; }
    return p.toPrecision(2);
  }

  function formatCut(v) { return isNum(v) ? String(Number(v.toPrecision(4))) : "n/a"; }

  function closestIndex(list, v) {
    var best = -1, bestD = Infinity;
    for (var i = 0; i < list.length; i++) {
      var d = Math.abs(list[i] - v);
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  /* Index of the largest candidate <= v (low = marker <= cut), or -1 when v is out of range. */
  function floorIndex(list, v) {
    if (!list.length || v < list[0] - 1e-12 || v > list[list.length - 1] + 1e-12) { return -1; }
    var idx = 0;
    for (var i = 0; i < list.length; i++) { if (list[i] <= v + 1e-12) { idx = i; } }
    return idx;
  }

  function detailText(body, resp) {
    var d = body && body.detail;
    if (typeof d === "string") { return d; }
    if (Array.isArray(d)) {
      return d.map(function (x) {
        if (x && typeof x === "object") { return (Array.isArray(x.loc) ? x.loc.join(".") + ": " : "") + (x.msg || JSON.stringify(x)); }
        return String(x);
      }).join("; ");
    }
    if (d && typeof d === "object") { return JSON.stringify(d); }
    return "Request failed (HTTP " + resp.status + (resp.statusText ? " " + resp.statusText : "") + ").";
  }

  // ---- configuration -------------------------------------------------------------------------
  var cohort = root.getAttribute("data-cohort") || "";
  var markers = parseList(root.getAttribute("data-markers")).map(optionOf);
  var endpoints = parseList(root.getAttribute("data-endpoints")).map(optionOf);
  var timeUnit = root.getAttribute("data-time-unit") || "months";
  var query = new URLSearchParams(window.location.search);

  function pick(list, wanted) {
    for (var i = 0; i < list.length; i++) { if (list[i].value === wanted) { return wanted; } }
    return list.length ? list[0].value : "";
  }

  var state = {
    marker: pick(markers, query.get("marker")),
    endpoint: pick(endpoints, query.get("endpoint")),
    data: null,
    preIndex: -1,
    seq: 0,
    controller: null,
    timer: null,
    chart: null,
    candidatesKey: ""
  };

  // ---- UI skeleton ---------------------------------------------------------------------------
  clear(root);
  root.classList.add("explorer");
  var layout = el("div", { "class": "explorer-layout" }, root);
  var side = el("div", { "class": "explorer-side" }, layout);
  var main = el("div", { "class": "explorer-main" }, layout);

  var controls = el("div", { "class": "explorer-controls" }, side);
  function selectField(id, label, options, value) {
    var field = el("div", { "class": "field" }, controls);
    el("label", { "for": id }, field, label);
    var sel = el("select", { id: id, name: id.replace("-select", "") }, field);
    options.forEach(function (o) {
      var opt = el("option", { value: o.value }, sel, o.label);
      if (o.value === value) { opt.selected = true; }
    });
    sel.disabled = options.length < 2;
    return sel;
  }
  var markerSel = selectField("marker-select", "Marker", markers, state.marker);
  var endpointSel = selectField("endpoint-select", "Endpoint", endpoints, state.endpoint);

  var cutBox = el("div", { "class": "cut-panel" }, side);
  var cutHead = el("div", { "class": "cut-head" }, cutBox);
  el("label", { "for": "cut-slider" }, cutHead, "Cut-point");
  var cutValue = el("output", { id: "cut-value", "for": "cut-slider", "class": "cut-value" }, cutHead, "-");
  var sliderWrap = el("div", { "class": "cut-slider-wrap" }, cutBox);
  var slider = el("input", { id: "cut-slider", type: "range", min: "0", max: "0", step: "1", value: "0",
    list: "cut-quartiles", "aria-describedby": "cut-groups" }, sliderWrap);
  slider.disabled = true;
  var datalist = el("datalist", { id: "cut-quartiles" }, sliderWrap);
  var marks = el("div", { "class": "cut-marks", "aria-label": "Quartiles of the marker" }, sliderWrap);
  var cutGroups = el("div", { id: "cut-groups", "class": "cut-groups" }, cutBox, "");
  var originRow = el("div", { "class": "cut-origin-row" }, cutBox);
  var cutOrigin = el("span", { id: "cut-origin", "class": "badge badge-prespecified" }, originRow, "pre-specified (lower quartile)");
  var resetBtn = el("button", { id: "reset-cut", type: "button", "class": "btn btn-secondary" }, cutBox, "Back to pre-specified cut (Q1)");
  resetBtn.disabled = true;

  var panel = el("section", { id: "p-panel", "class": "p-panel", "aria-live": "polite", "aria-label": "Test results" }, side);
  var rowLog = el("div", { "class": "p-row" }, panel);
  el("span", { "class": "p-name" }, rowLog, "Log-rank p (unadjusted)");
  var pLog = el("span", { id: "p-logrank", "class": "p-value" }, rowLog, "-");
  var rowCorr = el("div", { id: "p-corrected-row", "class": "p-row p-row-corrected" }, panel);
  var corrHead = el("span", { "class": "p-name" }, rowCorr);
  var corrName = el("span", null, corrHead, "Corrected p");
  corrHead.appendChild(document.createTextNode(" "));
  el("span", { "class": "badge badge-optimised" }, corrHead, "optimised");
  var pCorr = el("span", { id: "p-corrected", "class": "p-value" }, rowCorr, "");
  rowCorr.hidden = true;
  var note = el("p", { id: "p-note", "class": "p-note" }, panel, "");
  note.hidden = true;
  var meta = el("p", { id: "p-meta", "class": "p-meta" }, panel, "");
  var landmarkLine = el("p", { id: "p-landmark", "class": "p-meta" }, panel, "");

  var message = el("div", { id: "explorer-message", "class": "message message-error", role: "alert" }, main);
  message.hidden = true;
  var chartEl = el("div", { id: "km-chart", "class": "km-container" }, main);

  // ---- rendering -----------------------------------------------------------------------------
  function showError(text) {
    message.textContent = text;
    message.hidden = false;
    root.classList.add("has-error");
  }

  function hideError() {
    message.hidden = true;
    message.textContent = "";
    root.classList.remove("has-error");
  }

  function setBusy(busy) {
    root.classList.toggle("is-loading", busy);
    root.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function groupByKey(data, key) {
    var gs = (data && data.groups) || [];
    for (var i = 0; i < gs.length; i++) { if (gs[i].key === key) { return gs[i]; } }
    return null;
  }

  function buildMarks(data) {
    var cands = data.candidates || [];
    var key = state.marker + "|" + state.endpoint + "|" + cands.length + "|" + cands[0] + "|" + cands[cands.length - 1];
    if (key === state.candidatesKey) { return; }
    state.candidatesKey = key;
    clear(datalist);
    clear(marks);
    slider.max = String(Math.max(0, cands.length - 1));
    slider.disabled = cands.length < 2;
    var q = data.quartiles || {};
    var pre = data.cut && isNum(data.cut.prespecified) ? data.cut.prespecified : q.q1;
    state.preIndex = isNum(pre) ? closestIndex(cands, pre) : -1;
    var items = [
      { label: "Q1", title: "lower quartile (pre-specified cut)", idx: state.preIndex },
      { label: "median", title: "median", idx: isNum(q.median) ? floorIndex(cands, q.median) : -1 },
      { label: "Q3", title: "upper quartile", idx: isNum(q.q3) ? floorIndex(cands, q.q3) : -1 }
    ];
    var span = Math.max(1, cands.length - 1);
    items.forEach(function (it) {
      if (it.idx < 0) { return; }
      el("option", { value: String(it.idx), label: it.label }, datalist);
      var frac = it.idx / span;
      var b = el("button", { type: "button", "class": "cut-mark" + (it.label === "Q1" ? " cut-mark-q1" : ""),
        title: "Move the cut to the " + it.title + " (" + formatCut(cands[it.idx]) + ")" }, marks, it.label);
      b.style.left = "calc(" + (frac * 100).toFixed(3) + "% + " + ((0.5 - frac) * THUMB_PX).toFixed(2) + "px)";
      b.addEventListener("click", function () {
        slider.value = String(it.idx);
        onSliderInput();
        flush();
      });
    });
  }

  // value: the server's cut (Q1 itself for the pre-specified cut); else the candidate at idx
  function showCutReadout(idx, nLow, nHigh, value) {
    var data = state.data, cands = (data && data.candidates) || [];
    var v = isNum(value) ? value : cands[idx];
    cutValue.textContent = formatCut(v);
    clear(cutGroups);
    el("span", { "class": "cut-group cut-group-low" }, cutGroups, "low (<= " + formatCut(v) + "): n = " + nLow);
    el("span", { "class": "cut-group cut-group-high" }, cutGroups, "high (> " + formatCut(v) + "): n = " + nHigh);
    slider.setAttribute("aria-valuetext", "cut " + formatCut(v) + ", low n " + nLow + ", high n " + nHigh);
  }

  function setOrigin(optimised, label) {
    cutOrigin.textContent = label || (optimised ? "optimised (moved from Q1)" : "pre-specified (lower quartile)");
    cutOrigin.className = "badge " + (optimised ? "badge-optimised" : "badge-prespecified");
    resetBtn.disabled = !optimised;
    root.classList.toggle("is-optimised", optimised);
  }

  function apply(data) {
    hideError();
    var changedSet = !state.data || state.data.marker !== data.marker || state.data.endpoint !== data.endpoint;
    state.data = data;
    buildMarks(data);
    var cands = data.candidates || [];
    var cut = data.cut || {};
    var idx = isNum(cut.index) && cut.index >= 0 && cut.index < cands.length ? cut.index : closestIndex(cands, cut.value);
    if (idx >= 0) { slider.value = String(idx); }
    var low = groupByKey(data, "low"), high = groupByKey(data, "high");
    var nLow = low ? low.n : (data.candidate_n_low || [])[idx];
    var nHigh = high ? high.n : (isNum(data.n) && isNum(nLow) ? data.n - nLow : "?");
    showCutReadout(idx, nLow, nHigh, cut.value);
    var optimised = cut.origin === "optimised";
    setOrigin(optimised, cut.label);

    var p = data.p || {};
    pLog.textContent = formatP(p.logrank);
    if (optimised) {
      var method = p.corrected_method || "corrected";
      corrName.textContent = "Corrected p (" + method + ")";
      corrName.title = METHOD_NAMES[method] || method;
      pCorr.textContent = isNum(p.corrected) ? formatP(p.corrected) : "not available";
      rowCorr.hidden = false;
      note.textContent = "This cut was chosen by looking at the data, so the unadjusted log-rank p is not valid. " +
        "The corrected p (" + (METHOD_NAMES[method] || method) + ") accounts for the search over all " + cands.length +
        " candidate cuts.";
      note.hidden = false;
    } else {
      rowCorr.hidden = true;
      pCorr.textContent = "";
      note.hidden = true;
      note.textContent = "";
    }
    meta.textContent = "n = " + data.n + " complete cases" +
      (data.n_excluded ? " (" + data.n_excluded + " excluded: missing marker or endpoint)" : "") + ".";
    var unit = data.time_unit || timeUnit;
    if (isNum(data.landmark)) {
      var parts = (data.groups || []).filter(function (g) { return g.landmark_surv !== undefined; }).map(function (g) {
        return g.key + " " + (isNum(g.landmark_surv) ? g.landmark_surv.toFixed(2) : "n/a");
      });
      landmarkLine.textContent = parts.length ? "Survival at " + data.landmark + " " + unit + ": " + parts.join(", ") + "." : "";
    } else {
      landmarkLine.textContent = "";
    }

    var epLabel = endpointSel.options[endpointSel.selectedIndex] ? endpointSel.options[endpointSel.selectedIndex].textContent : data.endpoint;
    var opts = {
      timeUnit: unit,
      landmark: isNum(data.landmark) ? data.landmark : null,
      ariaLabel: epLabel + " by " + data.marker + ", " + (cut.label || "") + ", cut " + formatCut(cut.value)
    };
    if (changedSet) { opts.resetZoom = true; }
    if (window.IkarosKM) {
      state.chart = window.IkarosKM.render(chartEl, data.groups || [], opts);
    } else {
      showError("The chart script (km_chart.js) did not load.");
    }
    syncUrl(optimised ? cut.value : null);
  }

  function syncUrl(cutValueOrNull) {
    if (!window.history || !window.history.replaceState) { return; }
    var q = new URLSearchParams(window.location.search);
    q.set("marker", state.marker);
    q.set("endpoint", state.endpoint);
    if (cutValueOrNull === null || cutValueOrNull === undefined) { q.delete("cut"); } else { q.set("cut", String(cutValueOrNull)); }
    try { window.history.replaceState(window.history.state, "", window.location.pathname + "?" + q.toString()); } catch (e) { /* ignore */ }
  }

  // ---- data loading --------------------------------------------------------------------------
  function invalidate() {
    state.seq += 1;
    if (state.controller) { state.controller.abort(); state.controller = null; }
    return state.seq;
  }

  function load(cut) {
    if (!cohort || !state.marker || !state.endpoint) {
      showError("No markers or endpoints are available for this cohort.");
      return;
    }
    var seq = invalidate();
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    state.controller = ctrl;
    var q = new URLSearchParams();
    q.set("marker", state.marker);
    q.set("endpoint", state.endpoint);
    if (cut !== null && cut !== undefined) { q.set("cut", String(cut)); }
    var url = "/api/v1/cohorts/" + encodeURIComponent(cohort) + "/explorer?" + q.toString();
    setBusy(true);
    var init = { headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (ctrl) { init.signal = ctrl.signal; }
    window.fetch(url, init).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (body) {
        if (seq !== state.seq) { return; }
        if (!resp.ok) { throw new Error(detailText(body, resp)); }
        if (!body || !Array.isArray(body.groups)) { throw new Error("Unexpected response from the server."); }
        apply(body);
      });
    }).catch(function (err) {
      if (seq !== state.seq || (err && err.name === "AbortError")) { return; }
      showError(err && err.message ? err.message : "Request failed.");
    }).then(function () {
      if (seq === state.seq) { setBusy(false); state.controller = null; }
    });
  }

  function currentCut() {
    var cands = (state.data && state.data.candidates) || [];
    var idx = parseInt(slider.value, 10);
    return idx >= 0 && idx < cands.length ? cands[idx] : null;
  }

  function flush() {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    if (!state.data) { return; }
    var idx = parseInt(slider.value, 10);
    load(idx === state.preIndex ? null : currentCut());
  }

  function onSliderInput() {
    var data = state.data;
    if (!data) { return; }
    invalidate();    // any response for an earlier position is now stale
    var idx = parseInt(slider.value, 10);
    var nLow = (data.candidate_n_low || [])[idx];
    showCutReadout(idx, nLow, isNum(nLow) && isNum(data.n) ? data.n - nLow : "?");
    setOrigin(idx !== state.preIndex, null);
    root.classList.add("is-pending");
    if (state.timer) { clearTimeout(state.timer); }
    state.timer = setTimeout(function () { state.timer = null; root.classList.remove("is-pending"); flush(); }, DEBOUNCE_MS);
  }

  slider.addEventListener("input", onSliderInput);
  // No separate "change" handler: keyboard steps fire input+change per key press, and the
  // debounced input handler already covers the release of a mouse drag.
  markerSel.addEventListener("change", function () { state.marker = markerSel.value; state.candidatesKey = ""; load(null); });
  endpointSel.addEventListener("change", function () { state.endpoint = endpointSel.value; state.candidatesKey = ""; load(null); });
  resetBtn.addEventListener("click", function () {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    if (state.preIndex >= 0) { slider.value = String(state.preIndex); }
    setOrigin(false, null);
    load(null);
  });

  // Initial load: honour a cut given in the page URL (shared link), else the pre-specified cut.
  var initialCut = parseFloat(query.get("cut"));
  load(isFinite(initialCut) ? initialCut : null);

  window.IkarosExplorer = { reload: function () { load(currentCut()); }, formatP: formatP, state: state };
})();
