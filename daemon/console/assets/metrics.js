/* Metrics: the daemon's status at a glance (/_localbridge/status) and a sparkline of each
 * CloudWatch-named metric over the last hour (/_localbridge/metrics.json), drawn as inline SVG. */
"use strict";

(() => {
  const {h} = LB;
  const SVG = "http://www.w3.org/2000/svg";
  /* Metrics whose rise is bad news get the warning colour. */
  const BAD = /Failed|DeadLetter|Throttled|Error/;

  LB.page("metrics", (main) => {
    const cards = h("div", {class: "stats", id: "status-cards"});
    const sparks = h("div", {class: "sparks", id: "sparklines"});
    main.append(h("div", {class: "page-head"}, h("h1", {}, "Metrics")), cards,
      h("h2", {}, "Last hour, per minute"), sparks);
    LB.every(10000, () => {
      LB.admin("status").then((s) => cards.replaceChildren(...statusCards(s)))
        .catch((err) => cards.replaceChildren(LB.errorBox(err)));
      LB.admin("metrics.json?window=3600").then((m) => sparks.replaceChildren(...sparklines(m)))
        .catch((err) => sparks.replaceChildren(LB.errorBox(err)));
    });
  });

  function statusCards(s) {
    const lag = s.oldest_pending_age_seconds || 0;
    return [
      stat("Buses", (s.buses || []).length), stat("Rules", s.rules),
      stat("Pending deliveries", s.pending_deliveries, s.pending_deliveries > 0 ? "warn" : ""),
      stat("Oldest pending", lag ? LB.duration(lag) : "—", lag > 60 ? "bad" : lag > 5 ? "warn" : ""),
      stat("In flight", s.inflight),
      h("a", {href: "#/dead-letters", class: "stat-link"},
        stat("Dead letters", s.dead_letters, s.dead_letters > 0 ? "bad" : "")),
      stat("Replays running", s.replays_running),
      stat("Up", s.uptime_seconds != null ? LB.duration(s.uptime_seconds) : "—", "", "version " + (s.version || "?")),
    ];
  }

  function stat(label, value, kind, sub) {
    return h("div", {class: "stat " + (kind || "")}, h("div", {class: "stat-value"}, String(value ?? "—")),
      h("div", {class: "stat-label"}, label), sub ? h("div", {class: "muted small"}, sub) : null);
  }

  function sparklines(m) {
    const series = Object.entries(m.series || {});
    if (!series.length)
      return [LB.empty("No metrics yet", h("p", {}, "Put an event: Invocations, MatchedEvents and the " +
        "others start counting with the first one."))];
    return series.map(([name, values]) => {
      const vs = (values || []).map((v) => (typeof v === "number" ? v : (v && v.value) || 0));
      const total = vs.reduce((a, b) => a + b, 0);
      const last = vs.length ? vs[vs.length - 1] : 0;
      return h("div", {class: "spark " + (BAD.test(name) && total > 0 ? "bad" : ""), "data-metric": name},
        h("div", {class: "spark-head"}, h("span", {}, name), h("strong", {}, fmt(last))),
        draw(vs), h("div", {class: "muted small"}, "total " + fmt(total) + " · step " + (m.step || 60) + " s"));
    });
  }

  function fmt(n) {
    return n >= 1e6 ? (n / 1e6).toFixed(1) + "M" : n >= 1e4 ? (n / 1e3).toFixed(1) + "k" :
      String(Math.round(n * 100) / 100);
  }

  /* An area sparkline, 0 at the bottom, the largest value at the top. */
  function draw(vs) {
    const W = 240, H = 44, P = 2;
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("class", "sparkline");
    svg.setAttribute("role", "img");
    const max = Math.max(1, ...vs);
    const n = Math.max(vs.length, 2);
    const pts = (vs.length ? vs : [0, 0]).map((v, i) =>
      [P + (i * (W - 2 * P)) / (n - 1), H - P - (v / max) * (H - 2 * P)]);
    const line = pts.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join(" ");
    const area = document.createElementNS(SVG, "path");
    area.setAttribute("d", line + ` L${pts[pts.length - 1][0].toFixed(1)} ${H - P} L${P} ${H - P} Z`);
    area.setAttribute("class", "area");
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", line);
    path.setAttribute("class", "line");
    svg.append(area, path);
    return svg;
  }
})();
