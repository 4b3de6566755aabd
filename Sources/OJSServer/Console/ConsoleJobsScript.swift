/// `jobs.js`: the job browser (`#/jobs?state=&queue=&type=&page=`) and a job's page
/// (`#/job/<id>`): its fields, args, meta, result, error history and lifecycle events, with
/// retry and cancel. The job's page follows `channel=job:<id>` on the event stream, so a
/// state change shows without a reload.
enum ConsoleJobsScript {
    static let source = #"""
        "use strict";
        (() => {
          const STATES = ["available", "active", "scheduled", "retryable", "pending", "completed", "discarded", "cancelled"];
          const PER_PAGE = 50;

          OJS.page("jobs", {
            title: "Jobs",
            mount(main, route, ctx) {
              const view = OJS.listing(route, ["state", "queue", "type"]);
              const { page, filter } = view;
              main.innerHTML = `<h1>Jobs</h1>
                <form class="filters" id="job-filters">
                  <label>State <select name="state"><option value="">any</option>${STATES.map(s =>
                    `<option${s === filter.state ? " selected" : ""}>${s}</option>`).join("")}</select></label>
                  <label>Queue <input name="queue" value="${OJS.esc(filter.queue)}"></label>
                  <label>Type <input name="type" value="${OJS.esc(filter.type)}"></label>
                  <button class="primary" type="submit">Filter</button>
                </form>
                <section><table><thead><tr><th>Job</th><th>Type</th><th>Queue</th><th>State</th><th class="num">Attempt</th>
                <th>Created</th></tr></thead><tbody id="jobs"><tr><td colspan="6" class="muted">loading…</td></tr></tbody></table>
                ${view.pager}</section>`;
              view.bind("job-filters");
              ctx.every(5000, async () => {
                const r = await OJS.api("GET", "/ojs/v1/admin/jobs?" + OJS.queryString(Object.assign({}, filter, { page, per_page: PER_PAGE })));
                if (!ctx.alive) return;
                document.getElementById("jobs").innerHTML = r.items.length ? r.items.map(j =>
                  `<tr data-job="${OJS.esc(j.id)}"><td>${OJS.link("/job/" + encodeURIComponent(j.id), j.id)}</td><td>${OJS.esc(j.type)}</td>`
                  + `<td>${OJS.esc(j.queue)}</td><td>${OJS.state(j.state)}</td><td class="num">${j.attempt}/${j.max_attempts}</td>`
                  + `<td>${OJS.time(j.created_at)}</td></tr>`).join("")
                  : `<tr><td colspan="6" class="muted">no jobs match</td></tr>`;
                const p = r.pagination;
                view.show(`page ${page}` + (p.total != null ? ` · ${OJS.num(p.total)} jobs` : ""), p.has_more);
              });
            },
          });

          function eventRow(e) {
            // The log's events carry their fields under `data`; the stream's carry them at the
            // top, beside its own: show the same details for both.
            const details = Object.assign({}, e.data || {});
            for (const k of ["id", "type", "time", "job_id", "queue", "job_type", "from", "to"]) delete details[k];
            return `<tr data-event="${OJS.esc(e.id)}"><td class="time">${OJS.time(e.time)}</td><td>${OJS.esc(e.type)}</td>`
              + `<td><code>${OJS.esc(JSON.stringify(details))}</code></td></tr>`;
          }

          OJS.page("job", {
            title: "Job",
            nav: "jobs",
            mount(main, route, ctx) {
              const id = route.args[0] || "";
              const seen = new Set();
              main.innerHTML = `<h1>Job <code>${OJS.esc(id)}</code> <span id="job-state"></span></h1>
                <div class="toolbar"><button id="retry" type="button" hidden>Retry</button>
                <button id="cancel" class="danger" type="button" hidden>Cancel</button>
                <span class="muted" id="live-status">connecting…</span></div>
                <div class="grid2"><section><h2>Fields</h2><dl class="fields" id="job-fields"></dl></section>
                <section><h2>Args</h2><div id="job-args"></div><h2>Meta</h2><div id="job-meta"></div></section></div>
                <section><h2>Result</h2><div id="job-result"></div></section>
                <section><h2>Errors</h2><table><thead><tr><th class="num">Attempt</th><th>Code</th><th>Message</th><th>At</th></tr></thead>
                <tbody id="job-errors"></tbody></table></section>
                <section><h2>Lifecycle events</h2><table><thead><tr><th>Time</th><th>Event</th><th>Details</th></tr></thead>
                <tbody id="job-events"></tbody></table></section>`;
              let job = null;
              async function load() {
                job = await OJS.api("GET", "/ojs/v1/admin/jobs/" + encodeURIComponent(id));
                if (!ctx.alive) return;
                document.getElementById("job-state").innerHTML = OJS.state(job.state);
                document.getElementById("job-state").dataset.state = job.state;
                const fields = ["type", "queue", "priority", "attempt", "max_attempts", "created_at", "enqueued_at", "scheduled_at", "started_at",
                  "completed_at", "cancelled_at", "discarded_at", "next_attempt_at", "worker_id", "workflow_id"];
                document.getElementById("job-fields").innerHTML = fields.filter(f => job[f] != null).map(f =>
                  `<dt>${f}</dt><dd data-field="${f}">${f.endsWith("_at") ? OJS.time(job[f]) : OJS.esc(job[f])}</dd>`).join("");
                document.getElementById("job-args").innerHTML = OJS.json(job.args);
                document.getElementById("job-meta").innerHTML = OJS.json(job.meta);
                document.getElementById("job-result").innerHTML = job.result !== undefined ? OJS.json(job.result) : `<p class="muted">none</p>`;
                const errors = job.errors || (job.error ? [job.error] : []);
                document.getElementById("job-errors").innerHTML = errors.length ? errors.map(e =>
                  `<tr><td class="num">${e.attempt ?? "–"}</td><td>${OJS.esc(e.code || e.type)}</td><td>${OJS.esc(e.message)}</td>`
                  + `<td>${OJS.time(e.occurred_at)}</td></tr>`).join("") : `<tr><td colspan="4" class="muted">none</td></tr>`;
                document.getElementById("retry").hidden = !(job.state === "discarded" || job.state === "cancelled");
                document.getElementById("cancel").hidden = ["completed", "discarded", "cancelled"].includes(job.state);
              }
              const history = [];
              const seq = e => parseInt(String(e.id).replace(/^evt_/, ""), 10) || 0;
              function addEvents(events) {
                for (const e of events) {
                  if (seen.has(e.id)) continue;
                  seen.add(e.id);
                  history.push(e);
                }
                history.sort((a, b) => seq(a) - seq(b));
                document.getElementById("job-events").innerHTML = history.length ? history.map(eventRow).join("")
                  : `<tr><td colspan="3" class="muted">none in the event log</td></tr>`;
              }
              async function loadEvents() {
                const since = job && job.created_at ? "&since=" + encodeURIComponent(job.created_at) : "";
                const r = await OJS.api("GET", "/ojs/v1/events?limit=1000&subject=" + encodeURIComponent(id) + since);
                if (ctx.alive) addEvents(r.events);
              }
              document.getElementById("retry").addEventListener("click", () => OJS.confirmThen(`Retry job ${id}?`, async () => {
                await OJS.api("POST", "/ojs/v1/admin/jobs/" + encodeURIComponent(id) + "/retry");
                await load();
                return "Job queued again.";
              }));
              document.getElementById("cancel").addEventListener("click", () => OJS.confirmThen(`Cancel job ${id}?`, async () => {
                await OJS.api("DELETE", "/ojs/v1/jobs/" + encodeURIComponent(id));
                await load();
                return "Job cancelled.";
              }));
              // Follow the stream first, so an event written while the page loads is not missed;
              // `seen` drops the ones both the stream and the log read return.
              ctx.stream("channel=" + encodeURIComponent("job:" + id), ev => {
                const d = ev.data || {};
                addEvents([{ id: ev.id, type: ev.type, time: d.time, data: d.data || d }]);
                load().catch(e => OJS.notice(e.message, true));
              }, s => { const el = document.getElementById("live-status"); if (el) el.textContent = s === "live" ? "live" : "reconnecting…"; });
              load().then(loadEvents).catch(e => OJS.notice(e.message, true));
            },
          });
        })();
        """#
}
