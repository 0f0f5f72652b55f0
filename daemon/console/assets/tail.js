/* Live tail: events pushed by the daemon (server-sent events on /_localbridge/stream) as they are
 * committed, with each delivery's outcome as it happens. Filters reconnect the stream; pause keeps
 * what arrives aside and shows it on resume. */
"use strict";

(() => {
  const {h} = LB;
  const MAX_ROWS = 300;   /* rows kept on the page */
  const MAX_HELD = 1000;  /* events kept aside while paused; older ones are dropped */
  /* Filters survive a visit to an event's page and back. */
  const filters = {bus: "", rule: "", pattern: ""};

  LB.page("tail", async (main) => {
    const rows = new Map(); /* event id -> {tr, deliveries: Map} */
    let held = [];
    let paused = false;
    let source = null;

    const state = h("span", {class: "pill", id: "tail-state"}, "connecting…");
    const count = h("span", {class: "muted"});
    const pauseBtn = h("button", {type: "button", id: "tail-pause", onclick: togglePause}, "Pause");
    const busSel = h("select", {id: "tail-bus", "aria-label": "Bus"}, h("option", {value: ""}, "All buses"));
    const ruleIn = h("input", {id: "tail-rule", placeholder: "rule name", value: filters.rule, size: 16});
    const patIn = h("input", {id: "tail-pattern", class: "mono", size: 34, value: filters.pattern,
      placeholder: '{"source": ["my.app"]}'});
    const form = h("form", {class: "filters", onsubmit: (e) => {
      e.preventDefault();
      filters.bus = busSel.value;
      filters.rule = ruleIn.value.trim();
      filters.pattern = patIn.value.trim();
      checkPattern(filters.pattern).then((ok) => ok && start());
    }}, h("label", {}, "Bus ", busSel), h("label", {}, "Rule ", ruleIn),
    h("label", {}, "Pattern ", patIn), h("button", {type: "submit"}, "Apply"), pauseBtn,
    h("button", {type: "button", onclick: clear}, "Clear"));

    const tbody = h("tbody", {id: "tail-rows"});
    const table = h("table", {class: "list clickable", id: "tail-table"},
      h("thead", {}, h("tr", {}, h("th", {}, "Received"), h("th", {}, "Bus"), h("th", {}, "Source"),
        h("th", {}, "Detail type"), h("th", {}, "Rules matched"), h("th", {}, "Deliveries"))),
      tbody);
    const emptyState = LB.empty("Waiting for events…",
      h("p", {}, "Events appear here the moment the daemon commits them. Send one:"),
      LB.cli("aws events put-events --endpoint-url " + location.origin +
        " --entries '[{\"Source\":\"my.app\",\"DetailType\":\"hello\",\"Detail\":\"{}\"}]'"));

    main.append(h("div", {class: "page-head"}, h("h1", {}, "Live tail"), state, count), form,
      emptyState, table);
    table.hidden = true;

    LB.aws("ListEventBuses", {}).then((r) => {
      for (const b of r.EventBuses || []) busSel.append(h("option", {value: b.Name}, b.Name));
      busSel.value = filters.bus;
    }).catch(() => {});

    /* A pattern the daemon refuses would end the stream with a 400 that EventSource cannot
     * read: ask the daemon first, and show its message. */
    async function checkPattern(pattern) {
      if (!pattern) return true;
      const probe = {version: "0", id: "0", "detail-type": "x", source: "x", account: "000000000000",
        time: "2020-01-01T00:00:00Z", region: "us-east-1", resources: [], detail: {}};
      try {
        await LB.admin("test-event-pattern", {EventPattern: pattern, Event: JSON.stringify(probe)});
        return true;
      } catch (err) {
        LB.toast((err.type ? err.type + ": " : "") + err.message, "bad");
        return false;
      }
    }

    function togglePause() {
      paused = !paused;
      pauseBtn.textContent = paused ? "Resume" : "Pause";
      pauseBtn.classList.toggle("primary", paused);
      if (!paused) {
        for (const m of held) show(m.type, m.data);
        held = [];
      }
      updateCount();
    }

    function clear() {
      rows.clear();
      held = [];
      tbody.replaceChildren();
      table.hidden = true;
      emptyState.hidden = false;
      updateCount();
    }

    function updateCount() {
      count.textContent = rows.size + " shown" + (held.length ? " · " + held.length + " held while paused" : "");
    }

    /* The stream first, then the latest stored events below what it brings (an event in both
     * is shown once). History has no pattern or rule filter, so those show live events only. */
    function start() {
      clear();
      connect();
      if (filters.pattern || filters.rule) return;
      LB.admin("events" + LB.query({bus: filters.bus, limit: 50})).then((r) => {
        for (const env of r.Events || []) addEvent({id: env.id, bus: filters.bus || "—",
          source: env.source, "detail-type": env["detail-type"], time: env.time, envelope: env}, true);
        updateCount();
      }).catch(() => {});
    }

    function connect() {
      if (source) source.close();
      const q = LB.query({bus: filters.bus, rule: filters.rule, pattern: filters.pattern, deliveries: 1});
      source = new EventSource("/_localbridge/stream" + q);
      state.textContent = "connecting…";
      state.className = "pill warn";
      source.onopen = () => {
        state.textContent = "live";
        state.className = "pill ok";
      };
      source.onerror = () => {
        /* EventSource reconnects by itself; say so rather than fail. */
        state.textContent = source.readyState === EventSource.CLOSED ? "disconnected" : "reconnecting…";
        state.className = "pill bad";
      };
      for (const type of ["event", "delivery"])
        source.addEventListener(type, (m) => receive(type, m.data));
    }

    function receive(type, raw) {
      let data;
      try {
        data = JSON.parse(raw);
      } catch (e) {
        return;
      }
      if (paused) {
        held.push({type, data});
        if (held.length > MAX_HELD) held.shift();
        updateCount();
      } else show(type, data);
    }

    function show(type, d) {
      if (type === "event") addEvent(d);
      else addDelivery(d);
      updateCount();
    }

    /* past: an event read from the store when the page opened, not pushed; its rules and
     * deliveries are on its own page. */
    function addEvent(e, past) {
      if (!e.id || rows.has(e.id)) return;
      const deliveries = h("td", {class: "deliveries"}, h("span", {class: "muted"}, "—"));
      const tr = h("tr", {class: past ? "past" : "fresh", "data-id": e.id, tabindex: 0,
        onclick: () => LB.go("events", e.id),
        onkeydown: (k) => k.key === "Enter" && LB.go("events", e.id)},
      h("td", {}, LB.time(e.received || e.time)), h("td", {}, e.bus || ""),
      h("td", {class: "mono"}, e.source || ""), h("td", {}, e["detail-type"] || ""),
      h("td", {}, past ? h("span", {class: "muted", title: "open the event to see its rules"}, "earlier")
        : (e.rules || []).length ? (e.rules || []).map((r) => h("span", {class: "tag"}, r))
          : h("span", {class: "muted"}, "none")), deliveries);
      rows.set(e.id, {tr, cell: deliveries, deliveries: new Map()});
      if (past) tbody.append(tr);
      else tbody.prepend(tr);
      table.hidden = false;
      emptyState.hidden = true;
      while (rows.size > MAX_ROWS) {
        const oldest = rows.keys().next().value;
        rows.get(oldest).tr.remove();
        rows.delete(oldest);
      }
    }

    /* A row's deliveries: one badge per target, its latest status. */
    function addDelivery(d) {
      const row = rows.get(d.event_id);
      if (!row) return;
      row.deliveries.set(d.rule + "/" + d.target_id, d);
      row.cell.replaceChildren(...[...row.deliveries.values()].map((x) =>
        h("span", {title: x.rule + " → " + x.target_id + (x.error ? ": " + x.error : "") +
          (x.http_status ? " (HTTP " + x.http_status + ")" : "")},
        LB.badge(x.status, x.target_id + " " + String(x.status).toLowerCase().replace(/_/g, " ")))));
    }

    start();
    LB.onLeave(() => source && source.close());
  });
})();
