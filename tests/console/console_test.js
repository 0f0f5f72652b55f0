#!/usr/bin/env node
/* The web console in headless Chromium (Debian's /usr/bin/chromium, driven by puppeteer-core)
 * against the real daemon on port 0: every page loads with no console error and no request
 * leaving the daemon; an event put with the API appears in the live tail; its page shows its
 * delivery timeline; a dead letter is redriven from the page once its target is back.
 *
 *   node console_test.js --binary build/localbridge [--screenshot docs/console.png]
 *
 * Prints one line per check and "console: N passed, N failed" last; exits 1 on any failure. */
"use strict";

const {spawn} = require("node:child_process");
const fs = require("node:fs");
const http = require("node:http");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const readline = require("node:readline");
const puppeteer = require("puppeteer-core");

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf("--" + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const BINARY = path.resolve(opt("binary", process.env.LB_BINARY || "build/localbridge"));
const CHROMIUM = opt("chromium", process.env.LB_CHROMIUM || "/usr/bin/chromium");
const SCREENSHOT = opt("screenshot", null);
const TIMEOUT = 15000; /* generous: the machine is shared */

let passed = 0, failed = 0;
let currentPage = null; /* for a picture of a failed check, when LB_CONSOLE_FAILSHOTS names a folder */
const problems = []; /* console errors, page errors, outside requests: each fails the run */

async function check(name, f) {
  const t0 = Date.now();
  try {
    await f();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
    const dir = process.env.LB_CONSOLE_FAILSHOTS;
    if (dir && currentPage)
      await currentPage.screenshot({path: path.join(dir, `fail-${failed}.png`)}).catch(() => {});
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/* The daemon on port 0 with a fresh data dir; resolves once it printed its URL. */
function startDaemon(dir, config) {
  const conf = path.join(dir, "localbridge.conf");
  fs.writeFileSync(conf, config);
  const log = fs.openSync(path.join(dir, "daemon.log"), "a");
  const proc = spawn(BINARY, ["serve", "--listen", "127.0.0.1:0", "--data-dir", path.join(dir, "var"),
    "--config", conf], {stdio: ["ignore", "pipe", log]});
  return new Promise((resolve, reject) => {
    const rl = readline.createInterface({input: proc.stdout});
    rl.once("line", (line) => (line.startsWith("http://") ? resolve({proc, url: line.trim()})
      : reject(new Error("daemon printed " + line))));
    proc.once("exit", (code) => reject(new Error("daemon exited " + code + "\n" +
      fs.readFileSync(path.join(dir, "daemon.log"), "utf8"))));
  });
}

/* A port nobody listens on now, that the test can listen on later (the "fixed" target). */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const {port} = s.address();
      s.close(() => resolve(port));
    });
  });
}

