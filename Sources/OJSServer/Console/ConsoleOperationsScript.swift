/// `operations.js`: the console's smaller pages. Queues (depth by state, pause and resume),
/// workers (the registry and its summary), cron (next and last run, enable and disable) and
/// settings (the node's role, the cluster's leader, the manifest, the key in use).
enum ConsoleOperationsScript {
    static let source = #"""
        "use strict";
        (() => {
          OJS.page("queues", {
            title: "Queues",
            mount(main, route, ctx) {
              main.innerHTML = `<h1>Queues</h1><section><table><thead><tr><th>Queue</th><th class="num">Depth</th><th class="num">Available</th>
                <th class="num">Active</th><th class="num">Scheduled</th><th class="num">Retryable</th><th class="num">Completed</th>
                <th class="num">Discarded</th><th>Status</th><th></th></tr></thead><tbody id="queues"></tbody></table>
                <p class="muted" id="queue-total"></p></section>`;
              document.getElementById("queues").addEventListener("click", e => {
                const button = e.target.closest("button[data-queue]");
                if (!button) return;
                const name = button.dataset.queue, action = button.dataset.action;
                OJS.confirmThen(`${action === "pause" ? "Pause" : "Resume"} queue ${name}?`, async () => {
                  await OJS.api("POST", `/ojs/v1/queues/${encodeURIComponent(name)}/${action}`);
                  await load();
                  return `Queue ${name} ${action === "pause" ? "paused: workers get no new jobs from it" : "resumed"}.`;
                });
              });
              async function load() {
                const items = [];
                let total = 0;
                for (let page = 1; page <= 10; page++) {
                  const r = await OJS.api("GET", `/ojs/v1/admin/queues?per_page=100&page=${page}`);
                  items.push(...r.items);
                  total = r.pagination.total;
                  if (items.length >= total || r.items.length === 0) break;
                }
                if (!ctx.alive) return;
                document.getElementById("queues").innerHTML = items.length ? items.map(q => {
                  const c = q.counts, action = q.paused ? "resume" : "pause";
                  return `<tr data-queue="${OJS.esc(q.name)}"><td>${OJS.link("/jobs?queue=" + encodeURIComponent(q.name), q.name)}</td>`
                    + `<td class="num" data-field="depth">${q.depth}</td>`
                    + `<td class="num" data-field="available">${c.available}</td><td class="num">${c.active}</td>`
                    + `<td class="num">${c.scheduled}</td><td class="num">${c.retryable}</td><td class="num">${c.completed}</td>`
                    + `<td class="num">${c.discarded}</td><td data-field="status">${OJS.queueStatus(q.paused)}</td>`
                    + `<td><button type="button" data-queue="${OJS.esc(q.name)}" data-action="${action}">`
                    + `${q.paused ? "Resume" : "Pause"}</button></td></tr>`;
                }).join("") : `<tr><td colspan="10" class="muted">no queues</td></tr>`;
                document.getElementById("queue-total").textContent = items.length < total ? `showing ${items.length} of ${total}` : `${total} queues`;
              }
              ctx.every(2000, load);
            },
          });

          OJS.page("workers", {
            title: "Workers",
            mount(main, route, ctx) {
              main.innerHTML = `<h1>Workers</h1><div class="cards" id="worker-summary"></div><section><table><thead><tr><th>Worker</th><th>State</th>
                <th class="num">Active jobs</th><th>Last heartbeat</th><th>First seen</th><th>Directive</th></tr></thead>
                <tbody id="workers"></tbody></table></section>`;
              ctx.every(2000, async () => {
                const r = await OJS.api("GET", "/ojs/v1/admin/workers?per_page=100");
                if (!ctx.alive) return;
                document.getElementById("worker-summary").innerHTML = Object.entries(r.summary).map(([k, v]) =>
                  `<div class="card" data-stat="${OJS.esc(k)}"><div class="value">${OJS.num(v)}</div>`
                  + `<div class="label">${OJS.esc(k)}</div></div>`).join("");
                document.getElementById("workers").innerHTML = r.items.length ? r.items.map(w =>
                  `<tr data-worker="${OJS.esc(w.id)}"><td><code>${OJS.esc(w.id)}</code></td><td>${OJS.state(w.stale ? "stale" : w.state)}</td>`
                  + `<td class="num">${w.active_jobs}</td><td>${OJS.ago(w.last_heartbeat_at)}</td><td>${OJS.time(w.first_seen_at)}</td>`
                  + `<td>${OJS.esc(w.directive || "–")}</td></tr>`).join("")
                  : `<tr><td colspan="6" class="muted">no workers have checked in</td></tr>`;
              });
            },
          });

          OJS.page("cron", {
            title: "Cron",
            mount(main, route, ctx) {
              main.innerHTML = `<h1>Cron</h1><section><table><thead><tr><th>Name</th><th>Schedule</th><th>Job type</th><th>Next run</th>
                <th>Last run</th><th class="num">Runs</th><th>Enabled</th><th></th></tr></thead><tbody id="crons"></tbody></table></section>`;
              document.getElementById("crons").addEventListener("click", e => {
                const button = e.target.closest("button[data-cron]");
                if (!button) return;
                const name = button.dataset.cron, action = button.dataset.action;
                OJS.confirmThen(`${action === "enable" ? "Enable" : "Disable"} cron ${name}?`, async () => {
                  await OJS.api("POST", `/ojs/v1/admin/cron/${encodeURIComponent(name)}/${action}`);
                  await load();
                  return `Cron ${name} ${action}d.`;
                });
              });
              async function load() {
                const r = await OJS.api("GET", "/ojs/v1/cron");
                if (!ctx.alive) return;
                document.getElementById("crons").innerHTML = r.crons.length ? r.crons.map(c => {
                  const template = c.job_template || {};
                  return `<tr data-cron="${OJS.esc(c.name)}"><td>${OJS.esc(c.name)}</td>`
                    + `<td><code>${OJS.esc(c.expression)}</code> ${OJS.esc(c.timezone)}</td>`
                    + `<td>${OJS.esc(template.type || "")}</td><td data-field="next_run_at">${OJS.time(c.next_run_at)}</td>`
                    + `<td>${OJS.time(c.last_run_at)}</td>`
                    + `<td class="num">${c.run_count}</td><td data-field="enabled">${c.enabled ? "yes" : "no"}</td>`
                    + `<td><button type="button" data-cron="${OJS.esc(c.name)}" data-action="${c.enabled ? "disable" : "enable"}">`
                    + `${c.enabled ? "Disable" : "Enable"}</button></td></tr>`;
                }).join("") : `<tr><td colspan="8" class="muted">no cron entries</td></tr>`;
              }
              ctx.every(5000, load);
            },
          });

          OJS.page("settings", {
            title: "Settings",
            mount(main, route, ctx) {
              main.innerHTML = `<h1>Settings</h1><div class="grid2"><section><h2>This node</h2><dl class="fields" id="node-fields"></dl></section>
                <section><h2>Cluster</h2><dl class="fields" id="cluster-fields"></dl></section></div>
                <section><h2>Capabilities</h2><div id="capabilities"></div></section>
                <section><h2>Manifest</h2><div id="manifest"></div></section>
                <section><h2>API key</h2><p class="muted" id="key-state"></p>
                <button type="button" id="forget-key">Forget the key in this tab</button></section>`;
              const fields = (el, pairs) => {
                document.getElementById(el).innerHTML = pairs.filter(([, v]) => v !== undefined && v !== null && v !== "")
                  .map(([k, v]) => `<dt>${OJS.esc(k)}</dt><dd data-field="${OJS.esc(k)}">${OJS.esc(v)}</dd>`).join("")
                  || `<dd class="muted">none</dd>`;
              };
              document.getElementById("key-state").textContent = OJS.hasKey ? "A key is set for this tab (sessionStorage)." : "No key is set.";
              document.getElementById("forget-key").addEventListener("click", () => {
                OJS.setKey("");
                document.getElementById("key-state").textContent = "No key is set.";
              });
              (async () => {
                const [manifest, status, health] = await Promise.all([
                  OJS.api("GET", "/ojs/manifest"), OJS.request("GET", "/ojs/v1/replication/status"), OJS.request("GET", "/ojs/v1/health"),
                ]);
                if (!ctx.alive) return;
                const s = status.body || {}, h = health.body || {}, c = s.cluster || null;
                fields("node-fields", [["role", s.role || h.role], ["region", s.region], ["status", h.status], ["version", h.version],
                  ["uptime", OJS.duration((h.uptime_seconds || 0) * 1000)], ["txid", s.txid ?? s.applied_txid], ["generation", s.generation],
                  ["serverless", s.serverless === undefined ? undefined : String(s.serverless)]]);
                fields("cluster-fields", c ? [["cluster", c.name], ["leader", c.leader ? c.leader.name : "none"], ["epoch", c.epoch],
                  ["this node", c.node], ["role", c.role]] : [["cluster", "not clustered (serve / replica mode)"]]);
                const caps = manifest.capabilities || {};
                document.getElementById("capabilities").innerHTML = `<table><tbody>${Object.entries(caps).map(([k, v]) =>
                  `<tr><td>${OJS.esc(k)}</td><td>${OJS.esc(typeof v === "object" ? JSON.stringify(v) : v)}</td></tr>`).join("")}</tbody></table>`;
                document.getElementById("manifest").innerHTML = OJS.json(manifest);
              })().catch(e => OJS.notice(e.message, true));
            },
          });
        })();
        """#
}
