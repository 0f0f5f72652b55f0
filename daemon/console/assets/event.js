/* An event's page: its envelope and what happened to it, one timeline per delivery (each attempt,
 * its HTTP status, latency and error), from /_localbridge/events/ID. */
"use strict";

(() => {
  const {h} = LB;

  LB.page("events", async (main, [id]) => {
    if (!id) return LB.go("tail");
    main.append(h("p", {class: "crumbs"}, h("a", {href: "#/tail"}, "Live tail"), " / event"));
    const body = h("div", {id: "event-page"});
    main.append(body);
    /* Deliveries still in flight change: look again while any is not final. */
    let timer = null;
    LB.onLeave(() => clearTimeout(timer));
    async function load() {
      const r = await LB.admin("events/" + encodeURIComponent(id));
      body.replaceChildren(...render(r));
      const open = (r.deliveries || []).some((d) => !["SUCCEEDED", "FAILED", "DEAD_LETTERED"].includes(d.status));
      if (open) timer = setTimeout(() => load().catch(() => {}), 1500);
    }
    try {
      await load();
      const r = await LB.admin("events/" + encodeURIComponent(id));
      main.append(await whyRules(id, r.bus));
    } catch (err) {
      if (err.status === 404 && err.type === "ResourceNotFoundException")
        body.append(LB.empty("No event " + id, h("p", {}, "It was never accepted, or the store no longer keeps it.")));
      else throw err;
    }
  });

  function render(r) {
    const e = r.event || {};
    const ds = r.deliveries || [];
    const open = () => {
      sessionStorage.setItem("lb-sandbox-event", JSON.stringify(e, null, 2));
      LB.go("sandbox");
    };
    return [
      h("div", {class: "page-head"}, h("h1", {}, e["detail-type"] || "Event"),
        h("span", {class: "mono muted"}, e.id)),
      h("dl", {class: "facts"},
        fact("Source", h("span", {class: "mono"}, e.source)), fact("Bus", r.bus),
        fact("Event time", LB.time(e.time)), fact("Received", LB.time(r.received)),
        fact("Deliveries", summary(ds))),
      h("div", {class: "two-col"},
        h("section", {class: "card"}, h("h2", {}, "Envelope"), LB.jsonView(e),
          h("button", {type: "button", onclick: open}, "Try it in the pattern sandbox")),
        h("section", {class: "card"}, h("h2", {}, "Delivery timeline"),
          ds.length ? ds.map((d) => delivery(d, r.received || e.time))
            : LB.empty("No rule matched this event",
              h("p", {}, "Nothing was delivered. Check the rules of bus " + r.bus +
                " in the pattern sandbox to see why they did not match.")))),
    ];
  }

  /* "Which rule matched, and why not?": every pattern rule of the event's bus tried against the
   * stored event by the daemon's matcher (the first 50, which is more than a page can show). */
  async function whyRules(id, bus) {
    const rules = (await LB.allPages("ListRules", {EventBusName: bus}, "Rules", 50))
      .filter((r) => r.EventPattern).slice(0, 50);
    const card = h("section", {class: "card", id: "event-rules"}, h("h2", {}, "Rules on " + bus));
    if (!rules.length) {
      card.append(LB.empty("No pattern rules on this bus", h("p", {}, "Add a rule to route events like this one.")));
      return card;
    }
    const answers = await Promise.all(rules.map((r) => LB.admin("test-event-pattern",
      {RuleName: r.Name, EventBusName: bus, EventId: id}).catch((err) => ({error: err.message}))));
    card.append(h("table", {class: "list"}, h("tbody", {}, rules.map((r, i) => {
      const a = answers[i];
      return h("tr", {"data-rule": r.Name},
        h("td", {class: "shrink"}, a.error ? LB.badge("PENDING", "unknown") : a.Result ? LB.badge("SUCCEEDED", "matches")
          : LB.badge("FAILED", "no match")),
        h("td", {class: "shrink"}, h("a", {href: "#/buses/" + encodeURIComponent(bus) + "/" + encodeURIComponent(r.Name)},
          h("strong", {}, r.Name)), r.State !== "ENABLED" ? [" ", LB.badge(r.State)] : null),
        h("td", {class: "small"}, a.error || (a.Result ? "" : a.Reason || "")));
    }))));
    return card;
  }

  function fact(k, v) {
    return [h("dt", {}, k), h("dd", {}, v)];
  }

  function summary(ds) {
    if (!ds.length) return h("span", {class: "muted"}, "none");
    const by = {};
    for (const d of ds) by[d.status] = (by[d.status] || 0) + 1;
    return Object.entries(by).map(([s, n]) => LB.badge(s, n + " " + s.toLowerCase().replace(/_/g, " ")));
  }

  function delivery(d, start) {
    const t0 = LB.toDate(start);
    const attempts = d.attempts || [];
    return h("div", {class: "delivery"},
      h("div", {class: "delivery-head"}, LB.badge(d.status),
        h("strong", {}, d.rule), " → ", h("span", {class: "mono"}, d.target_id),
        d.dead_letter ? h("a", {href: "#/dead-letters", class: "tag bad"}, "dead letter") : null),
      h("div", {class: "muted mono small"}, d.target_arn),
      attempts.length ? h("ol", {class: "timeline"}, attempts.map((a, i) => {
        const at = LB.toDate(a.at);
        const ok = a.http_status >= 200 && a.http_status < 300 && !a.error;
        return h("li", {class: ok ? "ok" : "bad"},
          h("span", {class: "t"}, "#" + (i + 1) + " " + (at && t0 ? "+" + fmtMs(at - t0) : LB.clock(a.at))),
          a.http_status ? h("span", {class: "badge " + (ok ? "ok" : "bad")}, "HTTP " + a.http_status) : null,
          a.latency_ms != null ? h("span", {class: "muted"}, a.latency_ms + " ms") : null,
          a.error ? h("span", {class: "err"}, a.error) : null);
      })) : h("p", {class: "muted small"}, "No attempt yet."));
  }

  function fmtMs(ms) {
    return ms < 1000 ? Math.max(0, Math.round(ms)) + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 0) + " s";
  }
})();
