/*
 * explorer.js - ikaros workbench: the explorer (/cohorts/{id}/explore).
 *
 * Reads div#explorer (data-cohort, data-markers JSON array, data-variables JSON array of
 * {name, levels}, data-endpoints JSON array, data-time-unit) and builds inside it:
 *   - "Compare by" (#by-select: markers and clinical variables) and "Endpoint" (#endpoint-select);
 *   - for a marker: "Groups" (#split-select: lower quartile, median, tertiles, quartiles, upper
 *     quartile, thresholds with #thresholds-input) and the cut slider (#cut-slider) over the
 *     candidate cuts with Q1/median/Q3 marks; moving it gives a custom cut, labelled optimised,
 *     with the search-corrected p;
 *   - for a variable: its reference level (#reference-select);
 *   - the tests (#p-logrank, #p-trend, #p-corrected) and the hazard ratios with 95% CI and p
 *     (#hr-table), as ikaros analyze computes them;
 *   - downloads of the current chart: #download-png, #download-svg (the report's figure, up to
 *     the zoomed time) and #download-csv (R survfit-like table);
 *   - the Kaplan-Meier chart (IkarosKM) in #km-chart.
 * Data: GET /api/v1/cohorts/{id}/explorer?endpoint=..&marker=..|variable=..[&split=..]
 * [&thresholds=..][&cut=..][&reference=..]; slider input is debounced (150 ms), stale responses
 * are ignored, API errors ({"detail": ...}) are shown in a message box. The state is mirrored
 * in the page URL (shareable). CSP-safe: DOM built with createElement + textContent only.
 */
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;
  var THUMB_PX = 18;              // keep in sync with the range thumb width in app.css
  var METHOD_NAMES = { Lau94: "Lausen-Schumacher 1994", Lau92: "Lausen-Schumacher 1992", condMC: "conditional Monte Carlo" };
  var SPLITS = [
    { value: "q1", label: "lower quartile: Q1 vs Q2-4 (pre-specified)" },
    { value: "median", label: "median: low vs high" },
    { value: "tertile", label: "tertiles: T1, T2, T3" },
    { value: "quartiles", label: "quartiles: Q1, Q2, Q3, Q4" },
    { value: "upper-quartile", label: "upper quartile: Q1-3 vs Q4" },
    { value: "thresholds", label: "thresholds..." },
    { value: "cut", label: "moved cut (slider): optimised" }
  ];

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

  function isNum(v) { return typeof v === "number" && isFinite(v); }

  /* p-value: <0.0001, else 4 decimals below 0.001, else two significant figures (0.0062, 0.043, 0.43). */
  function formatP(p) {
    if (!isNum(p)) { return "n/a"; }
    if (p < 0.0001) { return "<0.0001"; }
    if (p < 0.001) { return p.toFixed(4); }
    if (p > 0.99) { return ">0.99"; }
    return p.toPrecision(2);
  }

  function formatHR(v) { return isNum(v) ? v.toFixed(2) : "n/a"; }

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
  var markers = parseList(root.getAttribute("data-markers")).map(String);
  var variables = parseList(root.getAttribute("data-variables")).filter(function (v) { return v && v.name; });
  var endpoints = parseList(root.getAttribute("data-endpoints")).map(String);
  var timeUnit = root.getAttribute("data-time-unit") || "months";
  var query = new URLSearchParams(window.location.search);

  function variableOf(name) {
    for (var i = 0; i < variables.length; i++) { if (variables[i].name === name) { return variables[i]; } }
    return null;
  }

  var initialBy = query.get("variable") && variableOf(query.get("variable")) ? "v:" + query.get("variable")
    : (markers.indexOf(query.get("marker")) >= 0 ? "m:" + query.get("marker")
    : (markers.length ? "m:" + markers[0] : (variables.length ? "v:" + variables[0].name : "")));
  var initialSplit = SPLITS.some(function (s) { return s.value === query.get("split"); }) ? query.get("split") : "q1";

  var state = {
    by: initialBy,
    endpoint: endpoints.indexOf(query.get("endpoint")) >= 0 ? query.get("endpoint") : (endpoints[0] || ""),
    split: initialSplit,
    thresholds: query.get("thresholds") || "",
    reference: query.get("reference") || "",
    cut: null,            // a moved cut (slider), else null
    zoom: null,
    data: null,
    preIndex: -1,
    seq: 0,
    controller: null,
    timer: null,
    chart: null,
    candidatesKey: ""
  };

  function isMarker() { return state.by.indexOf("m:") === 0; }
  function byName() { return state.by.slice(2); }

  // ---- UI skeleton ---------------------------------------------------------------------------
  clear(root);
  root.classList.add("explorer");
  var layout = el("div", { "class": "explorer-layout" }, root);
  var side = el("div", { "class": "explorer-side" }, layout);
  var main = el("div", { "class": "explorer-main" }, layout);

  var controls = el("div", { "class": "explorer-controls" }, side);
  function field(parent, id, label) {
    var f = el("div", { "class": "field" }, parent);
    el("label", { "for": id }, f, label);
    return f;
  }
  var bySel = el("select", { id: "by-select", name: "by" }, field(controls, "by-select", "Compare by"));
  if (markers.length) {
    var gm = el("optgroup", { label: "Markers" }, bySel);
    markers.forEach(function (m) { el("option", { value: "m:" + m }, gm, m); });
  }
  if (variables.length) {
    var gv = el("optgroup", { label: "Clinical variables" }, bySel);
    variables.forEach(function (v) { el("option", { value: "v:" + v.name }, gv, v.name); });
  }
  bySel.value = state.by;
  var endpointSel = el("select", { id: "endpoint-select", name: "endpoint" }, field(controls, "endpoint-select", "Endpoint"));
  endpoints.forEach(function (e) { el("option", { value: e }, endpointSel, /^[a-z]{2,4}$/.test(e) ? e.toUpperCase() : e); });
  endpointSel.value = state.endpoint;
  endpointSel.disabled = endpoints.length < 2;

  // marker options: groups and the cut slider
  var markerBox = el("div", { "class": "cut-panel", id: "marker-options" }, side);
  var splitField = field(markerBox, "split-select", "Groups");
  var splitSel = el("select", { id: "split-select", name: "split" }, splitField);
  SPLITS.forEach(function (s) { el("option", { value: s.value }, splitSel, s.label); });
  var movedOption = splitSel.querySelector("option[value=cut]");
  movedOption.disabled = true;   // chosen by moving the slider, not here
  splitSel.value = state.split;
  var thrRow = el("div", { "class": "thresholds-row" }, markerBox);
  var thrInput = el("input", { id: "thresholds-input", name: "thresholds", placeholder: "e.g. 3.5,5.5", maxlength: "200",
    "aria-label": "Thresholds, comma-separated" }, thrRow);
  thrInput.value = state.thresholds;
  var thrBtn = el("button", { type: "button", id: "thresholds-apply", "class": "btn btn-small" }, thrRow, "Apply");
  var cutHead = el("div", { "class": "cut-head" }, markerBox);
  el("label", { "for": "cut-slider" }, cutHead, "Cut-point");
  var cutValue = el("output", { id: "cut-value", "for": "cut-slider", "class": "cut-value" }, cutHead, "-");
  var sliderWrap = el("div", { "class": "cut-slider-wrap" }, markerBox);
  var slider = el("input", { id: "cut-slider", type: "range", min: "0", max: "0", step: "1", value: "0",
    list: "cut-quartiles", "aria-describedby": "cut-groups" }, sliderWrap);
  slider.disabled = true;
  var datalist = el("datalist", { id: "cut-quartiles" }, sliderWrap);
  var marks = el("div", { "class": "cut-marks", "aria-label": "Quartiles of the marker" }, sliderWrap);
  var cutGroups = el("div", { id: "cut-groups", "class": "cut-groups" }, markerBox, "");
  var originRow = el("div", { "class": "cut-origin-row" }, markerBox);
  var cutOrigin = el("span", { id: "cut-origin", "class": "badge badge-prespecified" }, originRow, "pre-specified (lower quartile)");
  var resetBtn = el("button", { id: "reset-cut", type: "button", "class": "btn btn-secondary" }, markerBox, "Back to pre-specified cut (Q1)");
  resetBtn.disabled = true;

  // variable options: the reference level
  var varBox = el("div", { "class": "cut-panel", id: "variable-options" }, side);
  var refSel = el("select", { id: "reference-select", name: "reference" }, field(varBox, "reference-select", "Reference level"));

  // tests and hazard ratios
  var panel = el("section", { id: "p-panel", "class": "p-panel", "aria-live": "polite", "aria-label": "Test results" }, side);
  var rowLog = el("div", { "class": "p-row" }, panel);
  el("span", { "class": "p-name" }, rowLog, "Log-rank p");
  var pLog = el("span", { id: "p-logrank", "class": "p-value" }, rowLog, "-");
  var rowTrend = el("div", { "class": "p-row", id: "p-trend-row" }, panel);
  el("span", { "class": "p-name" }, rowTrend, "Trend p");
  var pTrend = el("span", { id: "p-trend", "class": "p-value" }, rowTrend, "");
  rowTrend.hidden = true;
  var rowCorr = el("div", { id: "p-corrected-row", "class": "p-row p-row-corrected" }, panel);
  var corrHead = el("span", { "class": "p-name" }, rowCorr);
  var corrName = el("span", null, corrHead, "Corrected p");
  corrHead.appendChild(document.createTextNode(" "));
  el("span", { "class": "badge badge-optimised" }, corrHead, "optimised");
  var pCorr = el("span", { id: "p-corrected", "class": "p-value" }, rowCorr, "");
  rowCorr.hidden = true;
  var note = el("p", { id: "p-note", "class": "p-note" }, panel, "");
  note.hidden = true;
  var hrTable = el("table", { id: "hr-table", "class": "data compact hr-table" }, panel);
  var hrCaption = el("caption", null, hrTable, "Hazard ratio (Cox, 95% CI)");
  var hrHead = el("tr", null, el("thead", null, hrTable));
  ["Group", "HR (95% CI)", "p"].forEach(function (h) { el("th", null, hrHead, h); });
  var hrBody = el("tbody", null, hrTable);
  var hrNote = el("p", { id: "hr-note", "class": "p-meta" }, panel, "");
  var meta = el("p", { id: "p-meta", "class": "p-meta" }, panel, "");
  var landmarkLine = el("p", { id: "p-landmark", "class": "p-meta" }, panel, "");

  var downloads = el("div", { id: "explorer-downloads", "class": "actions" }, side);
  el("span", { "class": "p-name" }, downloads, "This chart:");
  var dlPng = el("a", { id: "download-png", "class": "btn btn-small btn-secondary", download: "" }, downloads, "PNG");
  var dlSvg = el("a", { id: "download-svg", "class": "btn btn-small btn-secondary", download: "" }, downloads, "SVG");
  var dlCsv = el("a", { id: "download-csv", "class": "btn btn-small btn-secondary", download: "" }, downloads, "data (CSV)");

  var message = el("div", { id: "explorer-message", "class": "message message-error", role: "alert" }, main);
  message.hidden = true;
  var titleEl = el("h2", { id: "explorer-title", "class": "explorer-title" }, main, "");
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

  function showOptions() {
    var marker = isMarker();
    markerBox.hidden = !marker;
    varBox.hidden = marker;
    thrRow.hidden = !(marker && state.split === "thresholds");
    if (!marker) {
      var v = variableOf(byName());
      clear(refSel);
      (v ? v.levels : []).forEach(function (lv, i) {
        el("option", { value: i === 0 ? "" : String(lv) }, refSel, String(lv) + (i === 0 ? " (first)" : ""));
      });
      refSel.value = state.reference;
      if (refSel.value !== state.reference) { state.reference = ""; refSel.value = ""; }
    }
  }

  function buildMarks(data) {
    var cands = data.candidates || [];
    var key = state.by + "|" + state.endpoint + "|" + cands.length + "|" + cands[0] + "|" + cands[cands.length - 1];
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
    resetBtn.disabled = !optimised && state.split === "q1";
    root.classList.toggle("is-optimised", optimised);
  }

  /* A group label without its cut values: "Q2 (2.1-3.1)" -> "Q2" (the values are shown above). */
  function shortLabel(label) { return String(label || "").replace(/ \(.*\)$/, ""); }

  function renderHR(data) {
    clear(hrBody);
    var hr = data.hr || {};
    var terms = hr.terms || [];
    var refLabel = shortLabel(hr.reference || (data.groups && data.groups[0] ? data.groups[0].label : ""));
    var ref = el("tr", { "class": "hr-reference" }, hrBody);
    el("td", null, ref, refLabel);
    el("td", null, ref, "1 (reference)");
    el("td", null, ref, "");
    terms.forEach(function (t) {
      var tr = el("tr", null, hrBody);
      el("td", { title: String(t.group) }, tr, shortLabel(t.group));
      el("td", { "class": "num hr-value" }, tr, isNum(t.hr) ? formatHR(t.hr) + " (" + formatHR(t.lower) + "\u2013" + formatHR(t.upper) + ")" : "not estimable");
      el("td", { "class": "num hr-p" }, tr, formatP(t.p));
    });
    var method = hr.method === "firth" ? "Firth's penalised likelihood (a group without events). " : "";
    hrNote.textContent = method + (hr.note && hr.method !== "cox" ? String(hr.note) : "");
    hrCaption.textContent = "Hazard ratio vs " + (refLabel || "the first group") + " (Cox, 95% CI)";
  }

  function exportUrl(format) {
    var q = requestQuery();
    q.set("format", format);
    if (state.zoom && isNum(state.zoom[1])) { q.set("xlim", String(Number(state.zoom[1].toPrecision(6)))); }
    return "/api/v1/cohorts/" + encodeURIComponent(cohort) + "/explorer/export?" + q.toString();
  }

  function updateDownloads() {
    dlPng.href = exportUrl("png");
    dlSvg.href = exportUrl("svg");
    dlCsv.href = exportUrl("csv");
  }

  function apply(data) {
    hideError();
    var changedSet = !state.data || state.data.marker !== data.marker || state.data.variable !== data.variable ||
      state.data.endpoint !== data.endpoint;
    state.data = data;
    titleEl.textContent = data.title || "";
    var p = data.p || {};
    pLog.textContent = formatP(p.logrank);
    rowTrend.hidden = !isNum(p.trend);
    pTrend.textContent = isNum(p.trend) ? formatP(p.trend) : "";
    var cut = data.cut || {};
    var optimised = cut.origin === "optimised";
    if (data.marker) {
      buildMarks(data);
      var cands = data.candidates || [];
      var idx = isNum(cut.index) ? cut.index : -1;
      if (idx >= 0) { slider.value = String(idx); }
      var groups = data.groups || [];
      if (groups.length === 2 && idx >= 0) {
        showCutReadout(idx, groups[0].n, groups[1].n, cut.value);
      } else {
        cutValue.textContent = (cut.values || []).map(formatCut).join(", ");
        clear(cutGroups);
        groups.forEach(function (g) { el("span", { "class": "cut-group" }, cutGroups, g.label + ": n = " + g.n); });
      }
      setOrigin(optimised, cut.label);
      splitSel.value = optimised ? "cut" : (data.split === "cut" ? "q1" : data.split);
    } else {
      root.classList.remove("is-optimised");   // a variable: no cut, nothing optimised
    }
    if (optimised) {
      var method = p.corrected_method || "corrected";
      corrName.textContent = "Corrected p (" + method + ")";
      corrName.title = METHOD_NAMES[method] || method;
      pCorr.textContent = isNum(p.corrected) ? formatP(p.corrected) : "not available";
      rowCorr.hidden = false;
      note.textContent = "This cut was chosen by looking at the data, so the unadjusted log-rank p is not valid. " +
        "The corrected p (" + (METHOD_NAMES[method] || method) + ") accounts for the search over all " +
        (data.candidates || []).length + " candidate cuts; the hazard ratio at a chosen cut is biased away from 1 " +
        "for the same reason.";
      note.hidden = false;
    } else {
      rowCorr.hidden = true;
      pCorr.textContent = "";
      note.hidden = true;
      note.textContent = "";
    }
    renderHR(data);
    meta.textContent = "n = " + data.n + " complete cases" +
      (data.n_excluded ? " (" + data.n_excluded + " excluded: missing " + (data.marker ? "marker" : "value") + " or endpoint)" : "") + "." +
      ((data.notes || []).length ? " " + data.notes.join("; ") + "." : "");
    var unit = data.time_unit || timeUnit;
    var parts = (data.groups || []).filter(function (g) { return g.landmark_surv !== undefined; }).map(function (g) {
      return g.label + " " + (isNum(g.landmark_surv) ? g.landmark_surv.toFixed(2) : "n/a");
    });
    landmarkLine.textContent = parts.length && isNum(data.landmark) ? "Survival at " + data.landmark + " " + unit + ": " + parts.join(", ") + "." : "";

    var opts = {
      timeUnit: unit,
      landmark: isNum(data.landmark) ? data.landmark : null,
      ariaLabel: data.title || "",
      onZoom: function (domain) { state.zoom = domain; updateDownloads(); }
    };
    if (changedSet) { opts.resetZoom = true; state.zoom = null; }
    if (window.IkarosKM) {
      state.chart = window.IkarosKM.render(chartEl, data.groups || [], opts);
    } else {
      showError("The chart script (km_chart.js) did not load.");
    }
    syncUrl();
    updateDownloads();
  }

  function requestQuery() {
    var q = new URLSearchParams();
    q.set("endpoint", state.endpoint);
    if (isMarker()) {
      q.set("marker", byName());
      if (state.cut !== null) {
        q.set("cut", String(state.cut));
      } else {
        q.set("split", state.split);
        if (state.split === "thresholds") { q.set("thresholds", state.thresholds); }
      }
    } else {
      q.set("variable", byName());
      if (state.reference) { q.set("reference", state.reference); }
    }
    return q;
  }

  function syncUrl() {
    if (!window.history || !window.history.replaceState) { return; }
    try {
      window.history.replaceState(window.history.state, "", window.location.pathname + "?" + requestQuery().toString());
    } catch (e) { /* ignore */ }
  }

  // ---- data loading --------------------------------------------------------------------------
  function invalidate() {
    state.seq += 1;
    if (state.controller) { state.controller.abort(); state.controller = null; }
    return state.seq;
  }

  function load() {
    showOptions();
    if (!cohort || !state.by || !state.endpoint) {
      showError("No markers, clinical variables or survival endpoints are available for this cohort.");
      return;
    }
    if (isMarker() && state.cut === null && state.split === "thresholds" && !state.thresholds) {
      showError("Enter thresholds (comma-separated, increasing) and press Apply.");
      return;
    }
    var seq = invalidate();
    var ctrl = typeof AbortController === "function" ? new AbortController() : null;
    state.controller = ctrl;
    var url = "/api/v1/cohorts/" + encodeURIComponent(cohort) + "/explorer?" + requestQuery().toString();
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
    if (!state.data || !state.data.marker) { return; }
    var idx = parseInt(slider.value, 10);
    if (idx === state.preIndex) {
      state.cut = null;
      state.split = "q1";
      splitSel.value = "q1";
    } else {
      state.cut = currentCut();
    }
    load();
  }

  function onSliderInput() {
    var data = state.data;
    if (!data || !data.marker) { return; }
    invalidate();    // any response for an earlier position is now stale
    var idx = parseInt(slider.value, 10);
    if (idx !== state.preIndex) { splitSel.value = "cut"; }
    var nLow = (data.candidate_n_low || [])[idx];
    showCutReadout(idx, nLow, isNum(nLow) && isNum(data.n) ? data.n - nLow : "?");
    setOrigin(idx !== state.preIndex, null);
    root.classList.add("is-pending");
    if (state.timer) { clearTimeout(state.timer); }
    state.timer = setTimeout(function () { state.timer = null; root.classList.remove("is-pending"); flush(); }, DEBOUNCE_MS);
  }

  slider.addEventListener("input", onSliderInput);
  bySel.addEventListener("change", function () {
    state.by = bySel.value; state.cut = null; state.reference = ""; state.candidatesKey = ""; load();
  });
  endpointSel.addEventListener("change", function () { state.endpoint = endpointSel.value; state.cut = null; state.candidatesKey = ""; load(); });
  splitSel.addEventListener("change", function () {
    state.split = splitSel.value; state.cut = null;
    showOptions();
    if (state.split === "thresholds" && !state.thresholds) { thrInput.focus(); return; }
    load();
  });
  thrBtn.addEventListener("click", function () { state.thresholds = thrInput.value.trim(); state.cut = null; load(); });
  thrInput.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); thrBtn.click(); } });
  refSel.addEventListener("change", function () { state.reference = refSel.value; load(); });
  resetBtn.addEventListener("click", function () {
    if (state.timer) { clearTimeout(state.timer); state.timer = null; }
    state.cut = null; state.split = "q1"; splitSel.value = "q1";
    load();
  });

  // Initial load: honour a cut given in the page URL (shared link), else the chosen split.
  var initialCut = parseFloat(query.get("cut"));
  if (isMarker() && isFinite(initialCut)) { state.cut = initialCut; }
  load();

  window.IkarosExplorer = { reload: load, formatP: formatP, state: state };
})();
