/// `dead-letter.js`: the dead-letter queue. Browse and filter by queue, type and error type
/// (the counts by error type come from `GET /ojs/v1/admin/dead-letter/stats`); retry or
/// delete one job, the selected ones, or every job the filter matches, each after a
/// confirmation. "All matching" uses the bulk endpoints, which take at most 10,000 jobs a
/// request and say how many remain.
enum ConsoleDeadLetterScript {
    static let source = #"""
        "use strict";
        (() => {
          const PER_PAGE = 50;
          const base = "/ojs/v1/admin/dead-letter";

          OJS.page("dead-letter", {
            title: "Dead letter",
            mount(main, route, ctx) {
              const view = OJS.listing(route, ["queue", "type", "error_type"]);
              const { page, filter } = view;
              main.innerHTML = `<h1>Dead letter</h1>
                <div class="cards" id="dlq-stats"></div>
                <form class="filters" id="dlq-filters">
                  <label>Queue <input name="queue" value="${OJS.esc(filter.queue)}"></label>
                  <label>Type <input name="type" value="${OJS.esc(filter.type)}"></label>
                  <label>Error type <select name="error_type" id="error-types"><option value="">any</option></select></label>
                  <button class="primary" type="submit">Filter</button>
                </form>
                <section><div class="toolbar">
                  <button id="retry-selected" type="button" disabled>Retry selected</button>
                  <button id="delete-selected" class="danger" type="button" disabled>Delete selected</button>
                  <button id="retry-matching" type="button">Retry all matching</button>
                  <button id="delete-matching" class="danger" type="button">Delete all matching</button>
                  <span class="muted" id="dlq-count"></span></div>
                <table><thead><tr><th><input type="checkbox" id="select-all" aria-label="select all"></th><th>Job</th><th>Type</th><th>Queue</th>
                <th>Error</th><th class="num">Attempts</th><th>Ended</th><th></th></tr></thead><tbody id="dead-letters"></tbody></table>
                ${view.pager}</section>`;
              view.bind("dlq-filters");
              const selected = () => [...document.querySelectorAll("#dead-letters input[type=checkbox]:checked")].map(c => c.dataset.id);
              const updateButtons = () => {
                const n = selected().length;
                document.getElementById("retry-selected").disabled = n === 0;
                document.getElementById("delete-selected").disabled = n === 0;
              };
              document.getElementById("select-all").addEventListener("change", e => {
                document.querySelectorAll("#dead-letters input[type=checkbox]").forEach(c => { c.checked = e.target.checked; });
                updateButtons();
              });
              const body = () => Object.fromEntries(Object.entries(filter).filter(([, v]) => v));
              const one = (id, action) => action === "retry"
                ? OJS.api("POST", `${base}/${encodeURIComponent(id)}/retry`) : OJS.api("DELETE", `${base}/${encodeURIComponent(id)}`);
              async function each(ids, action) {
                let done = 0;
                for (const id of ids) { await one(id, action); done++; }
                await load();
                return `${action === "retry" ? "Retried" : "Deleted"} ${done} job${done === 1 ? "" : "s"}.`;
              }
              document.getElementById("retry-selected").addEventListener("click", () => {
                const ids = selected();
                OJS.confirmThen(`Retry ${ids.length} selected job(s)?`, () => each(ids, "retry"));
              });
              document.getElementById("delete-selected").addEventListener("click", () => {
                const ids = selected();
                OJS.confirmThen(`Delete ${ids.length} selected job(s) for good?`, () => each(ids, "delete"));
              });
              document.getElementById("retry-matching").addEventListener("click", () =>
                OJS.confirmThen("Retry every dead letter this filter matches?", async () => {
                  const r = await OJS.api("POST", base + "/retry", body());
                  await load();
                  return `Retried ${r.replayed} job(s)` + (r.remaining ? `; ${r.remaining} remain, run it again.` : ".");
                }));
              document.getElementById("delete-matching").addEventListener("click", () =>
                OJS.confirmThen("Delete every dead letter this filter matches, for good?", async () => {
                  const r = await OJS.api("POST", base + "/delete", Object.assign(body(), { confirm: true }));
                  await load();
                  return `Deleted ${r.deleted ?? (r.job_ids || []).length} job(s)` + (r.remaining ? `; ${r.remaining} remain.` : ".");
                }));
              document.getElementById("dead-letters").addEventListener("click", e => {
                const button = e.target.closest("button[data-action]");
                if (button) {
                  const id = button.dataset.id, action = button.dataset.action;
                  OJS.confirmThen(`${action === "retry" ? "Retry" : "Delete"} job ${id}?`, () => each([id], action));
                } else if (e.target.matches("input[type=checkbox]")) updateButtons();
              });

              async function load() {
                const [stats, list] = await Promise.all([
                  OJS.api("GET", base + "/stats"),
                  OJS.api("GET", base + "?" + OJS.queryString(Object.assign({}, filter, { page, per_page: PER_PAGE }))),
                ]);
                if (!ctx.alive) return;
                const types = Object.entries(stats.by_error_type || {});
                document.getElementById("dlq-stats").innerHTML =
                  `<div class="card" data-stat="total"><div class="value">${OJS.num(stats.total)}</div><div class="label">Dead letters</div></div>`
                  + types.map(([t, n]) => `<div class="card" data-error-type="${OJS.esc(t)}"><div class="value">${OJS.num(n)}</div>`
                  + `<div class="label">${OJS.link("/dead-letter?error_type=" + encodeURIComponent(t), t)}</div></div>`).join("");
                document.getElementById("error-types").innerHTML = `<option value="">any</option>` + types.map(([t]) =>
                  `<option${t === filter.error_type ? " selected" : ""}>${OJS.esc(t)}</option>`).join("");
                document.getElementById("dead-letters").innerHTML = list.items.length ? list.items.map(j => {
                  const e = j.error || {};
                  return `<tr data-job="${OJS.esc(j.id)}"><td><input type="checkbox" data-id="${OJS.esc(j.id)}" aria-label="select"></td>`
                    + `<td>${OJS.link("/job/" + encodeURIComponent(j.id), j.id)}</td><td>${OJS.esc(j.type)}</td><td>${OJS.esc(j.queue)}</td>`
                    + `<td>${OJS.esc(e.type || e.code || "")}: ${OJS.esc(e.message || "")}</td><td class="num">${j.attempt}</td>`
                    + `<td>${OJS.time(j.discarded_at || j.completed_at)}</td>`
                    + `<td><button type="button" data-action="retry" data-id="${OJS.esc(j.id)}">Retry</button> `
                    + `<button type="button" class="danger" data-action="delete" data-id="${OJS.esc(j.id)}">Delete</button></td></tr>`;
                }).join("") : `<tr><td colspan="8" class="muted">no dead letters match</td></tr>`;
                const total = list.pagination.total;
                document.getElementById("dlq-count").textContent = `${OJS.num(total)} matching`;
                view.show(`page ${page}`, page * PER_PAGE < total);
                document.getElementById("select-all").checked = false;
                updateButtons();
              }
              load().catch(e => OJS.notice(e.message, true));
            },
          });
        })();
        """#
}
