/* Archives and replays: what each archive holds, each replay's progress (the time it has reached
 * between EventStartTime and EventEndTime), and starting or cancelling a replay. */
"use strict";

(() => {
  const {h} = LB;
  const FINAL = ["COMPLETED", "CANCELLED", "FAILED"];

  LB.page("replays", async (main) => {
    main.append(h("div", {class: "page-head"}, h("h1", {}, "Archives & replays")));
    const archivesBox = h("section", {class: "card"});
    const replaysBox = h("section", {class: "card", id: "replays"});
    main.append(archivesBox, replaysBox);

    const archives = await LB.allPages("ListArchives", {}, "Archives");
    archivesBox.append(h("h2", {}, "Archives"), archives.length ? h("table", {class: "list"},
      h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Source bus"), h("th", {}, "State"),
        h("th", {class: "num"}, "Events"), h("th", {class: "num"}, "Size"), h("th", {}, "Retention"),
        h("th", {}, "Created"))),
      h("tbody", {}, archives.map((a) => h("tr", {}, h("td", {}, h("strong", {}, a.ArchiveName)),
        h("td", {}, LB.arnTail(a.EventSourceArn).replace(/^event-bus\//, "")), h("td", {}, LB.badge(a.State)),
        h("td", {class: "num"}, String(a.EventCount ?? "")), h("td", {class: "num"}, LB.bytes(a.SizeBytes)),
        h("td", {}, a.RetentionDays ? a.RetentionDays + " days" : "forever"),
        h("td", {}, LB.time(a.CreationTime)))))) :
      LB.empty("No archives", h("p", {}, "An archive keeps a bus's events so they can be replayed later:"),
        LB.cli("aws events create-archive --endpoint-url " + location.origin +
          " --archive-name all --event-source-arn arn:aws:events:us-east-1:000000000000:event-bus/default")));
    if (archives.length) archivesBox.append(startForm(archives));

    const list = h("div", {});
    replaysBox.append(h("h2", {}, "Replays"), list);
    /* A replay's progress moves by itself: look again each second while one is not final. */
    let timer = null;
    LB.onLeave(() => clearTimeout(timer));
    async function refresh() {
      const replays = await LB.allPages("ListReplays", {}, "Replays");
      replays.sort((a, b) => (LB.toDate(b.ReplayStartTime) || 0) - (LB.toDate(a.ReplayStartTime) || 0));
      list.replaceChildren(...(replays.length ? replays.map(replay) : [
        LB.empty("No replays yet", h("p", {}, archives.length ? "Start one above: the archive's events " +
          "between two times are sent again to a bus, each with a replay-name." :
          "Replays need an archive first."))]));
      if (replays.some((r) => !FINAL.includes(r.State))) timer = setTimeout(() => refresh().catch(() => {}), 1000);
    }
    LB.replaysRefresh = () => {
      clearTimeout(timer);
      return refresh();
    };
    await refresh();
  });

  function replay(r) {
    const start = LB.toDate(r.EventStartTime), end = LB.toDate(r.EventEndTime);
    const at = LB.toDate(r.EventLastReplayedTime);
    let pct = r.State === "COMPLETED" ? 100 : 0;
    if (at && start && end && end > start) pct = Math.max(0, Math.min(100, (at - start) / (end - start) * 100));
    const bar = h("progress", {max: 100, value: pct.toFixed(1), "aria-label": "progress"});
    const cancel = ["STARTING", "RUNNING"].includes(r.State) ? h("button", {type: "button", onclick: async () => {
      try {
        await LB.aws("CancelReplay", {ReplayName: r.ReplayName});
        LB.toast("Cancelling " + r.ReplayName, "ok");
        LB.replaysRefresh();
      } catch (err) {
        LB.toast(err.message, "bad");
      }
    }}, "Cancel") : null;
    return h("div", {class: "replay"}, h("div", {class: "delivery-head"}, LB.badge(r.State),
      h("strong", {}, r.ReplayName), h("span", {class: "muted small"}, "from " +
        LB.arnTail(r.EventSourceArn)), h("span", {class: "spacer"}), cancel),
    h("div", {class: "progress-row"}, bar, h("span", {class: "small"}, Math.round(pct) + "%")),
    h("div", {class: "muted small"}, "events of " + (start ? start.toISOString() : "?") + " → " +
      (end ? end.toISOString() : "?") + (r.ReplayStartTime ? " · started " + LB.ago(r.ReplayStartTime) : "")),
    r.StateReason ? h("div", {class: "small err"}, r.StateReason) : null);
  }

  function startForm(archives) {
    const local = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    const now = new Date();
    const name = h("input", {required: true, value: "replay-" + now.toISOString().slice(0, 19).replace(/\D/g, ""),
      pattern: "[\\.\\-_A-Za-z0-9]+", size: 22});
    const archive = h("select", {}, archives.map((a) => h("option", {value: a.ArchiveName}, a.ArchiveName)));
    const from = h("input", {type: "datetime-local", value: local(new Date(now - 3600000)), required: true});
    const to = h("input", {type: "datetime-local", value: local(now), required: true});
    return h("form", {class: "filters", id: "replays-start", onsubmit: async (e) => {
      e.preventDefault();
      const a = archives.find((x) => x.ArchiveName === archive.value);
      try {
        const d = await LB.aws("DescribeArchive", {ArchiveName: a.ArchiveName});
        await LB.aws("StartReplay", {ReplayName: name.value, EventSourceArn: d.ArchiveArn,
          EventStartTime: new Date(from.value).getTime() / 1000, EventEndTime: new Date(to.value).getTime() / 1000,
          Destination: {Arn: a.EventSourceArn}});
        LB.toast("Replay " + name.value + " started", "ok");
        LB.replaysRefresh();
      } catch (err) {
        LB.toast(err.message, "bad");
      }
    }}, h("strong", {}, "Replay"), h("label", {}, "archive ", archive), h("label", {}, "from ", from),
    h("label", {}, "to ", to), h("label", {}, "as ", name),
    h("button", {type: "submit", class: "primary"}, "Start replay"));
  }
})();
