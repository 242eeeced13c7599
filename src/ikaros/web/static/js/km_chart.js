/*
 * km_chart.js - ikaros workbench: a small, dependency-free SVG Kaplan-Meier chart.
 *
 *   var chart = IkarosKM.render(container, groups, options);
 *
 * `groups` is the explorer JSON's "groups" array (R survfit tables: time, surv, lower, upper,
 * n_risk, n_event, n_censor per distinct time) or the whole explorer response (its .groups is
 * used). Draws right-continuous step curves from (0, 1), step-shaped CI bands (null bounds
 * skipped), censor ticks, nice axes, a legend (label, n, events) and a number-at-risk table
 * aligned to the x ticks. Hover shows a guide line and a tooltip (time, survival and number at
 * risk per group); drag horizontally to zoom the time axis, double-click or "Reset zoom" to reset.
 * Arrow keys move the guide when the chart has focus. Re-renders on container resize.
 * CSP-safe: DOM built with createElement(NS) + textContent only; no inline style markup.
 */
(function (global) {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";
  // Okabe-Ito colour-blind-safe palette.
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];
  var KEY_COLOURS = { low: "#0072B2", high: "#D55E00" };
  var DEFAULTS = {
    timeUnit: "months",     // used for the x title and the tooltip
    xLabel: null,           // default: capitalised timeUnit ("Months")
    yLabel: "Survival probability",
    plotHeight: null,       // px; default scales with width (200-380)
    showCI: true,
    showCensor: true,
    showRisk: true,
    landmark: null,         // optional time drawn as a dotted vertical line
    maxTime: null,          // optional minimum right end of the full time axis
    colors: null,           // optional array or {key: colour} overriding the palette
    ariaLabel: null,        // optional prefix for the SVG aria-label
    onZoom: null            // callback(domain [t0, t1] or null on reset)
    // (update()/render() on an existing chart also accept resetZoom: true)
  };
  var FONT = { tick: 12, label: 13, legend: 13, risk: 12 };
  var uid = 0;

  // ---- small helpers --------------------------------------------------------------------------
  function isNum(v) { return typeof v === "number" && isFinite(v); }

  function svgEl(tag, attrs, parent, text) {
    var node = document.createElementNS(SVGNS, tag);
    if (attrs) { Object.keys(attrs).forEach(function (k) { node.setAttribute(k, String(attrs[k])); }); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function htmlEl(tag, cls, parent, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function clearNode(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }

  function capitalise(s) { s = String(s || ""); return s.charAt(0).toUpperCase() + s.slice(1); }

  function linearScale(d0, d1, r0, r1) {
    var k = (r1 - r0) / ((d1 - d0) || 1);
    var f = function (v) { return r0 + (v - d0) * k; };
    f.invert = function (p) { return d0 + (p - r0) / k; };
    return f;
  }

  function r2(v) { return Math.round(v * 100) / 100; }

  // ---- data ----------------------------------------------------------------------------------
  function arr(a) { return Array.isArray(a) ? a : []; }

  function normaliseGroups(groups) {
    return arr(groups).map(function (g, i) {
      var time = arr(g.time), surv = arr(g.surv);
      var nRisk = arr(g.n_risk), nEvent = arr(g.n_event);
      var events = isNum(g.events) ? g.events : nEvent.reduce(function (s, v) { return s + (v || 0); }, 0);
      return {
        index: i,
        key: g.key || String(i),
        label: g.label || g.key || ("group " + (i + 1)),
        n: isNum(g.n) ? g.n : (nRisk.length ? nRisk[0] : 0),
        events: events,
        time: time, surv: surv,
        lower: arr(g.lower), upper: arr(g.upper),
        nRisk: nRisk, nEvent: nEvent, nCensor: arr(g.n_censor)
      };
    });
  }

  /* Survival just after time t (right-continuous); 1 before the first time; null after the last
     (0 if the curve reached 0). */
  function survAt(g, t) {
    var time = g.time, n = time.length;
    if (!n || t < time[0]) { return 1; }
    if (t > time[n - 1]) { return g.surv[n - 1] === 0 ? 0 : null; }   // curve ends at the last time unless S hit 0
    var lo = 0, hi = n - 1;
    while (lo < hi) {              // last index with time <= t
      var mid = (lo + hi + 1) >> 1;
      if (time[mid] <= t) { lo = mid; } else { hi = mid - 1; }
    }
    return g.surv[lo];
  }

  /* Number at risk at t: n_risk of the first table time >= t; 0 beyond the last time. */
  function riskAt(g, t) {
    var time = g.time, n = time.length;
    if (!n || t > time[n - 1]) { return 0; }
    var lo = 0, hi = n - 1;
    while (lo < hi) {              // first index with time >= t
      var mid = (lo + hi) >> 1;
      if (time[mid] >= t) { hi = mid; } else { lo = mid + 1; }
    }
    return g.nRisk[lo];
  }

  function niceStep(span, target, unit) {
    var raw = span / Math.max(1, target);
    if (/^month/i.test(unit || "") && raw > 1) {
      var steps = [2, 3, 6, 12, 24, 36, 48, 60, 120, 240];
      for (var i = 0; i < steps.length; i++) { if (steps[i] >= raw) { return steps[i]; } }
    }
    var p = Math.pow(10, Math.floor(Math.log10(raw || 1)));
    var m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * p;
  }

  function ticksFor(d0, d1, step) {
    var out = [], start = Math.ceil(d0 / step - 1e-9);
    for (var i = start; i * step <= d1 + step * 1e-9; i++) { out.push(+(i * step).toFixed(10)); }
    return out;
  }

  function decimalsFor(step) {
    var txt = String(+step.toPrecision(6)), dot = txt.indexOf(".");
    return dot < 0 ? 0 : Math.min(4, txt.length - dot - 1);
  }

  function fmtTime(t, span) {
    var d = span >= 20 ? 1 : span >= 2 ? 2 : 3;
    return t.toFixed(d);
  }

  function colourFor(g, i, colors) {
    if (Array.isArray(colors) && colors[i]) { return colors[i]; }
    if (colors && !Array.isArray(colors) && colors[g.key]) { return colors[g.key]; }
    return KEY_COLOURS[g.key] || PALETTE[i % PALETTE.length];
  }

  // ---- path builders ---------------------------------------------------------------------------
  function curvePath(g, xs, ys) {
    var d = "M" + r2(xs(0)) + "," + r2(ys(1));
    for (var i = 0; i < g.time.length; i++) {
      if (!isNum(g.surv[i])) { continue; }
      d += "H" + r2(xs(g.time[i])) + "V" + r2(ys(g.surv[i]));
    }
    return d;
  }

  /* Step-shaped CI polygons: interval i spans [time[i], time[i+1]) with bounds lower[i], upper[i].
     Runs of intervals with both bounds present become one closed polygon each. */
  function bandPath(g, xs, ys) {
    var t = g.time, lo = g.lower, up = g.upper, d = "", i = 0, n = t.length;
    function ok(k) { return isNum(lo[k]) && isNum(up[k]); }
    while (i < n - 1) {
      if (!ok(i)) { i++; continue; }
      var a = i;
      while (i + 1 < n - 1 && ok(i + 1)) { i++; }
      var b = i, k, pts = [];
      for (k = a; k <= b; k++) { pts.push([t[k], up[k]], [t[k + 1], up[k]]); }
      for (k = b; k >= a; k--) { pts.push([t[k + 1], lo[k]], [t[k], lo[k]]); }
      d += pts.map(function (p, j) { return (j ? "L" : "M") + r2(xs(p[0])) + "," + r2(ys(p[1])); }).join("") + "Z";
      i = b + 1;
    }
    return d;
  }

  function censorPath(g, xs, ys, half) {
    var d = "";
    for (var i = 0; i < g.time.length; i++) {
      if (g.nCensor[i] > 0 && isNum(g.surv[i])) {
        var x = r2(xs(g.time[i])), y = ys(g.surv[i]);
        d += "M" + x + "," + r2(y - half) + "V" + r2(y + half);
      }
    }
    return d;
  }

  // ---- chart -----------------------------------------------------------------------------------
  function Chart(container, data, options) {
    this.container = container;
    this.id = "ikaros-km-" + (++uid);
    this.zoom = null;
    this.cursorT = null;
    this.drag = null;
    this.lastWidth = 0;
    this.resizeLog = [];
    this.setData(data, options);
    this.buildShell();
    this.render();
    this.observeResize();
  }

  Chart.prototype.setData = function (data, options) {
    var groups = data && !Array.isArray(data) && data.groups ? data.groups : data;
    var opts = {}, base = this.options || DEFAULTS;
    Object.keys(DEFAULTS).forEach(function (k) { opts[k] = base[k]; });
    if (data && !Array.isArray(data)) {
      if (data.time_unit) { opts.timeUnit = data.time_unit; }
      if (isNum(data.landmark)) { opts.landmark = data.landmark; }
    }
    Object.keys(options || {}).forEach(function (k) { opts[k] = options[k]; });
    this.options = opts;
    this.groups = normaliseGroups(groups);
    var self = this;
    this.groups.forEach(function (g, i) { g.colour = colourFor(g, i, self.options.colors); });
  };

  Chart.prototype.buildShell = function () {
    var self = this;
    clearNode(this.container);
    this.wrap = htmlEl("div", "km-chart", this.container);
    var bar = htmlEl("div", "km-toolbar", this.wrap);
    htmlEl("span", "km-hint", bar, "Drag across the plot to zoom the time axis; double-click to reset.");
    this.resetBtn = htmlEl("button", "btn btn-small km-reset-zoom", bar, "Reset zoom");
    this.resetBtn.type = "button";
    if (this.container.id) { this.resetBtn.id = this.container.id + "-reset-zoom"; }
    this.resetBtn.addEventListener("click", function () { self.resetZoom(); });
    this.svgHost = htmlEl("div", "km-svg-host", this.wrap);
    this.tooltip = htmlEl("div", "km-tooltip", this.wrap);
    this.tooltip.setAttribute("role", "status");
    this.tooltip.setAttribute("aria-live", "polite");
    this.tooltip.hidden = true;
  };

  Chart.prototype.measure = function (text, size) {
    var t = svgEl("text", { "font-size": size, x: -1000, y: -1000 }, this.svg, text);
    var w = 0;
    try { w = t.getComputedTextLength(); } catch (e) { w = 0; }
    this.svg.removeChild(t);
    return w > 0 ? w : String(text).length * size * 0.58;
  };

  Chart.prototype.fullDomain = function () {
    var max = 0;
    this.groups.forEach(function (g) { if (g.time.length) { max = Math.max(max, g.time[g.time.length - 1]); } });
    if (isNum(this.options.maxTime)) { max = Math.max(max, this.options.maxTime); }
    if (!(max > 0)) { max = 1; }
    return max;
  };

  Chart.prototype.render = function () {
    var self = this, o = this.options, groups = this.groups;
    var W = Math.max(300, Math.floor(this.svgHost.clientWidth || this.container.clientWidth || 640));
    this.lastWidth = W;
    this.hideHover();
    clearNode(this.svgHost);
    var svg = this.svg = svgEl("svg", { width: W, height: 100, "class": "km-svg", role: "img", tabindex: 0,
      xmlns: SVGNS, "font-family": "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif" }, this.svgHost);
    var titleEl = svgEl("title", null, svg);

    if (!groups.length || !groups.some(function (g) { return g.time.length; })) {
      svg.setAttribute("height", 60);
      svgEl("text", { x: W / 2, y: 34, "text-anchor": "middle", "font-size": FONT.label, "class": "km-empty" }, svg, "No survival data to plot.");
      svg.setAttribute("aria-label", "Kaplan-Meier chart: no data");
      titleEl.textContent = "Kaplan-Meier chart: no data";
      this.resetBtn.disabled = true;
      return;
    }

    // Legend layout (wrapping) ---------------------------------------------------------------
    var legendItems = groups.map(function (g) {
      var text = g.label + "  (n = " + g.n + ", " + g.events + " event" + (g.events === 1 ? "" : "s") + ")";
      return { g: g, text: text, w: 30 + self.measure(text, FONT.legend) };
    });
    // Margins: room for the y title + tick labels, and for the at-risk row labels.
    var riskLabels = groups.map(function (g) {
      var full = self.measure(g.label, FONT.risk);
      return full <= W * 0.22 ? { text: g.label, w: full } : { text: capitalise(g.key), w: self.measure(capitalise(g.key), FONT.risk) };
    });
    var riskW = o.showRisk ? Math.max.apply(null, riskLabels.map(function (r) { return r.w; })) : 0;
    var mL = Math.round(Math.max(58, riskW + 34)), mR = 26;
    var plotW = W - mL - mR;
    var lines = [[]], lineW = 0;
    legendItems.forEach(function (it) {
      if (lineW > 0 && lineW + it.w > W - mL) { lines.push([]); lineW = 0; }
      it.x = mL + lineW; it.line = lines.length - 1; lines[lines.length - 1].push(it); lineW += it.w + 18;
    });
    var legendH = lines.length * 20 + 4;
    var plotTop = legendH + 12;
    var plotH = o.plotHeight || Math.max(200, Math.min(380, Math.round(W * 0.42)));
    var plotBot = plotTop + plotH;
    var riskTop = plotBot + 66;
    var H = o.showRisk ? riskTop + 20 * groups.length + 8 : plotBot + 48;
    svg.setAttribute("height", H);
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);

    // Scales ------------------------------------------------------------------------------------
    var targetTicks = Math.max(3, Math.floor(plotW / 60));
    var rawMax = this.fullDomain();
    var fullStep = niceStep(rawMax, targetTicks, o.timeUnit);
    var fullMax = Math.ceil(rawMax / fullStep - 1e-9) * fullStep;
    if (fullMax - rawMax > 0.15 * rawMax) { fullMax = rawMax; }
    this.full = [0, fullMax];
    if (this.zoom) {
      var z0 = Math.max(0, this.zoom[0]), z1 = Math.min(fullMax, this.zoom[1]);
      this.zoom = z1 - z0 > 1e-9 ? [z0, z1] : null;
    }
    var dom = this.zoom || this.full;
    var step = this.zoom ? niceStep(dom[1] - dom[0], targetTicks, o.timeUnit) : fullStep;
    var xt = ticksFor(dom[0], dom[1], step), dec = decimalsFor(step);
    var xs = this.xs = linearScale(dom[0], dom[1], mL, mL + plotW);
    var ys = this.ys = linearScale(0, 1, plotBot, plotTop);
    this.plot = { left: mL, right: mL + plotW, top: plotTop, bottom: plotBot };
    this.resetBtn.disabled = !this.zoom;
    this.wrap.classList.toggle("km-zoomed", !!this.zoom);

    // Grid + axes ------------------------------------------------------------------------------
    var grid = svgEl("g", { "class": "km-grid", stroke: "#e3e6ea", "stroke-width": 1 }, svg);
    var yt = [0, 0.2, 0.4, 0.6, 0.8, 1];
    yt.forEach(function (v) { svgEl("line", { x1: mL, x2: mL + plotW, y1: r2(ys(v)), y2: r2(ys(v)) }, grid); });
    xt.forEach(function (v) { svgEl("line", { x1: r2(xs(v)), x2: r2(xs(v)), y1: plotTop, y2: plotBot }, grid); });
    var axes = svgEl("g", { "class": "km-axes", fill: "#333", "font-size": FONT.tick }, svg);
    svgEl("path", { d: "M" + mL + "," + plotTop + "V" + plotBot + "H" + (mL + plotW), fill: "none", stroke: "#555", "stroke-width": 1 }, axes);
    yt.forEach(function (v) {
      svgEl("line", { x1: mL - 5, x2: mL, y1: r2(ys(v)), y2: r2(ys(v)), stroke: "#555" }, axes);
      svgEl("text", { x: mL - 8, y: r2(ys(v) + 4), "text-anchor": "end", "class": "km-tick" }, axes, v.toFixed(1));
    });
    xt.forEach(function (v) {
      svgEl("line", { x1: r2(xs(v)), x2: r2(xs(v)), y1: plotBot, y2: plotBot + 5, stroke: "#555" }, axes);
      svgEl("text", { x: r2(xs(v)), y: plotBot + 18, "text-anchor": "middle", "class": "km-tick" }, axes, v.toFixed(dec));
    });
    var xTitle = o.xLabel || capitalise(o.timeUnit || "time");
    svgEl("text", { x: mL + plotW / 2, y: plotBot + 38, "text-anchor": "middle", "font-size": FONT.label, "class": "km-axis-label" }, axes, xTitle);
    svgEl("text", { x: 0, y: 0, "text-anchor": "middle", "font-size": FONT.label, "class": "km-axis-label",
      transform: "translate(" + Math.max(14, mL - 46) + "," + r2(plotTop + plotH / 2) + ") rotate(-90)" }, axes, o.yLabel);

    // Clipped data layer ---------------------------------------------------------------------------
    var defs = svgEl("defs", null, svg);
    var clip = svgEl("clipPath", { id: this.id + "-clip" }, defs);
    svgEl("rect", { x: mL, y: plotTop - 8, width: plotW, height: plotH + 16 }, clip);
    var layer = svgEl("g", { "clip-path": "url(#" + this.id + "-clip)", "class": "km-data" }, svg), landmarkX = null;
    if (isNum(o.landmark) && o.landmark > dom[0] && o.landmark < dom[1]) {
      svgEl("line", { x1: r2(xs(o.landmark)), x2: r2(xs(o.landmark)), y1: plotTop, y2: plotBot, stroke: "#888",
        "stroke-dasharray": "2 4", "class": "km-landmark" }, layer);
      landmarkX = xs(o.landmark);
    }
    if (o.showCI) {
      groups.forEach(function (g) {
        var d = bandPath(g, xs, ys);
        if (d) { svgEl("path", { d: d, fill: g.colour, "fill-opacity": 0.13, stroke: "none", "class": "km-ci" }, layer); }
      });
    }
    groups.forEach(function (g) {
      svgEl("path", { d: curvePath(g, xs, ys), fill: "none", stroke: g.colour, "stroke-width": 2.2,
        "stroke-linejoin": "miter", "class": "km-curve km-curve-" + g.key }, layer);
      if (o.showCensor) {
        var c = censorPath(g, xs, ys, 5);
        if (c) { svgEl("path", { d: c, fill: "none", stroke: g.colour, "stroke-width": 1.6, "class": "km-censor" }, layer); }
      }
    });

    if (landmarkX !== null) {    // label outside the clip; flipped to the left of the line near the right edge
      var lmText = "landmark " + o.landmark + (/^month/i.test(o.timeUnit) ? " mo" : "");
      var lmLeft = landmarkX + 4 + this.measure(lmText, FONT.tick - 1) > mL + plotW;
      svgEl("text", { x: r2(landmarkX + (lmLeft ? -4 : 4)), y: plotTop + 12, "font-size": FONT.tick - 1, fill: "#666",
        "text-anchor": lmLeft ? "end" : "start", "class": "km-landmark-label" }, svg, lmText);
    }

    // Legend -----------------------------------------------------------------------------------
    var legend = svgEl("g", { "class": "km-legend", "font-size": FONT.legend, fill: "#222" }, svg);
    legendItems.forEach(function (it) {
      var y = 6 + it.line * 20;
      svgEl("rect", { x: it.x, y: y + 3, width: 20, height: 4, rx: 1, fill: it.g.colour }, legend);
      svgEl("text", { x: it.x + 26, y: y + 9 }, legend, it.text);
    });

    // Number-at-risk table ------------------------------------------------------------------------
    if (o.showRisk) {
      var risk = svgEl("g", { "class": "km-risk", "font-size": FONT.risk }, svg);
      svgEl("text", { x: 4, y: plotBot + 62, "font-weight": 600, fill: "#333", "class": "km-risk-title" }, risk, "Number at risk");
      groups.forEach(function (g, i) {
        var y = riskTop + 20 * i + 14;
        svgEl("text", { x: 4, y: y, fill: g.colour, "font-weight": 600, "class": "km-risk-label" }, risk, riskLabels[i].text);
        xt.forEach(function (v) {
          svgEl("text", { x: r2(xs(v)), y: y, "text-anchor": "middle", fill: "#222", "class": "km-risk-n" }, risk, riskAt(g, v));
        });
      });
    }

    // Hover elements + event overlay ----------------------------------------------------------------
    this.guide = svgEl("line", { y1: plotTop, y2: plotBot, stroke: "#333", "stroke-width": 1, "stroke-dasharray": "3 3",
      visibility: "hidden", "class": "km-guide", "pointer-events": "none" }, svg);
    this.dots = groups.map(function (g) {
      return svgEl("circle", { r: 4, fill: "#fff", stroke: g.colour, "stroke-width": 2, visibility: "hidden", "pointer-events": "none" }, svg);
    });
    this.sel = svgEl("rect", { y: plotTop, height: plotH, width: 0, fill: "#0072B2", "fill-opacity": 0.12, stroke: "#0072B2",
      "stroke-opacity": 0.5, visibility: "hidden", "class": "km-zoom-selection", "pointer-events": "none" }, svg);
    var overlay = svgEl("rect", { x: mL, y: plotTop, width: plotW, height: plotH, fill: "#fff", "fill-opacity": 0,
      "class": "km-overlay" }, svg);
    this.bindEvents(svg, overlay);

    // Accessibility summary --------------------------------------------------------------------------
    var unit = o.timeUnit || "";
    var summary = (o.ariaLabel ? o.ariaLabel + ". " : "") + "Kaplan-Meier survival curves, " + groups.length + " groups: " +
      groups.map(function (g) {
        var last = g.surv.length ? g.surv[g.surv.length - 1] : 1;
        return g.label + ", n = " + g.n + ", " + g.events + " events, survival " + (isNum(last) ? last.toFixed(2) : "n/a") +
          " at " + (g.time.length ? fmtTime(g.time[g.time.length - 1], 100) : "0") + " " + unit;
      }).join("; ") + ". Time axis " + dom[0].toFixed(dec) + " to " + dom[1].toFixed(dec) + " " + unit +
      (this.zoom ? " (zoomed)" : "") + ".";
    svg.setAttribute("aria-label", summary);
    titleEl.textContent = summary;
  };

  Chart.prototype.localX = function (ev) {
    var r = this.svg.getBoundingClientRect();
    var scale = r.width ? this.lastWidth / r.width : 1;
    return { x: (ev.clientX - r.left) * scale, y: (ev.clientY - r.top) * scale };
  };

  Chart.prototype.bindEvents = function (svg, overlay) {
    var self = this;
    overlay.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      var p = self.localX(ev);
      self.drag = { x0: p.x, x1: p.x, id: ev.pointerId };
      try { overlay.setPointerCapture(ev.pointerId); } catch (e) { /* ignore */ }
      ev.preventDefault();
    });
    overlay.addEventListener("pointermove", function (ev) {
      var p = self.localX(ev);
      var x = Math.max(self.plot.left, Math.min(self.plot.right, p.x));
      if (self.drag) {
        self.drag.x1 = x;
        var a = Math.min(self.drag.x0, x), b = Math.max(self.drag.x0, x);
        if (b - a > 3) {
          self.sel.setAttribute("x", r2(a)); self.sel.setAttribute("width", r2(b - a));
          self.sel.setAttribute("visibility", "visible");
        }
      }
      self.showAt(self.xs.invert(x), p.y);
    });
    overlay.addEventListener("pointerup", function (ev) {
      if (!self.drag) { return; }
      var a = Math.min(self.drag.x0, self.drag.x1), b = Math.max(self.drag.x0, self.drag.x1);
      self.drag = null;
      self.sel.setAttribute("visibility", "hidden");
      try { overlay.releasePointerCapture(ev.pointerId); } catch (e) { /* ignore */ }
      if (b - a > 6) { self.setZoom(self.xs.invert(a), self.xs.invert(b)); }
    });
    overlay.addEventListener("pointercancel", function () { self.drag = null; self.sel.setAttribute("visibility", "hidden"); });
    overlay.addEventListener("pointerleave", function () { if (!self.drag) { self.hideHover(); } });
    overlay.addEventListener("dblclick", function (ev) { ev.preventDefault(); self.resetZoom(); });
    svg.addEventListener("keydown", function (ev) {
      var dom = self.zoom || self.full, span = dom[1] - dom[0];
      var t = self.cursorT === null ? dom[0] : self.cursorT;
      var stepT = span / 100 * (ev.shiftKey ? 10 : 1);
      if (ev.key === "ArrowRight") { t += stepT; } else if (ev.key === "ArrowLeft") { t -= stepT; }
      else if (ev.key === "Home") { t = dom[0]; } else if (ev.key === "End") { t = dom[1]; }
      else if (ev.key === "Escape") { self.hideHover(); return; }
      else { return; }
      ev.preventDefault();
      self.showAt(Math.max(dom[0], Math.min(dom[1], t)), null);
    });
    svg.addEventListener("focus", function () {
      var dom = self.zoom || self.full;
      self.showAt(self.cursorT === null ? dom[0] : self.cursorT, null);
    });
    svg.addEventListener("blur", function () { self.hideHover(); });
  };

  Chart.prototype.showAt = function (t, py) {
    var self = this, o = this.options, dom = this.zoom || this.full;
    this.cursorT = t;
    var x = r2(this.xs(t));
    this.guide.setAttribute("x1", x); this.guide.setAttribute("x2", x);
    this.guide.setAttribute("visibility", "visible");
    var tip = this.tooltip;
    clearNode(tip);
    htmlEl("div", "km-tt-time", tip, "Time " + fmtTime(t, dom[1] - dom[0]) + " " + (o.timeUnit || ""));
    this.groups.forEach(function (g, i) {
      var s = survAt(g, t), n = riskAt(g, t), dot = self.dots[i];
      if (s === null) { dot.setAttribute("visibility", "hidden"); }
      else {
        dot.setAttribute("cx", x); dot.setAttribute("cy", r2(self.ys(s))); dot.setAttribute("visibility", "visible");
      }
      var row = htmlEl("div", "km-tt-row", tip);
      var sw = htmlEl("span", "km-tt-swatch", row);
      sw.style.backgroundColor = g.colour;
      htmlEl("span", "km-tt-label", row, g.label);
      htmlEl("span", "km-tt-value", row, (s === null ? "survival not estimated (after last follow-up)" : "survival " + s.toFixed(3)) +
        ", at risk " + n);
    });
    tip.hidden = false;
    // Position inside the wrapper, flipping to the left of the guide near the right edge.
    var hostLeft = this.svgHost.offsetLeft, hostTop = this.svgHost.offsetTop;
    var r = this.svg.getBoundingClientRect(), scale = this.lastWidth && r.width ? r.width / this.lastWidth : 1;
    var tw = tip.offsetWidth, th = tip.offsetHeight, ww = this.wrap.clientWidth;
    var gx = hostLeft + x * scale;
    var left = gx + 14;
    if (left + tw > ww - 2) { left = gx - 14 - tw; }
    left = Math.max(0, Math.min(left, ww - tw));
    var yPx = py === null || py === undefined ? this.plot.top + 8 : py;
    var top = hostTop + yPx * scale - th / 2;
    var minTop = hostTop + this.plot.top * scale, maxTop = hostTop + this.plot.bottom * scale - th;
    top = Math.max(minTop, Math.min(top, Math.max(minTop, maxTop)));
    tip.style.left = Math.round(left) + "px";
    tip.style.top = Math.round(top) + "px";
  };

  Chart.prototype.hideHover = function () {
    if (this.guide) { this.guide.setAttribute("visibility", "hidden"); }
    (this.dots || []).forEach(function (d) { d.setAttribute("visibility", "hidden"); });
    if (this.tooltip) { this.tooltip.hidden = true; }
  };

  Chart.prototype.setZoom = function (t0, t1) {
    var full = this.full || [0, this.fullDomain()];
    var a = Math.max(full[0], Math.min(t0, t1)), b = Math.min(full[1], Math.max(t0, t1));
    var minSpan = (full[1] - full[0]) * 0.02;
    if (b - a < minSpan) { var c = (a + b) / 2; a = Math.max(full[0], c - minSpan / 2); b = Math.min(full[1], a + minSpan); }
    this.zoom = (a <= full[0] && b >= full[1]) ? null : [a, b];
    this.cursorT = null;
    this.render();
    if (typeof this.options.onZoom === "function") { this.options.onZoom(this.zoom ? this.zoom.slice() : null); }
  };

  Chart.prototype.resetZoom = function () {
    var was = !!this.zoom;
    this.zoom = null;
    this.cursorT = null;
    this.render();
    if (was && typeof this.options.onZoom === "function") { this.options.onZoom(null); }
  };

  Chart.prototype.getZoom = function () { return this.zoom ? this.zoom.slice() : null; };

  Chart.prototype.update = function (data, options) {
    if (options && options.resetZoom) { this.zoom = null; }
    this.setData(data, options);
    this.render();
    return this;
  };

  Chart.prototype.observeResize = function () {
    var self = this, pending = false;
    function onResize() {
      if (pending) { return; }
      pending = true;
      global.requestAnimationFrame(function () {
        pending = false;
        if (!self.svgHost) { return; }
        var w = Math.floor(self.svgHost.clientWidth);
        if (!w || Math.abs(w - self.lastWidth) < 1) { return; }
        // Guard against scrollbar-induced oscillation: at most 6 resize renders per second.
        var now = Date.now();
        self.resizeLog = self.resizeLog.filter(function (ts) { return now - ts < 1000; });
        if (self.resizeLog.length >= 6) { return; }
        self.resizeLog.push(now);
        self.render();
      });
    }
    if (typeof global.ResizeObserver === "function") {
      this.observer = new global.ResizeObserver(onResize);
      this.observer.observe(this.container);
    } else {
      this.onWinResize = onResize;
      global.addEventListener("resize", onResize);
    }
  };

  Chart.prototype.destroy = function () {
    if (this.observer) { this.observer.disconnect(); }
    if (this.onWinResize) { global.removeEventListener("resize", this.onWinResize); }
    clearNode(this.container);
    if (this.container.__ikarosKM === this) { delete this.container.__ikarosKM; }
    this.svgHost = null;
  };

  // ---- public API --------------------------------------------------------------------------------
  /* Render (or update) a chart in `container`. Calling again on the same container updates the
     existing chart and keeps its zoom. Returns the chart object. */
  function render(container, data, options) {
    if (typeof container === "string") { container = document.querySelector(container); }
    if (!container) { throw new Error("IkarosKM.render: container not found"); }
    if (container.__ikarosKM) { return container.__ikarosKM.update(data, options); }
    var chart = new Chart(container, data, options);
    container.__ikarosKM = chart;
    return chart;
  }

  global.IkarosKM = {
    render: render,
    palette: PALETTE.slice(),
    colours: { low: KEY_COLOURS.low, high: KEY_COLOURS.high },
    survivalAt: function (group, t) { return survAt(normaliseGroups([group])[0], t); },
    atRisk: function (group, t) { return riskAt(normaliseGroups([group])[0], t); },
    niceTicks: function (d0, d1, target, unit) { return ticksFor(d0, d1, niceStep(d1 - d0, target || 6, unit)); }
  };
})(window);
