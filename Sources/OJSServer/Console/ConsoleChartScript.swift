/// `charts.js`: time-series line charts drawn as SVG, with a time axis (a labelled tick each
/// minute) and a value axis, and a `Timeline` that keeps the last five minutes of samples.
/// Each line carries `data-name` and `data-points`, which the browser tests read.
///
///     const lag = new Charts.Timeline();
///     lag.add("eu", Date.now(), 12);
///     Charts.draw(document.getElementById("lag-chart"), lag.series(), { unit: "ms" });
enum ConsoleChartScript {
    static let source = #"""
        "use strict";
        const Charts = (() => {
          const WINDOW_MS = 5 * 60 * 1000;
          const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d"];
          const W = 800, H = 220, LEFT = 56, RIGHT = 10, TOP = 10, BOTTOM = 24;

          class Timeline {
            constructor() { this.points = new Map(); }
            add(name, t, v) {
              if (!this.points.has(name)) this.points.set(name, []);
              const list = this.points.get(name);
              list.push([t, v]);
              while (list.length && t - list[0][0] > WINDOW_MS) list.shift();
            }
            /** Drops series with no sample in the window (a queue that was deleted, a replica that left). */
            series(now) {
              const out = [];
              for (const [name, list] of this.points) {
                if (list.length && (now ?? Date.now()) - list[list.length - 1][0] <= WINDOW_MS) out.push({ name, points: list });
                else this.points.delete(name);
              }
              return out;
            }
          }

          function niceMax(v) {
            if (v <= 0) return 1;
            const p = Math.pow(10, Math.floor(Math.log10(v)));
            for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
            return 10 * p;
          }
          function label(v, unit) {
            const text = v >= 1e6 ? (v / 1e6).toFixed(1) + "M" : v >= 1e4 ? (v / 1e3).toFixed(0) + "k" : (Math.round(v * 100) / 100).toString();
            return unit ? text + " " + unit : text;
          }
          // core.js loads first: one escape and one clock format for every page.
          const { esc, clock } = OJS;

          function draw(svg, series, opts) {
            const now = (opts && opts.now) || Date.now();
            const unit = (opts && opts.unit) || "";
            let max = 0;
            for (const s of series) for (const [, v] of s.points) max = Math.max(max, v);
            max = niceMax(max);
            const x = t => LEFT + (W - LEFT - RIGHT) * (1 - (now - t) / WINDOW_MS);
            const y = v => TOP + (H - TOP - BOTTOM) * (1 - v / max);
            let out = "";
            for (const f of [0, 0.5, 1]) {
              const yy = y(max * f).toFixed(1);
              out += `<line class="grid" x1="${LEFT}" y1="${yy}" x2="${W - RIGHT}" y2="${yy}"/>`;
              out += `<text x="${LEFT - 6}" y="${(+yy + 4).toFixed(1)}" text-anchor="end">${esc(label(max * f, unit))}</text>`;
            }
            const tick = 60 * 1000;
            for (let t = Math.ceil((now - WINDOW_MS) / tick) * tick; t <= now; t += tick) {
              const xx = x(t).toFixed(1);
              out += `<line class="grid" x1="${xx}" y1="${TOP}" x2="${xx}" y2="${H - BOTTOM}"/>`;
              out += `<text class="tick" x="${xx}" y="${H - 6}" text-anchor="middle">${clock(t)}</text>`;
            }
            series.forEach((s, i) => {
              const pts = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
              out += `<polyline data-name="${esc(s.name)}" data-points="${s.points.length}" fill="none" stroke="${COLORS[i % COLORS.length]}"`
                + ` stroke-width="2" points="${pts}"/>`;
            });
            svg.innerHTML = out;
            svg.setAttribute("data-series", String(series.length));
          }

          function legend(el, series) {
            el.innerHTML = series.map((s, i) =>
              `<span><svg width="10" height="10"><rect width="10" height="10" fill="${COLORS[i % COLORS.length]}"/></svg> ${esc(s.name)}</span>`
            ).join("");
          }

          function svg(id) {
            return `<svg id="${id}" class="chart" viewBox="0 0 ${W} ${H}" data-series="0"></svg>`;
          }

          return { Timeline, draw, legend, svg, WINDOW_MS };
        })();
        """#
}
