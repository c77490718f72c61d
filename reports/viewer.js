// The rolecall report viewer: renders the matrix, filters and details from the embedded JSON.
// A cell's details open on click and from the URL fragment #cell=<property>/<target>
// (or #div=<divergence id>), so a link to a cell can be shared.
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("rolecall-data").textContent);
  var S = DATA.summary, CELLS = DATA.cells, DIVS = DATA.divergences, FINDINGS = DATA.findings || [];
  var GATED = !!S.gate;
  var LABEL = { agree: "agree", "new": GATED ? "diverge (new)" : "diverge", known: "diverge (known)",
    expired: "diverge (expired)", "not tested": "not tested", unsupported: "unsupported", error: "error" };

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "cls") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function link(href, text) {
    return href ? el("a", { href: href, target: "_blank", rel: "noopener", text: text || href }) : document.createTextNode(text || "");
  }
  function json(v) { return JSON.stringify(v, null, 2); }
  function uniq(xs) { return xs.filter(function (x, i) { return xs.indexOf(x) === i; }); }

  var targets = uniq((S.targets || []).concat(CELLS.map(function (c) { return c.target; })));
  var groups = [];
  CELLS.forEach(function (c) {
    var g = groups.filter(function (x) { return x.behaviour === c.behaviour; })[0];
    if (!g) { g = { behaviour: c.behaviour, properties: [] }; groups.push(g); }
    if (g.properties.indexOf(c.property) < 0) g.properties.push(c.property);
  });
  var meta = {};
  (S.properties || []).forEach(function (p) { meta[p.name] = p; });
  function cellOf(p, t) { return CELLS.filter(function (c) { return c.property === p && c.target === t; })[0]; }
  function featureOf(p) {
    if (meta[p]) return meta[p].feature;
    var c = CELLS.filter(function (x) { return x.property === p; })[0];
    return c ? c.feature : "";
  }

  // ---- header
  document.getElementById("run-id").textContent = S.run_id;
  var headline = document.getElementById("headline");
  var failing = GATED ? S.gate.failing : (S.findings > 0);
  if (!S.complete) headline.textContent = "⚠ could not test everything";
  else if (GATED) headline.textContent = failing ? "✗ gate failed: new findings or regressions" : "✓ gate passed: every finding is known";
  else headline.textContent = failing ? "✗ " + S.findings + " finding(s): target behaviours that differ from " + S.oracle : "✓ every target agrees with " + S.oracle;
  var facts = document.getElementById("facts");
  [["profile", S.profile], ["strictness", S.strictness], ["oracle", S.oracle], ["seed", String(S.seed)],
   ["examples", String(S.examples)], ["findings", String(S.findings)], ["divergences", String(S.divergences)],
   ["started", S.started]].forEach(function (kv) {
    facts.appendChild(el("div", {}, [el("dt", { text: kv[0] }), el("dd", { text: kv[1] })]));
  });
  if (GATED) {
    var g = S.gate;
    facts.appendChild(el("div", {}, [el("dt", { text: "baseline" }), el("dd", { text: g.baseline + ": " + g["new"].length +
      " new, " + g.regressions.length + " regressed, " + g.expired.length + " expired, " + g.known.length + " known, " +
      g.fixed.length + " fixed, " + g.unobserved.length + " unobserved" })]));
  }
  // ---- findings: behaviours x targets
  (function () {
    var table = document.getElementById("findings-table");
    var section = document.getElementById("findings");
    if (!FINDINGS.length) { section.appendChild(el("p", { text: "No findings: every target agrees with " + S.oracle + "." })); return; }
    var ftargets = targets.filter(function (t) { return FINDINGS.some(function (f) { return f.target === t; }); });
    var rows = [], byId = {};
    FINDINGS.forEach(function (f) {
      if (!byId[f.id]) { byId[f.id] = { id: f.id, behaviour: f.behaviour, direction: f.direction, on: {} }; rows.push(byId[f.id]); }
      byId[f.id].on[f.target] = f;
    });
    rows.sort(function (a, b) { return Object.keys(b.on).length - Object.keys(a.on).length || (a.behaviour < b.behaviour ? -1 : 1); });
    table.appendChild(el("thead", {}, [el("tr", {}, [el("th", { text: "finding" }), el("th", { text: "direction" })].concat(
      ftargets.map(function (t) { return el("th", { scope: "col", text: t }); })))]));
    var body = el("tbody");
    rows.forEach(function (r) {
      var tr = el("tr", { "data-finding": r.id }, [el("th", { scope: "row" }, [el("code", { text: r.id }), " " + r.behaviour]),
        el("td", { text: r.direction })]);
      ftargets.forEach(function (t) {
        var f = r.on[t];
        if (!f) { tr.appendChild(el("td", { cls: "st-agree", text: "·" })); return; }
        var st = f.gate === "known" ? "st-known" : "st-new";
        var td = el("td", { cls: "cell " + st, title: f.title + " (" + f.divergences.length + " divergences)" },
          [el("a", { href: f.folder + "/issue.md", text: f.gate || "●" }), " ",
           el("span", { cls: "sub", text: f.divergences.length + " symptom" + (f.divergences.length === 1 ? "" : "s") })]);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.appendChild(body);
  })();

  var banners = document.getElementById("banners");
  if (GATED) {
    S.gate.fixed.forEach(function (x) {
      banners.appendChild(el("p", { cls: "banner", text: "Fixed baseline entry " + x.id + " on " + x.target +
        ": its pinned scenario agrees with AWS now" + (S.gate.strict ? " (fails: strict)" : "") + "; `rolecall baseline prune` drops it." }));
    });
    S.gate.regressions.forEach(function (x) {
      banners.appendChild(el("p", { cls: "banner", text: "Regression on " + x.target + ": " + x.detail }));
    });
    if (S.gate.unobserved.length) banners.appendChild(el("p", { cls: "legend", text: "Baseline entries this run did not meet: " +
      S.gate.unobserved.map(function (x) { return x.id + " on " + x.target; }).join(", ") }));
  }
  if (S.interrupted) banners.appendChild(el("p", { cls: "banner", text: "Interrupted: these are the results until the run was stopped." }));
  Object.keys(S.target_errors || {}).forEach(function (t) {
    banners.appendChild(el("p", { cls: "banner", text: "Target " + t + ": " + S.target_errors[t] }));
  });

  // ---- filters
  var hiddenTargets = {}, featureFilter = "", statusFilter = "";
  var tf = document.getElementById("target-filter");
  targets.forEach(function (t) {
    var box = el("input", { type: "checkbox", value: t, "data-target": t });
    box.checked = true;
    box.addEventListener("change", function () { hiddenTargets[t] = !box.checked; applyFilters(); });
    tf.appendChild(el("label", {}, [box, " " + t]));
  });
  var ff = document.getElementById("feature-filter");
  uniq(groups.reduce(function (acc, g) { return acc.concat(g.properties.map(featureOf)); }, [])).sort().forEach(function (f) {
    ff.appendChild(el("option", { value: f, text: f }));
  });
  ff.addEventListener("change", function () { featureFilter = ff.value; applyFilters(); });
  var sf = document.getElementById("status-filter");
  sf.addEventListener("change", function () { statusFilter = sf.value; applyFilters(); });

  // ---- matrix
  var matrix = document.getElementById("matrix");
  var head = el("tr", {}, [el("th", { text: "property" })]);
  targets.forEach(function (t) { head.appendChild(el("th", { "data-target": t, scope: "col", text: t })); });
  matrix.appendChild(el("thead", {}, [head]));
  groups.forEach(function (g) {
    var body = el("tbody", { cls: "behaviour", "data-behaviour": g.behaviour });
    body.appendChild(el("tr", { cls: "group" }, [el("th", { colspan: String(targets.length + 1), scope: "rowgroup", text: g.behaviour })]));
    g.properties.forEach(function (p) {
      var m = meta[p] || {};
      var row = el("tr", { "data-property": p, "data-feature": featureOf(p) },
        [el("th", { cls: "property", scope: "row", title: m.description || "" }, [el("code", { text: p }), m.description ? el("small", { text: m.description }) : null])]);
      targets.forEach(function (t) { row.appendChild(renderCell(p, t)); });
      body.appendChild(row);
    });
    matrix.appendChild(body);
  });

  function renderCell(p, t) {
    var c = cellOf(p, t);
    if (!c) return el("td", { cls: "cell st-none", "data-target": t, "data-status": "none", text: "—" });
    var main, sub;
    if (c.verdict === "diverge") {
      var n = c.divergences.length, bad = c["new"].length + c.expired.length;
      main = n + " divergence" + (n > 1 ? "s" : "");
      sub = GATED ? (bad ? bad + " new" : "") + (bad && n - bad ? " · " : "") + (n - bad ? (n - bad) + " known" : "") : c.examples + " examples";
    } else if (c.verdict === "agree") { main = "agree"; sub = c.examples + " examples"; }
    else if (c.verdict === "unsupported") { main = "unsupported"; sub = c.setup_errors + " setup errors"; }
    else if (c.verdict === "not tested") { main = "not tested"; sub = Math.round(100 * c.compared) + "% of steps compared"; }
    else { main = "error"; sub = (c.error || "").slice(0, 60); }
    var td = el("td", { cls: "cell st-" + c.status.replace(" ", "-"), "data-target": t, "data-property": p, "data-status": c.status,
      tabindex: "0", role: "button", title: LABEL[c.status] + " — click for details" }, [main, el("small", { text: sub })]);
    function open() { location.hash = "cell=" + encodeURIComponent(p) + "/" + encodeURIComponent(t); }
    td.addEventListener("click", open);
    td.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
    return td;
  }

  function applyFilters() {
    Array.prototype.forEach.call(document.querySelectorAll("#matrix [data-target]"), function (node) {
      node.classList.toggle("hidden", !!hiddenTargets[node.getAttribute("data-target")]);
    });
    Array.prototype.forEach.call(document.querySelectorAll("#matrix tbody tr[data-property]"), function (row) {
      var show = !featureFilter || row.getAttribute("data-feature") === featureFilter;
      if (show && statusFilter) {
        show = Array.prototype.some.call(row.querySelectorAll("td.cell"), function (td) {
          if (td.classList.contains("hidden")) return false;
          var st = td.getAttribute("data-status");
          return statusFilter === "diverge" ? (st === "new" || st === "known" || st === "expired") : st === statusFilter;
        });
      }
      row.classList.toggle("hidden", !show);
    });
    Array.prototype.forEach.call(document.querySelectorAll("#matrix tbody"), function (body) {
      body.classList.toggle("hidden", !body.querySelector("tr[data-property]:not(.hidden)"));
    });
    Array.prototype.forEach.call(document.querySelectorAll("#coverage [data-target], #feature-coverage [data-target]"), function (node) {
      node.classList.toggle("hidden", !!hiddenTargets[node.getAttribute("data-target")]);
    });
  }

  // ---- details of a cell
  var details = document.getElementById("details");
  function showCell(p, t, focusId) {
    var c = cellOf(p, t);
    Array.prototype.forEach.call(document.querySelectorAll("td.cell.selected"), function (n) { n.classList.remove("selected"); });
    if (!c) { details.hidden = true; return; }
    var td = document.querySelector('td.cell[data-property="' + CSS.escape(p) + '"][data-target="' + CSS.escape(t) + '"]');
    if (td) td.classList.add("selected");
    details.textContent = "";
    details.setAttribute("data-property", p);
    details.setAttribute("data-target", t);
    var close = el("button", { cls: "close", type: "button", text: "close" });
    close.addEventListener("click", function () { history.replaceState(null, "", location.pathname + location.search); details.hidden = true; if (td) td.classList.remove("selected"); });
    details.appendChild(close);
    details.appendChild(el("h2", {}, [el("code", { text: p }), " on ", el("code", { text: t }), " ",
      el("span", { cls: "badge st-" + c.status.replace(" ", "-"), text: LABEL[c.status] })]));
    var m = meta[p] || {};
    if (m.description) details.appendChild(el("p", {}, [m.description + " ", m.source ? link(m.source, "(AWS)") : null]));
    var counts = el("div", { cls: "counts" });
    [["examples", c.examples], ["agreeing", c.agreeing], ["setup errors", c.setup_errors],
     ["unsupported steps", c.unsupported_steps], ["seconds", c.seconds], ["flaky", c.flaky.length]].forEach(function (kv) {
      counts.appendChild(el("span", { text: kv[0] + ": " + kv[1] }));
    });
    details.appendChild(counts);
    if (c.error) details.appendChild(el("p", { cls: "banner", text: c.error }));
    var mine = DIVS.filter(function (d) { return d.target === t && d.property === p; });
    if (!mine.length && !c.error) details.appendChild(el("p", { text: "No divergence: " + t + " behaved as " + S.oracle + " on every example." }));
    mine.forEach(function (d) { details.appendChild(renderDivergence(d)); });
    details.hidden = false;
    var target = focusId ? document.getElementById("div-" + t + "-" + focusId) : details;
    if (target && target.scrollIntoView) target.scrollIntoView({ block: "start" });
  }

  function renderTrace(trace) {
    var ol = el("ol", { cls: "trace" });
    (trace || []).forEach(function (entry) {
      var li = el("li", { cls: entry.rule ? "rule" : "" });
      Object.keys(entry).forEach(function (k, i) {
        if (i) li.appendChild(document.createTextNode(", "));
        var v = entry[k];
        if (k === "source" && typeof v === "string" && v.indexOf("http") === 0) li.appendChild(el("span", {}, ["source: ", link(v)]));
        else li.appendChild(document.createTextNode(k + ": " + (typeof v === "string" ? v : JSON.stringify(v))));
      });
      ol.appendChild(li);
    });
    return ol;
  }

  function renderDivergence(d) {
    var art = el("article", { cls: "divergence", id: "div-" + d.target + "-" + d.id, "data-id": d.id });
    art.appendChild(el("h3", {}, [el("code", { text: d.id }), " ",
      el("span", { cls: "badge st-" + d.status, text: GATED ? d.status : "divergence" })]));
    art.appendChild(el("p", { text: d.summary }));
    var dl = el("dl");
    function row(k, v) { dl.appendChild(el("dt", { text: k })); dl.appendChild(el("dd", {}, [v])); }
    row("call", el("code", { text: d.call + " at step '" + d.step + "'" }));
    row("level", d.level);
    row("signature", el("code", { text: d.signature }));
    row("AWS rule", el("span", {}, [el("code", { text: d.rule || "—" }), " ", d.source ? link(d.source, "AWS documentation") : null]));
    row("confirmed", d.confirmed ? "yes, reproduced " + d.reproduced + " time(s)" + (d.replayed ? " (pinned replay)" : "") : "no");
    row("also on", d.shared_with.length ? d.shared_with.join(", ") + " (same divergence id)" : "no other target");
    row("files", el("span", {}, [link(d.folder + "/scenario.json", "scenario.json"), " · ", link(d.folder + "/repro.py", "repro.py"), " · ", link(d.folder + "/divergence.json", "divergence.json")]));
    art.appendChild(dl);
    art.appendChild(el("div", { cls: "pair" }, [
      el("div", {}, [el("h4", { text: S.oracle + " (AWS) says" }), el("pre", { cls: "expected", text: json(strip(d.expected)) })]),
      el("div", {}, [el("h4", { text: d.target + " says" }), el("pre", { cls: "observed", text: json(d.observed) })])]));
    art.appendChild(el("h4", { text: "Decision trace of the reference model" }));
    art.appendChild(d.trace && d.trace.length ? renderTrace(d.trace) : el("p", { text: "(no trace: the model decided without evaluating policies)" }));
    art.appendChild(el("details", { open: "" }, [el("summary", { text: "Minimal scenario (scenario.json)" }), el("pre", { cls: "scenario", text: json(d.scenario) })]));
    art.appendChild(el("details", {}, [el("summary", { text: "repro.py (" + (d.repro_kind === "boto3" ? "standalone boto3" : "through rolecall") + ")" }),
      el("pre", { cls: "repro", text: d.repro })]));
    return art;
  }
  function strip(o) { var c = {}; Object.keys(o).forEach(function (k) { if (k !== "trace") c[k] = o[k]; }); return c; }

  function openFromHash() {
    var h = location.hash.replace(/^#/, "");
    if (h.indexOf("cell=") === 0) {
      var rest = h.slice(5), i = rest.indexOf("/");
      if (i > 0) showCell(decodeURIComponent(rest.slice(0, i)), decodeURIComponent(rest.slice(i + 1)));
    } else if (h.indexOf("div=") === 0) {
      var id = decodeURIComponent(h.slice(4)), d = DIVS.filter(function (x) { return x.id === id; })[0];
      if (d) showCell(d.property, d.target, d.id);
    }
  }
  window.addEventListener("hashchange", openFromHash);

  // ---- coverage
  var cov = S.coverage || {}, reasons = Object.keys(cov);
  var covTable = document.getElementById("coverage-table");
  if (!reasons.length) document.getElementById("coverage").appendChild(el("p", { text: "No oracle decisions were recorded." }));
  else {
    var covTargets = targets.filter(function (t) { return reasons.some(function (r) { return cov[r][t]; }); });
    var hr = el("tr", {}, [el("th", { text: "reason (the oracle's rule)" })]);
    covTargets.forEach(function (t) { hr.appendChild(el("th", { "data-target": t, text: t })); });
    hr.appendChild(el("th", { text: "total" }));
    covTable.appendChild(el("thead", {}, [hr]));
    var tb = el("tbody");
    reasons.forEach(function (r) {
      var src = (S.coverage_sources || {})[r];
      var tr = el("tr", { "data-reason": r }, [el("td", {}, [src ? link(src, r) : document.createTextNode(r)])]);
      var total = 0;
      covTargets.forEach(function (t) { var n = cov[r][t] || 0; total += n; tr.appendChild(el("td", { cls: "n", "data-target": t, text: String(n) })); });
      tr.appendChild(el("td", { cls: "n", text: String(total) }));
      tb.appendChild(tr);
    });
    covTable.appendChild(tb);
  }

  // ---- feature coverage
  var feats = S.features || {}, featNames = Object.keys(feats), reachedBy = S.features_reached || {};
  var featTable = document.getElementById("feature-table");
  if (!featNames.length) document.getElementById("feature-coverage").appendChild(el("p", { text: "No features were recorded." }));
  else {
    var fr = el("tr", {}, [el("th", { text: "feature" })]);
    targets.forEach(function (t) { fr.appendChild(el("th", { "data-target": t, text: t + " " + (reachedBy[t] || 0) + "/" + featNames.length })); });
    featTable.appendChild(el("thead", {}, [fr]));
    var fb = el("tbody");
    featNames.forEach(function (f) {
      var tr = el("tr", { "data-feature": f }, [el("td", {}, [el("code", { text: f })])]);
      targets.forEach(function (t) {
        var n = feats[f][t] || 0;
        tr.appendChild(el("td", { cls: "n" + (n ? "" : " unreached"), "data-target": t, text: String(n) }));
      });
      fb.appendChild(tr);
    });
    featTable.appendChild(fb);
  }

  applyFilters();
  openFromHash();
  document.body.setAttribute("data-ready", "true");
})();
