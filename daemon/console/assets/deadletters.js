/* Dead letters: deliveries that ran out of retries (or could never be sent), with redrive of the
 * chosen ones or of all of them through /_localbridge/dead-letters/redrive. */
"use strict";

(() => {
  const {h} = LB;

  LB.page("dead-letters", async (main) => {
    const selected = new Set();
    let token = null;
    const redriveSel = h("button", {type: "button", id: "dl-redrive-selected", class: "primary", disabled: true,
      onclick: () => redrive({Ids: [...selected]})}, "Redrive selected");
    const redriveAll = h("button", {type: "button", id: "dl-redrive-all",
      onclick: () => confirm("Redrive every dead letter?") && redrive({})}, "Redrive all");
    const tbody = h("tbody", {id: "dl-rows"});
    const more = h("button", {type: "button", hidden: true, onclick: () => load(false)}, "Load more");
    const table = h("table", {class: "list"}, h("thead", {}, h("tr", {},
      h("th", {}, ""), h("th", {}, "Dead since"), h("th", {}, "Rule → target"), h("th", {}, "Error"),
      h("th", {}, "Retries"), h("th", {}, "Event"))), tbody);
    const holder = h("div", {});
    main.append(h("div", {class: "page-head"}, h("h1", {}, "Dead letters"),
      h("span", {class: "spacer"}), redriveSel, redriveAll), holder);

    async function redrive(req) {
      try {
        const r = await LB.admin("dead-letters/redrive", req);
        LB.toast("Redriven: " + r.Redriven + " — queued for delivery again.", "ok");
        await load(true);
      } catch (err) {
        LB.toast(err.message, "bad");
      }
    }

    function sync() {
      redriveSel.disabled = selected.size === 0;
      redriveSel.textContent = selected.size ? "Redrive selected (" + selected.size + ")" : "Redrive selected";
    }

    async function load(fresh) {
      if (fresh) {
        token = null;
        selected.clear();
        tbody.replaceChildren();
        sync();
      }
      const r = await LB.admin("dead-letters" + LB.query({limit: 100, next_token: token}));
      token = r.NextToken || null;
      more.hidden = !token;
      for (const d of r.DeadLetters || []) tbody.append(row(d));
      const none = tbody.children.length === 0;
      redriveAll.disabled = none;
      holder.replaceChildren(none ? LB.empty("No dead letters",
        h("p", {}, "A delivery lands here when its target keeps failing past the rule target's " +
          "RetryPolicy, or can never be sent (a body over 256 KB, an unknown target). Redrive " +
          "sends it again once the target is fixed.")) : table, more);
    }

    function row(d) {
      const box = h("input", {type: "checkbox", "aria-label": "select", "data-id": d.Id, onchange: (e) => {
        e.target.checked ? selected.add(d.Id) : selected.delete(d.Id);
        sync();
      }});
      return h("tr", {"data-id": d.Id, "data-event": d.EventId}, h("td", {}, box), h("td", {}, LB.time(d.DeadAt)),
        h("td", {}, h("strong", {}, d.RuleName || ""), " → ", h("span", {class: "mono"}, d.TargetId || ""),
          h("div", {class: "muted small mono"}, d.TargetArn || "")),
        h("td", {}, LB.badge("FAILED", d.ERROR_CODE || "ERROR"),
          h("div", {class: "small"}, d.ERROR_MESSAGE || ""),
          d.EXHAUSTED_RETRY_CONDITION ? h("div", {class: "muted small"}, d.EXHAUSTED_RETRY_CONDITION) : null),
        h("td", {}, String(d.RETRY_ATTEMPTS ?? "")),
        h("td", {}, h("a", {href: "#/events/" + encodeURIComponent(d.EventId), class: "mono small"},
          d.EventId)));
    }

    await load(true);
  });
})();
