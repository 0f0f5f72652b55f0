/* Pattern sandbox: edit a pattern and an event, see at once whether it matches and, when it does
 * not, the engine's own reason (POST /_localbridge/test-event-pattern). */
"use strict";

(() => {
  const {h} = LB;

  const DEFAULT_PATTERN = `{
  "source": ["my.app"],
  "detail-type": ["order placed"],
  "detail": {
    "total": [{"numeric": [">", 100]}],
    "country": [{"anything-but": "XX"}]
  }
}`;

  function defaultEvent() {
    return JSON.stringify({
      version: "0", id: "6a7e8feb-b491-4cf7-a9f1-bf3703467718", "detail-type": "order placed",
      source: "my.app", account: "000000000000", time: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
      region: "us-east-1", resources: [], detail: {total: 120, country: "FR"},
    }, null, 2);
  }

  LB.page("sandbox", (main) => {
    const pattern = h("textarea", {id: "sb-pattern", class: "code", spellcheck: "false", rows: 16,
      value: sessionStorage.getItem("lb-sandbox-pattern") || DEFAULT_PATTERN, oninput: schedule});
    const event = h("textarea", {id: "sb-event", class: "code", spellcheck: "false", rows: 16,
      value: sessionStorage.getItem("lb-sandbox-event") || defaultEvent(), oninput: schedule});
    const result = h("div", {id: "sb-result", class: "verdict"}, "…");
    main.append(h("div", {class: "page-head"}, h("h1", {}, "Pattern sandbox")),
      h("p", {class: "muted"}, "The engine that routes your events answers as you type: the same " +
        "matcher, the same validation messages as PutRule."),
      result,
      h("div", {class: "two-col"},
        h("section", {class: "card"}, h("h2", {}, h("label", {for: "sb-pattern"}, "Event pattern")), pattern),
        h("section", {class: "card"}, h("h2", {}, h("label", {for: "sb-event"}, "Event")), event)));

    let timer = null;
    let seq = 0;
    LB.onLeave(() => clearTimeout(timer));
    function schedule() {
      sessionStorage.setItem("lb-sandbox-pattern", pattern.value);
      sessionStorage.setItem("lb-sandbox-event", event.value);
      clearTimeout(timer);
      timer = setTimeout(check, 150);
    }

    async function check() {
      const mine = ++seq; /* only the latest answer is shown */
      for (const [el, what] of [[pattern, "pattern"], [event, "event"]]) {
        try {
          JSON.parse(el.value);
          el.classList.remove("invalid");
        } catch (err) {
          el.classList.add("invalid");
          return show("bad", "The " + what + " is not valid JSON", err.message);
        }
      }
      try {
        const r = await LB.admin("test-event-pattern", {EventPattern: pattern.value, Event: event.value});
        if (mine !== seq) return;
        if (r.Result) show("ok", "Matches", "This event would be delivered to the rule's targets.");
        else show("bad", "Does not match", r.Reason || "No reason given.");
      } catch (err) {
        if (mine === seq) show("warn", err.type || "Error", err.message);
      }
    }

    function show(kind, title, why) {
      result.className = "verdict " + kind;
      result.dataset.result = kind;
      result.replaceChildren(h("strong", {}, title), h("span", {}, why));
    }

    check();
  });
})();