function makeApi(url) {
  const aws = async (op, body) => {
    const res = await fetch(url + "/", {method: "POST", body: JSON.stringify(body),
      headers: {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents." + op}});
    const out = await res.json();
    if (!res.ok) throw new Error(op + ": " + JSON.stringify(out));
    return out;
  };
  const get = async (p) => (await fetch(url + p)).json();
  return {aws, get};
}

async function until(what, f, timeout = TIMEOUT) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lb-console-"));
  const closedPort = await freePort();
  const {proc, url} = await startDaemon(dir,
    "retry_base_delay = 50ms\nretry_max_delay = 200ms\ndelivery_timeout = 2s\n" +
    `target_map = arn:aws:sqs:*:*:console-target -> http://127.0.0.1:${closedPort}/hook\n`);
  const api = makeApi(url);
  const origin = new URL(url).origin;
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM, headless: true, userDataDir: path.join(dir, "chromium"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--disable-dev-shm-usage"],
  });
  let target = null;
  try {
    const page = await browser.newPage();
    currentPage = page;
    await page.setViewport({width: 1360, height: 820});
    /* Chromium logs every 4xx answer to fetch() as an error; a 400 from test-event-pattern is the
     * daemon refusing a pattern the test typed on purpose, which the page shows: not a problem. */
    const expected = (m) => /status of 400/.test(m.text()) &&
      (m.location().url || "").endsWith("/_localbridge/test-event-pattern");
    page.on("console", (m) => m.type() === "error" && !expected(m) && problems.push("console error: " +
      m.text() + " at " + JSON.stringify(m.location())));
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    page.on("request", (r) => {
      const u = r.url();
      if (!u.startsWith(origin + "/") && !u.startsWith("data:")) problems.push("outside request: " + u);
    });
    const answers = [];
    page.on("response", async (r) => {
      if (r.url().endsWith("/_localbridge/dead-letters/redrive"))
        answers.push({status: r.status(), body: await r.text().catch(() => "")});
    });
    const open = async (hash, selector) => {
      await page.goto(origin + "/_localbridge/console/" + hash, {waitUntil: "domcontentloaded"});
      await page.waitForSelector(selector, {timeout: TIMEOUT});
      const err = await page.$eval("#main", (m) => (m.querySelector(".error-box") || {}).textContent || "");
      assert(!err, "the page shows an error: " + err);
      /* Pictures of every page visited, to look at by eye: LB_CONSOLE_PAGESHOTS=dir */
      if (process.env.LB_CONSOLE_PAGESHOTS)
        await page.screenshot({path: path.join(process.env.LB_CONSOLE_PAGESHOTS,
          hash.replace(/\W+/g, "_") + "-" + Date.now() + ".png")});
    };

    await check("the bare prefix redirects and assets carry types and ETags", async () => {
      const res = await fetch(origin + "/_localbridge/console", {redirect: "manual"});
      assert(res.status === 301 && res.headers.get("location") === "/_localbridge/console/", "no redirect");
      const css = await fetch(origin + "/_localbridge/console/style.css");
      assert(css.headers.get("content-type").startsWith("text/css"), "style.css type");
      const etag = css.headers.get("etag");
      const again = await fetch(origin + "/_localbridge/console/style.css", {headers: {"If-None-Match": etag}});
      assert(again.status === 304, "If-None-Match gave " + again.status);
      const js = await fetch(origin + "/_localbridge/console/app.js");
      assert(js.headers.get("content-type").startsWith("text/javascript"), "app.js type");
      assert(/default-src 'none'/.test(js.headers.get("content-security-policy")), "no CSP");
    });

    /* Empty pages first: each says what to do. */
    for (const [hash, sel] of [["#/tail", "#tail-state"], ["#/buses", ".columns .column"],
      ["#/dead-letters", ".empty"], ["#/sandbox", "#sb-result[data-result]"], ["#/replays", "#replays .empty"],
      ["#/metrics", "#status-cards .stat"]]) {
      await check("page " + hash + " loads", () => open(hash, sel));
    }

    /* A rule whose target is down, an archive, then events. */
    await api.aws("PutRule", {Name: "orders-to-hook", EventPattern: JSON.stringify({source: ["shop.orders"]})});
    await api.aws("PutTargets", {Rule: "orders-to-hook", Targets: [{Id: "hook",
      Arn: "arn:aws:sqs:us-east-1:000000000000:console-target", RetryPolicy: {MaximumRetryAttempts: 0}}]});
    await api.aws("PutRule", {Name: "big-orders", EventPattern: JSON.stringify({source: ["shop.orders"],
      detail: {total: [{numeric: [">", 500]}]}})});
    await api.aws("CreateEventBus", {Name: "payments"});
    await api.aws("PutRule", {Name: "all-payments", EventBusName: "payments",
      EventPattern: JSON.stringify({source: [{prefix: "pay."}]})});
    await api.aws("CreateArchive", {ArchiveName: "everything",
      EventSourceArn: "arn:aws:events:us-east-1:000000000000:event-bus/default"});

    let eventId;
    await check("an event put with the API appears in the live tail", async () => {
      await open("#/tail", "#tail-state.ok");
      const r = await api.aws("PutEvents", {Entries: [{Source: "shop.orders", DetailType: "OrderPlaced",
        Detail: JSON.stringify({orderId: "o-1042", total: 129.5, currency: "EUR"})}]});
      eventId = r.Entries[0].EventId;
      assert(eventId, "PutEvents: " + JSON.stringify(r));
      await page.waitForSelector(`#tail-rows tr[data-id="${eventId}"]`, {timeout: TIMEOUT});
      const text = await page.$eval(`#tail-rows tr[data-id="${eventId}"]`, (tr) => tr.textContent);
      assert(text.includes("shop.orders") && text.includes("OrderPlaced") && text.includes("orders-to-hook"),
        "row reads " + text);
      /* Its delivery fails (the target's port is closed) and the row says so. */
      await page.waitForFunction((id) => /dead.lettered|failed/i.test(
        document.querySelector(`#tail-rows tr[data-id="${id}"] .deliveries`).textContent),
      {timeout: TIMEOUT}, eventId);
    });

    await check("pause holds events back, resume shows them", async () => {
      await page.click("#tail-pause");
      const r = await api.aws("PutEvents", {Entries: [{Source: "pay.cards", DetailType: "PaymentCaptured",
        EventBusName: "payments", Detail: JSON.stringify({amount: 4200})}]});
      const id = r.Entries[0].EventId;
      await page.waitForFunction(() => /held while paused/.test(document.body.textContent), {timeout: TIMEOUT});
      assert(!(await page.$(`#tail-rows tr[data-id="${id}"]`)), "shown while paused");
      await page.click("#tail-pause");
      await page.waitForSelector(`#tail-rows tr[data-id="${id}"]`, {timeout: TIMEOUT});
    });

    if (SCREENSHOT) {
      /* A few more events so the picture shows a living tail. */
      for (const [s, t, d] of [["shop.inventory", "StockLow", {sku: "tea-042", left: 3}], ["shop.orders", "OrderShipped", {orderId: "o-1041", carrier: "dhl"}], ["auth.login", "UserSignedIn", {user: "ana"}]]) {
        await api.aws("PutEvents", {Entries: [{Source: s, DetailType: t, Detail: JSON.stringify(d)}]});
      }
      await new Promise((r) => setTimeout(r, 2500));
      /* The top of the page, where the rows are: no empty screen below them. */
      const bottom = await page.$eval("#tail-table", (t) => t.getBoundingClientRect().bottom);
      await page.screenshot({path: SCREENSHOT, clip: {x: 0, y: 0, width: 1360, height: Math.ceil(bottom) + 28}});
      console.log("screenshot: " + SCREENSHOT);
    }

    await check("the tail opens with the latest stored events below the live ones", async () => {
      await page.reload({waitUntil: "domcontentloaded"});
      await page.waitForSelector("#tail-state.ok", {timeout: TIMEOUT});
      await page.waitForSelector(`#tail-rows tr.past[data-id="${eventId}"]`, {timeout: TIMEOUT});
    });

    await check("a pattern filter narrows the tail; a bad one is explained, not sent", async () => {
      await page.$eval("#tail-pattern", (i) => (i.value = '{"source": [{"prefix": 7}]}'));
      await page.click("form.filters button[type=submit]");
      await page.waitForFunction(() => /InvalidEventPattern/.test(document.getElementById("toast").textContent),
        {timeout: TIMEOUT});
      await page.$eval("#tail-pattern", (i) => (i.value = '{"source": ["shop.inventory"]}'));
      await page.click("form.filters button[type=submit]");
      await page.waitForSelector("#tail-state.ok", {timeout: TIMEOUT});
      const r = await api.aws("PutEvents", {Entries: [{Source: "noise.app", DetailType: "Noise", Detail: "{}"},
        {Source: "shop.inventory", DetailType: "StockLow", Detail: JSON.stringify({sku: "tea-042", left: 3})}]});
      const [noise, wanted] = r.Entries.map((e) => e.EventId);
      await page.waitForSelector(`#tail-rows tr[data-id="${wanted}"]`, {timeout: TIMEOUT});
      assert(!(await page.$(`#tail-rows tr[data-id="${noise}"]`)), "the filter let noise.app through");
      await page.$eval("#tail-pattern", (i) => (i.value = ""));
      await page.click("form.filters button[type=submit]");
      await page.waitForSelector("#tail-state.ok", {timeout: TIMEOUT});
    });

    await check("clicking an event opens its page with its delivery timeline", async () => {
      await page.waitForSelector(`#tail-rows tr[data-id="${eventId}"]`, {timeout: TIMEOUT});
      await page.click(`#tail-rows tr[data-id="${eventId}"]`);
      await page.waitForSelector("#event-page .delivery .timeline li", {timeout: TIMEOUT});
      assert(page.url().endsWith("#/events/" + eventId), "url " + page.url());
      const text = await page.$eval("#event-page", (e) => e.textContent);
      assert(text.includes("orders-to-hook") && text.includes("o-1042"), "page reads " + text.slice(0, 300));
      /* Which rules of its bus matched it, and why the others did not. */
      await page.waitForSelector('#event-rules tr[data-rule="orders-to-hook"]', {timeout: TIMEOUT});
      const why = await page.$eval('#event-rules tr[data-rule="orders-to-hook"]', (tr) => tr.textContent);
      assert(/matches/.test(why), "rule row reads " + why);
      const big = await page.$eval('#event-rules tr[data-rule="big-orders"]', (tr) => tr.textContent);
      assert(/no match/.test(big) && /total/.test(big), "big-orders row reads " + big);
      if (SCREENSHOT) {
        const bottom = await page.$eval("#event-rules", (t) => t.getBoundingClientRect().bottom);
        await page.screenshot({path: SCREENSHOT.replace(/\.png$/, "-event.png"),
          clip: {x: 0, y: 0, width: 1360, height: Math.ceil(bottom) + 28}});
      }
    });

    await check("a dead letter is redriven from the page once its target is back", async () => {
      const deadFor = async (id) => ((await api.get("/_localbridge/dead-letters")).DeadLetters || [])
        .filter((d) => d.EventId === id).length;
      await until("the dead letter", () => deadFor(eventId));
      const box = `#dl-rows tr[data-event="${eventId}"] input[type=checkbox]`;
      await open("#/dead-letters", box);
      const received = [];
      target = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          received.push(body);
          res.end("ok");
        });
      });
      await new Promise((r) => target.listen(closedPort, "127.0.0.1", r));
      await page.click(box);
      await page.click("#dl-redrive-selected");
      await until("the redrive answer", () => answers.length);
      assert(answers[0].status === 200 && JSON.parse(answers[0].body).Redriven === 1, JSON.stringify(answers));
      await page.waitForFunction(() => /Redriven: 1/.test(document.getElementById("toast").textContent),
        {timeout: TIMEOUT});
      await until("the target to receive the event", () => received.some((b) => b.includes(eventId)));
      await until("the dead letter to go", async () => (await deadFor(eventId)) === 0);
    });

    await check("the sandbox explains a pattern as you type", async () => {
      await open("#/sandbox", "#sb-result[data-result]");
      await page.$eval("#sb-pattern", (t) => (t.value = ""));
      await page.type("#sb-pattern", '{"source": ["other.app"]}');
      await page.waitForSelector('#sb-result[data-result="bad"]', {timeout: TIMEOUT});
      await page.waitForFunction(() => /Does not match/.test(document.getElementById("sb-result").textContent),
        {timeout: TIMEOUT});
      await page.$eval("#sb-pattern", (t) => (t.value = ""));
      await page.type("#sb-pattern", '{"source": ["my.app"]}');
      await page.waitForSelector('#sb-result[data-result="ok"]', {timeout: TIMEOUT});
    });

    await check("buses, rules and targets read from the API", async () => {
      await open("#/buses/default/orders-to-hook", ".column.wide .target");
      const text = await page.$eval(".columns", (e) => e.textContent);
      assert(text.includes("payments") && text.includes("console-target") && text.includes("MaximumRetryAttempts"),
        "reads " + text.slice(0, 300));
    });

    await check("archives and replays: start a replay and watch it finish", async () => {
      await open("#/replays", "#replays");
      await page.click("#replays-start button[type=submit]");
      await page.waitForFunction(() => /COMPLETED|RUNNING|STARTING/.test(document.getElementById("replays").textContent),
        {timeout: TIMEOUT});
    });

    await check("metrics show status and sparklines", async () => {
      await open("#/metrics", "#sparklines .spark svg");
    });

    await check("no console error, no page error, no outside request", async () => {
      assert(problems.length === 0, problems.join("\n"));
    });
  } finally {
    await browser.close();
    if (target) target.close();
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    if (failed) console.log("daemon log:\n" + fs.readFileSync(path.join(dir, "daemon.log"), "utf8").slice(-4000));
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

main().catch((err) => {
  failed++;
  console.log("FAIL setup: " + (err && err.stack ? err.stack : err));
}).finally(() => {
  console.log(`console: ${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
});
