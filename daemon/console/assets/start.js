/* Starts the console once every page has registered: the router, and the health pill in the top
 * bar (GET /health every 5 s). */
"use strict";

(() => {
  const pill = document.getElementById("health");
  async function health() {
    try {
      const r = await fetch("/health");
      const b = await r.json();
      pill.textContent = b.status === "ok" ? "healthy · v" + b.version : b.status;
      pill.className = "pill " + (b.status === "ok" ? "ok" : "bad");
      pill.title = b.reason || "schema " + b.schema + ", " + b.pending_writes + " writes pending";
    } catch (e) {
      pill.textContent = "daemon unreachable";
      pill.className = "pill bad";
    }
  }
  health();
  setInterval(health, 5000);
  window.addEventListener("hashchange", LB.route);
  LB.route();
})();
