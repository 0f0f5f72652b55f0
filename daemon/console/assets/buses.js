/* Buses -> rules -> targets, three columns, read with the EventBridge API itself. */
"use strict";

(() => {
  const {h} = LB;

  LB.page("buses", async (main, [busName, ruleName]) => {
    main.append(h("div", {class: "page-head"}, h("h1", {}, "Buses & rules")));
    const cols = h("div", {class: "columns"});
    main.append(cols);
    const buses = await LB.allPages("ListEventBuses", {}, "EventBuses");
    const bus = busName || "default";
    cols.append(column("Buses", buses.map((b) =>
      item(b.Name, b.Name === bus, ["buses", b.Name], b.Description || LB.arnTail(b.Arn)))));

    const rules = await LB.allPages("ListRules", {EventBusName: bus}, "Rules");
    cols.append(column("Rules on " + bus, rules.length ? rules.map((r) =>
      item(r.Name, r.Name === ruleName, ["buses", bus, r.Name],
        r.ScheduleExpression || r.Description || "", r.State)) :
      LB.empty("No rules on this bus", h("p", {}, "Create one to route its events:"),
        LB.cli("aws events put-rule --endpoint-url " + location.origin + " --event-bus-name " + bus +
          " --name my-rule --event-pattern '{\"source\":[\"my.app\"]}'"))));

    const detail = h("div", {class: "column wide"});
    cols.append(detail);
    const rule = rules.find((r) => r.Name === ruleName);
    if (!rule) {
      detail.append(h("h2", {}, "Targets"), LB.empty(rules.length ? "Pick a rule" : "Nothing to show",
        h("p", {}, "Its pattern and targets appear here.")));
      return;
    }
    const targets = await LB.allPages("ListTargetsByRule", {Rule: rule.Name, EventBusName: bus}, "Targets");
    LB.append(detail, [h("h2", {}, rule.Name, " ", LB.badge(rule.State)),
      rule.Description ? h("p", {}, rule.Description) : null,
      rule.EventPattern ? [h("h3", {}, "Pattern"), LB.jsonView(rule.EventPattern),
        h("button", {type: "button", onclick: () => {
          sessionStorage.setItem("lb-sandbox-pattern", rule.EventPattern);
          LB.go("sandbox");
        }}, "Open in the pattern sandbox")] : null,
      rule.ScheduleExpression ? [h("h3", {}, "Schedule"), h("p", {class: "mono"}, rule.ScheduleExpression)] : null,
      h("h3", {}, "Targets (" + targets.length + ")"),
      targets.length ? targets.map(target) : LB.empty("No targets",
        h("p", {}, "Matched events go nowhere until the rule has a target:"),
        LB.cli("aws events put-targets --endpoint-url " + location.origin + " --event-bus-name " + bus +
          " --rule " + rule.Name + " --targets Id=1,Arn=arn:aws:events:us-east-1:000000000000:event-bus/other"))]);
  });

  function column(title, items) {
    return h("div", {class: "column"}, h("h2", {}, title), h("ul", {class: "picker"}, items));
  }

  function item(name, active, route, sub, state) {
    return h("li", {class: active ? "active" : ""},
      h("a", {href: "#/" + route.map(encodeURIComponent).join("/")},
        h("span", {class: "name"}, name, state && state !== "ENABLED" ? [" ", LB.badge(state)] : null),
        sub ? h("span", {class: "sub"}, sub) : null));
  }

  function target(t) {
    const extra = {};
    for (const k of ["Input", "InputPath", "InputTransformer", "RetryPolicy", "DeadLetterConfig", "HttpParameters"])
      if (t[k] !== undefined) extra[k] = t[k];
    return h("div", {class: "target"}, h("div", {}, h("strong", {}, t.Id), " ",
      h("span", {class: "mono"}, t.Arn)),
    Object.keys(extra).length ? LB.jsonView(extra, "small") : null);
  }
})();
