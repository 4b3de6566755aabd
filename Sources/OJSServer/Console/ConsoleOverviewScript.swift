/// `overview.js`: the console's first page. One `GET /ojs/v1/admin/overview` a second gives
/// the counts, queues, replicas and an event tally; completed and failed per second are the
/// tally divided by the time between two answers. Recent failures arrive live on the event
/// stream (`types=job.failed,job.discarded`), so the page needs no poll for them.
///
/// Samples are kept while the user is on other pages' tabs of the console, so coming back
/// shows the last five minutes (only while the overview is open is it polled, though).
enum ConsoleOverviewScript {
    static let source = #"""
        "use strict";
        (() => {
          const throughput = new Charts.Timeline(), depth = new Charts.Timeline(), age = new Charts.Timeline(), lag = new Charts.Timeline();
          let cursor = null, lastServerTime = null;
          const CARDS = [
            ["available", "Available"], ["active", "Active"], ["waiting", "Scheduled + retryable"], ["completed_per_second", "Completed / s"],
            ["failed_per_second", "Failed / s"], ["completed", "Completed (kept)"], ["discarded", "Discarded"], ["workers", "Workers"],
          ];

          function sample(o) {
            const now = Date.now();
            const serverTime = Date.parse(o.time);
            const t = o.throughput;
            let rates = null;
            if (cursor && t.after === cursor && lastServerTime && serverTime > lastServerTime) {
              const seconds = (serverTime - lastServerTime) / 1000;
              rates = { completed: t.completed / seconds, failed: t.failed / seconds };
              throughput.add("completed", now, rates.completed);
              throughput.add("failed", now, rates.failed);
            }
            cursor = t.cursor;
            lastServerTime = serverTime;
            let total = 0;
            for (const q of o.queues) total += q.depth;
            depth.add("all queues", now, total);
            const deepest = [...o.queues].sort((a, b) => b.depth - a.depth).slice(0, 5);
            for (const q of deepest) depth.add(q.name, now, q.depth);
            for (const q of o.queues) {
              if (q.oldest_available_at) age.add(q.name, now, Math.max(0, (serverTime - Date.parse(q.oldest_available_at)) / 1000));
            }
            const r = o.replication || {};
            if (r.role === "replica") lag.add(r.region, now, r.lag_ms || 0);
            for (const rep of r.replicas || []) lag.add(rep.region, now, rep.lag_ms);
            return rates;
          }

          function render(o, rates) {
            const j = o.jobs;
            const values = {
              available: j.available, active: j.active, waiting: j.scheduled + j.retryable, completed: j.completed, discarded: j.discarded,
              workers: o.workers,
              completed_per_second: rates ? Math.round(rates.completed * 10) / 10 : "–",
              failed_per_second: rates ? Math.round(rates.failed * 10) / 10 : "–",
            };
            document.getElementById("cards").innerHTML = CARDS.map(([key, name]) =>
              `<div class="card" data-stat="${key}"><div class="value">${typeof values[key] === "number" ? OJS.num(values[key]) : values[key]}</div>`
              + `<div class="label">${name}</div></div>`).join("");
            for (const [id, timeline, unit] of [["throughput", throughput, "/s"], ["depth", depth, ""], ["age", age, "s"], ["lag", lag, "ms"]]) {
              const series = timeline.series();
              Charts.draw(document.getElementById(id + "-chart"), series, { unit });
              Charts.legend(document.getElementById(id + "-legend"), series);
            }
            const queues = o.queues;
            document.getElementById("overview-queues").innerHTML = queues.length ? queues.map(q =>
              `<tr data-queue="${OJS.esc(q.name)}"><td>${OJS.link("/jobs?queue=" + encodeURIComponent(q.name), q.name)}</td>`
              + `<td class="num" data-field="depth">${q.depth}</td><td class="num">${q.available}</td><td class="num">${q.active}</td>`
              + `<td class="num">${q.scheduled + q.retryable}</td>`
              + `<td>${q.oldest_available_at ? OJS.duration(Date.parse(o.time) - Date.parse(q.oldest_available_at)) : "–"}</td>`
              + `<td>${OJS.queueStatus(q.paused)}</td></tr>`).join("")
              : `<tr><td colspan="7" class="muted">no queues</td></tr>`;
            const r = o.replication || {};
            const rows = r.role === "replica"
              ? [{ region: r.region + " (this node)", state: r.state, lag_transactions: r.lag_transactions, lag_ms: r.lag_ms,
                  lag_bytes: "–", last_contact: r.last_contact }]
              : (r.replicas || []);
            document.getElementById("replicas").innerHTML = rows.length ? rows.map(x =>
              `<tr data-region="${OJS.esc(x.region)}"><td>${OJS.esc(x.region)}</td><td>${OJS.state(x.state)}</td>`
              + `<td class="num">${x.lag_transactions}</td>`
              + `<td class="num">${x.lag_ms}</td><td class="num">${x.lag_bytes}</td><td>${OJS.ago(x.last_contact)}</td></tr>`).join("")
              : `<tr><td colspan="6" class="muted">no replicas</td></tr>`;
            const leader = r.cluster && r.cluster.leader ? " · leader " + r.cluster.leader.name : "";
            document.getElementById("overview-updated").textContent =
              `${r.role || "node"}${r.region ? " " + r.region : ""}${leader}`
              + ` · txid ${r.txid ?? r.applied_txid ?? "–"} · updated ${OJS.time(o.time)}`;
          }

          function addFailure(ev) {
            const d = ev.data || {};
            const details = d.data || d;
            const error = details.error || {};
            const row = `<tr data-event="${OJS.esc(ev.id)}"><td class="time">${OJS.time(d.time)}</td><td>${OJS.esc(ev.type)}</td>`
              + `<td>${d.job_id ? OJS.link("/job/" + encodeURIComponent(d.job_id), d.job_id) : "–"}</td>`
              + `<td>${OJS.esc(d.queue || details.queue || "")}</td>`
              + `<td>${OJS.esc(error.code || "")} ${OJS.esc(error.message || "")}</td></tr>`;
            const feed = document.getElementById("feed");
            if (!feed) return;
            if (feed.querySelector("td.muted")) feed.innerHTML = "";
            feed.insertAdjacentHTML("afterbegin", row);
            while (feed.rows.length > 50) feed.deleteRow(feed.rows.length - 1);
          }

          OJS.page("overview", {
            title: "Overview",
            mount(main, route, ctx) {
              const chart = (id, title) =>
                `<section><h2>${title}</h2>${Charts.svg(id + "-chart")}<div class="legend" id="${id}-legend"></div></section>`;
              main.innerHTML = `<h1>Overview</h1><p class="muted" id="overview-updated">loading…</p>
                <div class="cards" id="cards"></div>
                <div class="grid2">${chart("throughput", "Jobs completed and failed per second")}${chart("depth", "Queue depth (jobs)")}
                ${chart("age", "Oldest available job, by queue (seconds)")}${chart("lag", "Replication lag (ms)")}</div>
                <section><h2>Queues</h2><table><thead><tr><th>Queue</th><th class="num">Depth</th><th class="num">Available</th>
                <th class="num">Active</th><th class="num">Scheduled + retryable</th><th>Oldest available</th><th>Status</th></tr></thead>
                <tbody id="overview-queues"></tbody></table></section>
                <section><h2>Replicas</h2><table><thead><tr><th>Region</th><th>State</th><th class="num">Lag (txns)</th><th class="num">Lag (ms)</th>
                <th class="num">Lag (bytes)</th><th>Last contact</th></tr></thead><tbody id="replicas"></tbody></table></section>
                <section><h2>Recent failures <span class="muted" id="feed-status">connecting…</span></h2><div class="feed"><table>
                <thead><tr><th>Time</th><th>Event</th><th>Job</th><th>Queue</th><th>Error</th></tr></thead>
                <tbody id="feed"><tr><td colspan="5" class="muted">none since this page opened</td></tr></tbody></table></div></section>`;
              ctx.every(1000, async () => {
                const o = await OJS.api("GET", "/ojs/v1/admin/overview" + (cursor ? "?after=" + encodeURIComponent(cursor) : ""));
                if (!ctx.alive) return;
                render(o, sample(o));
              });
              ctx.stream("types=job.failed,job.discarded", addFailure, s => {
                const el = document.getElementById("feed-status");
                if (el) el.textContent = s === "live" ? "live" : "reconnecting…";
              });
            },
          });
        })();
        """#
}
