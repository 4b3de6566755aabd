/// `core.js`: what every console page shares. The API client (API key, `OJS-Bookmark` so a
/// replica answers reads at least as new as the console's own writes), the live event stream
/// (SSE read through `fetch`, because `EventSource` cannot send an `Authorization` header;
/// it resumes with `Last-Event-ID` after a drop), the fragment router and small formatters.
///
/// A page registers itself and gets a context whose timers and streams stop when the user
/// leaves it:
///
///     OJS.page("workers", { title: "Workers", mount(main, route, ctx) {
///       ctx.every(2000, async () => { const w = await OJS.api("GET", "/ojs/v1/admin/workers"); … });
///     }});
enum ConsoleCoreScript {
    static let source = #"""
        "use strict";
        const OJS = (() => {
          const KEY_STORE = "ojs-api-key";
          let apiKey = sessionStorage.getItem(KEY_STORE) || "";
          let bookmark = "";
          const pages = {};
          let mounted = null;

          function takeKeyFromFragment() {
            const m = location.hash.match(/[#&?]key=([^&]*)/);
            if (!m) return;
            setKey(decodeURIComponent(m[1]));
            const rest = location.hash.replace(/[#&?]key=[^&]*/, "").replace(/^#/, "");
            history.replaceState(null, "", location.pathname + "#" + (rest.startsWith("/") ? rest : "/overview"));
          }
          function setKey(key) {
            apiKey = key;
            if (key) sessionStorage.setItem(KEY_STORE, key); else sessionStorage.removeItem(KEY_STORE);
          }
          function showKeyForm() { document.getElementById("key-form").hidden = false; }

          function headers(extra) {
            const h = Object.assign({ "Accept": "application/json" }, extra || {});
            if (apiKey) h["Authorization"] = "Bearer " + apiKey;
            return h;
          }

          /** One API call: {status, body, headers}. Throws only when the node cannot be reached. */
          async function request(method, path, body) {
            const h = headers(bookmark ? { "OJS-Bookmark": bookmark } : {});
            const init = { method, headers: h };
            if (body !== undefined) { h["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
            const r = await fetch(path, init);
            if (method !== "GET" && r.headers.get("OJS-Bookmark")) bookmark = r.headers.get("OJS-Bookmark");
            if (r.status === 401) showKeyForm();
            const text = await r.text();
            let parsed = null;
            try { parsed = text ? JSON.parse(text) : null; } catch (e) { parsed = { raw: text }; }
            return { status: r.status, body: parsed, headers: r.headers };
          }

          /** An API call that must succeed: its body, or an Error carrying the OJS error's message. */
          async function api(method, path, body) {
            const r = await request(method, path, body);
            if (r.status >= 200 && r.status < 300) return r.body;
            const err = (r.body && r.body.error) || {};
            const e = new Error(`${method} ${path}: ${r.status} ${err.code || ""} ${err.message || ""}`.trim());
            e.status = r.status;
            throw e;
          }

          /**
           * Reads `GET /ojs/v1/events/stream?<query>` and calls onEvent({id, type, data}) for each
           * event; after a drop it reconnects with Last-Event-ID, so no event is missed or repeated.
           */
          function stream(query, onEvent, onStatus) {
            let stopped = false, controller = null, lastId = "";
            const status = s => { if (onStatus) onStatus(s); };
            async function run() {
              while (!stopped) {
                controller = new AbortController();
                try {
                  const h = headers({ "Accept": "text/event-stream", "Cache-Control": "no-cache" });
                  if (lastId) h["Last-Event-ID"] = lastId;
                  const r = await fetch("/ojs/v1/events/stream?" + query, { headers: h, signal: controller.signal });
                  if (r.status === 401) showKeyForm();
                  if (!r.ok || !r.body) throw new Error("stream answered " + r.status);
                  status("live");
                  const reader = r.body.getReader();
                  const decoder = new TextDecoder();
                  let buffer = "", ev = { type: "", id: "", data: "" };
                  for (;;) {
                    const { done, value } = await reader.read();
                    if (done) break;
                    buffer += decoder.decode(value, { stream: true });
                    let nl;
                    while ((nl = buffer.indexOf("\n")) >= 0) {
                      const line = buffer.slice(0, nl).replace(/\r$/, "");
                      buffer = buffer.slice(nl + 1);
                      if (line === "") {
                        if (ev.id) lastId = ev.id;
                        if (ev.data) {
                          let data;
                          try { data = JSON.parse(ev.data); } catch (e) { data = { raw: ev.data }; }
                          try { onEvent({ id: ev.id, type: ev.type || "message", data }); } catch (e) { console.error(e); }
                        }
                        ev = { type: "", id: "", data: "" };
                      } else if (!line.startsWith(":")) {
                        const colon = line.indexOf(":");
                        const field = colon < 0 ? line : line.slice(0, colon);
                        let value = colon < 0 ? "" : line.slice(colon + 1);
                        if (value.startsWith(" ")) value = value.slice(1);
                        if (field === "event") ev.type = value;
                        else if (field === "id") ev.id = value;
                        else if (field === "data") ev.data = ev.data ? ev.data + "\n" + value : value;
                      }
                    }
                  }
                } catch (e) {
                  if (stopped) return;
                }
                if (stopped) return;
                status("reconnecting");
                await new Promise(resolve => setTimeout(resolve, 2000));
              }
            }
            run();
            return { close() { stopped = true; if (controller) controller.abort(); } };
          }

          function page(name, definition) { pages[name] = definition; }

          function parseRoute() {
            const hash = location.hash.replace(/^#\/?/, "");
            const q = hash.indexOf("?");
            const path = q < 0 ? hash : hash.slice(0, q);
            const parts = path.split("/").filter(p => p !== "").map(decodeURIComponent);
            return { name: parts[0] || "overview", args: parts.slice(1), query: new URLSearchParams(q < 0 ? "" : hash.slice(q + 1)) };
          }

          function route() {
            if (mounted) mounted.stop();
            document.getElementById("notice").hidden = true;
            const r = parseRoute();
            const def = pages[r.name] || pages.overview;
            const navName = def.nav || r.name;
            document.querySelectorAll("#nav a").forEach(a => a.classList.toggle("active", a.dataset.page === navName));
            const main = document.getElementById("main");
            main.innerHTML = "";
            main.dataset.page = pages[r.name] ? r.name : "overview";
            document.title = def.title + " · ojs-edge";
            mounted = context();
            try { def.mount(main, r, mounted); } catch (e) { notice(e.message, true); }
          }

          /** Timers and streams of the mounted page, stopped together when it is left. */
          function context() {
            let alive = true;
            const stops = [];
            return {
              get alive() { return alive; },
              every(ms, fn) {
                let timer = null;
                const tick = async () => {
                  if (!alive) return;
                  if (!document.hidden) {
                    try { await fn(); } catch (e) { if (alive) notice(e.message, true); }
                  }
                  if (alive) timer = setTimeout(tick, ms);
                };
                tick();
                stops.push(() => clearTimeout(timer));
              },
              stream(query, onEvent, onStatus) {
                const s = stream(query, onEvent, onStatus);
                stops.push(() => s.close());
                return s;
              },
              stop() { alive = false; stops.forEach(f => f()); },
            };
          }

          let noticeTimer = null;
          function notice(message, isError) {
            const el = document.getElementById("notice");
            el.textContent = message;
            el.className = isError ? "error" : "";
            el.hidden = false;
            clearTimeout(noticeTimer);
            noticeTimer = setTimeout(() => { el.hidden = true; }, isError ? 8000 : 4000);
          }

          /** Runs a destructive action only after the user confirms it; reports the outcome. */
          async function confirmThen(question, action) {
            if (!window.confirm(question)) return false;
            try {
              const message = await action();
              if (message) notice(message, false);
              return true;
            } catch (e) {
              notice(e.message, true);
              return false;
            }
          }

          const esc = s => String(s ?? "").replace(/[&<>"']/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" }[c]));
          const num = n => (n ?? 0).toLocaleString("en-US");
          const pad = n => String(n).padStart(2, "0");
          /** The local time of day, `HH:MM:SS`, of a Date or Unix milliseconds. */
          function clock(t) {
            const d = new Date(t);
            return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
          }
          function time(iso) {
            if (!iso) return "–";
            const d = new Date(iso);
            if (isNaN(d)) return esc(iso);
            return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d)}`;
          }
          function duration(ms) {
            if (ms == null) return "–";
            const s = Math.max(0, Math.round(ms / 1000));
            if (s < 60) return s + " s";
            if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
            return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
          }
          const ago = iso => iso ? duration(Date.now() - Date.parse(iso)) + " ago" : "–";
          const state = s => `<span class="state state-${esc(s)}">${esc(s)}</span>`;
          const queueStatus = paused => paused ? state("paused") : `<span class="state state-ok">active</span>`;
          const json = v => `<pre>${esc(JSON.stringify(v ?? null, null, 2))}</pre>`;
          const link = (hash, text) => `<a href="#${esc(hash)}">${esc(text)}</a>`;
          function queryString(params) {
            const q = new URLSearchParams();
            for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
            return q.toString();
          }

          /**
           * A filtered, paged list from its route (`#/<page>?<field>=…&page=n`): the filter, the
           * page number, the pager's markup, `bind(formId)` to wire the filter form and the
           * pager to the route, and `show(text, hasMore)` after each load.
           */
          function listing(route, fields) {
            const q = route.query;
            const page = Math.max(1, parseInt(q.get("page") || "1", 10) || 1);
            const filter = Object.fromEntries(fields.map(f => [f, q.get(f) || ""]));
            const go = (f, p) => { location.hash = `#/${route.name}?` + queryString(Object.assign({}, f, { page: p > 1 ? p : "" })); };
            return {
              page, filter,
              pager: `<div class="pager"><button id="prev" type="button">Previous</button><span id="page-info" class="muted"></span>
                <button id="next" type="button">Next</button></div>`,
              bind(formId) {
                document.getElementById(formId).addEventListener("submit", e => {
                  e.preventDefault();
                  const form = new FormData(e.target);
                  go(Object.fromEntries(fields.map(f => [f, String(form.get(f) || "").trim()])), 1);
                });
                document.getElementById("prev").addEventListener("click", () => go(filter, page - 1));
                document.getElementById("next").addEventListener("click", () => go(filter, page + 1));
              },
              show(text, hasMore) {
                document.getElementById("page-info").textContent = text;
                document.getElementById("prev").disabled = page <= 1;
                document.getElementById("next").disabled = !hasMore;
              },
            };
          }

          async function showNode() {
            const r = await request("GET", "/ojs/v1/health");
            const b = r.body || {};
            const role = b.role || (b.replica ? "replica" : "primary");
            document.getElementById("node-badge").textContent =
              [role, b.region, b.version ? "v" + b.version : ""].filter(Boolean).join(" · ");
          }

          // A script error or a failed promise anywhere shows as an error notice, so nothing
          // fails silently (and the browser tests, which check for error notices, see it).
          window.addEventListener("error", e => notice("Script error: " + e.message, true));
          window.addEventListener("unhandledrejection", e => notice((e.reason && e.reason.message) || String(e.reason), true));

          document.addEventListener("DOMContentLoaded", () => {
            takeKeyFromFragment();
            document.getElementById("key-form").addEventListener("submit", e => {
              e.preventDefault();
              setKey(document.getElementById("key-input").value);
              document.getElementById("key-form").hidden = true;
              route();
            });
            window.addEventListener("hashchange", route);
            if (!location.hash) history.replaceState(null, "", location.pathname + "#/overview");
            route();
            showNode().catch(() => {});
          });

          return { api, request, stream, page, notice, confirmThen, setKey, esc, num, clock, time, duration, ago, state, queueStatus, json, link,
                   queryString, listing,
                   get hasKey() { return apiKey !== ""; } };
        })();
        """#
}
