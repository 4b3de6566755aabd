/// The live dashboard at `GET /ojs/dashboard`: one self-contained HTML page (no CDN, no
/// build step) that polls the status and queue endpoints every second and draws each
/// replica's lag over the last five minutes as an SVG line chart, plus queue depths.
///
/// With API keys set, the page sends one as a Bearer token. It takes the key from the URL
/// fragment (`/ojs/dashboard#key=…`, which browsers never send to the server, so it stays out
/// of access logs), or asks for it after a 401. The key is kept in sessionStorage only.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>ojs-edge dashboard</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
          body { font: 14px system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f7f8fa; }
          h1 { font-size: 20px; margin: 0 0 4px; }
          .muted { color: #6b7280; }
          section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 16px; margin: 16px 0; }
          table { border-collapse: collapse; width: 100%; }
          th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #f0f1f4; }
          th { font-weight: 600; color: #4b5563; }
          .state-streaming { color: #047857; } .state-catching_up { color: #b45309; } .state-disconnected, .state-bootstrapping { color: #b91c1c; }
          #lag-chart { width: 100%; height: 240px; }
          .legend span { margin-right: 16px; }
        </style>
        </head>
        <body>
        <h1>ojs-edge</h1>
        <div class="muted">primary txid <span id="txid">–</span> · updated <span id="updated">never</span></div>
        <div class="muted" id="cluster" hidden>cluster <span id="cluster-name"></span> · leader <b id="leader">–</b>
          · epoch <span id="epoch">–</span> · this node <span id="node"></span> (<span id="node-role"></span>)</div>
        <form id="key-form" hidden><label>API key <input id="key-input" type="password" autocomplete="off"></label> <button>Use key</button></form>
        <section>
          <h2>Replication lag (ms, last 5 minutes)</h2>
          <svg id="lag-chart" viewBox="0 0 800 240" preserveAspectRatio="none" data-series="0"></svg>
          <div class="legend" id="legend"></div>
          <table><thead><tr><th>Region</th><th>State</th><th>Lag (txns)</th><th>Lag (ms)</th><th>Lag (bytes)</th><th>Last seen</th></tr></thead>
          <tbody id="replicas"><tr><td colspan="6" class="muted">no replicas</td></tr></tbody></table>
        </section>
        <section>
          <h2>Queues</h2>
          <table><thead><tr><th>Queue</th><th>Depth</th><th>Available</th><th>Active</th><th>Dead letters</th><th>Status</th></tr></thead>
          <tbody id="queues"><tr><td colspan="6" class="muted">no queues</td></tr></tbody></table>
        </section>
        <script>
        "use strict";
        const WINDOW_MS = 5 * 60 * 1000;
        const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2"];
        const history = {};  // region -> [[time, lagMs]]

        function esc(s) { return String(s).replace(/[&<>"']/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;","\"":"&quot;","'":"&#39;"}[c])); }
        let apiKey = sessionStorage.getItem("ojs-api-key") || "";
        const fromFragment = location.hash.match(/(?:^#|&)key=([^&]+)/);
        if (fromFragment) {
          apiKey = decodeURIComponent(fromFragment[1]);
          sessionStorage.setItem("ojs-api-key", apiKey);
          window.history.replaceState(null, "", location.pathname);
        }
        document.getElementById("key-form").addEventListener("submit", e => {
          e.preventDefault();
          apiKey = document.getElementById("key-input").value;
          sessionStorage.setItem("ojs-api-key", apiKey);
          document.getElementById("key-form").hidden = true;
          refresh();
        });
        async function getJSON(path) {
          const headers = { "Accept": "application/json" };
          if (apiKey) headers["Authorization"] = "Bearer " + apiKey;
          const r = await fetch(path, { headers });
          if (r.status === 401) document.getElementById("key-form").hidden = false;
          if (!r.ok) throw new Error(path + " " + r.status);
          return r.json();
        }

        function drawChart() {
          const svg = document.getElementById("lag-chart");
          const now = Date.now();
          const regions = Object.keys(history).sort();
          let max = 10;
          for (const r of regions) for (const [, v] of history[r]) max = Math.max(max, v);
          const x = t => 800 * (1 - (now - t) / WINDOW_MS);
          const y = v => 230 - 220 * v / max;
          let out = `<text x="4" y="14" font-size="12" fill="#6b7280">${Math.round(max)} ms</text>` +
                    `<line x1="0" y1="230" x2="800" y2="230" stroke="#e5e7eb"/>`;
          regions.forEach((r, i) => {
            const pts = history[r].map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
            out += `<polyline data-region="${esc(r)}" data-points="${history[r].length}" fill="none"`
              + ` stroke="${COLORS[i % COLORS.length]}" stroke-width="2" points="${pts}"/>`;
          });
          svg.innerHTML = out;
          svg.setAttribute("data-series", String(regions.length));
          document.getElementById("legend").innerHTML =
            regions.map((r, i) => `<span style="color:${COLORS[i % COLORS.length]}">■ ${esc(r)}</span>`).join("");
        }

        async function refresh() {
          try {
            const status = await getJSON("/ojs/v1/replication/status");
            const now = Date.now();
            document.getElementById("txid").textContent = status.txid ?? status.primary_txid;
            const cluster = status.cluster;
            document.getElementById("cluster").hidden = !cluster;
            if (cluster) {
              document.getElementById("cluster-name").textContent = cluster.name;
              document.getElementById("leader").textContent = cluster.leader ? cluster.leader.name : "none";
              document.getElementById("epoch").textContent = cluster.epoch ?? "–";
              document.getElementById("node").textContent = cluster.node;
              document.getElementById("node-role").textContent = cluster.role;
            }
            const replicas = status.replicas || [];
            for (const r of replicas) {
              (history[r.region] = history[r.region] || []).push([now, r.lag_ms]);
              history[r.region] = history[r.region].filter(([t]) => now - t <= WINDOW_MS);
            }
            document.getElementById("replicas").innerHTML = replicas.length ? replicas.map(r =>
              `<tr data-region="${esc(r.region)}"><td>${esc(r.region)}</td><td class="state-${esc(r.state)}">${esc(r.state)}</td>` +
              `<td>${r.lag_transactions}</td><td>${r.lag_ms}</td><td>${r.lag_bytes}</td><td>${esc(r.last_contact)}</td></tr>`).join("")
              : `<tr><td colspan="6" class="muted">no replicas</td></tr>`;
            drawChart();
            const list = await getJSON("/ojs/v1/queues?limit=200");
            const dlq = await getJSON("/ojs/v1/admin/dead-letter/stats");
            const rows = [];
            for (const q of list.queues || []) {
              const s = await getJSON("/ojs/v1/queues/" + encodeURIComponent(q.name) + "/stats");
              const dead = (dlq.by_queue || {})[q.name] || 0;
              rows.push(`<tr data-queue="${esc(q.name)}"><td>${esc(q.name)}</td><td>${s.stats.depth}</td><td>${s.queue.available}</td>` +
                        `<td>${s.queue.active}</td><td>${dead}</td><td>${esc(s.status)}</td></tr>`);
            }
            document.getElementById("queues").innerHTML = rows.length ? rows.join("") : `<tr><td colspan="6" class="muted">no queues</td></tr>`;
            document.getElementById("updated").textContent = new Date(now).toISOString();
          } catch (e) {
            document.getElementById("updated").textContent = "error: " + e.message;
          }
        }
        refresh();
        setInterval(refresh, 1000);
        </script>
        </body>
        </html>
        """#
}
