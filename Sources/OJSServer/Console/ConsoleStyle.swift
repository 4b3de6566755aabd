/// The console's stylesheet. Colours are custom properties with a dark set under
/// `prefers-color-scheme: dark`, so the console follows the system without a toggle.
enum ConsoleStyle {
    static let css = #"""
        :root {
          --bg: #f7f8fa; --panel: #ffffff; --text: #1d2330; --muted: #6b7280; --line: #e5e7eb; --soft: #f0f1f4;
          --accent: #2563eb; --ok: #047857; --warn: #b45309; --bad: #b91c1c; --badge: #eef2ff;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #0f1115; --panel: #171a21; --text: #e5e7eb; --muted: #9ca3af; --line: #2a2f3a; --soft: #1f2430;
            --accent: #60a5fa; --ok: #34d399; --warn: #fbbf24; --bad: #f87171; --badge: #1e2540;
          }
        }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { font: 14px system-ui, sans-serif; margin: 0; color: var(--text); background: var(--bg); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; font-size: 16px; color: var(--text); text-decoration: none; }
        nav a { color: var(--muted); text-decoration: none; margin-right: 14px; padding: 4px 0; }
        nav a.active { color: var(--accent); border-bottom: 2px solid var(--accent); }
        #node-badge { margin-left: auto; }
        main { padding: 16px 24px 48px; max-width: 1400px; }
        h1 { font-size: 20px; margin: 8px 0 12px; }
        h2 { font-size: 15px; margin: 0 0 10px; }
        a { color: var(--accent); }
        .muted { color: var(--muted); }
        section, .card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; margin: 0 0 16px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
        .card { margin: 0; }
        .card .value { font-size: 22px; font-weight: 600; }
        .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
        .grid2 { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr)); gap: 16px; margin-bottom: 16px; }
        .grid2 section { margin: 0; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--soft); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); font-size: 12px; }
        td.time { white-space: nowrap; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, pre { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
        pre { background: var(--soft); padding: 10px; border-radius: 6px; overflow: auto; max-height: 320px; margin: 0; }
        .state { display: inline-block; padding: 1px 8px; border-radius: 10px; background: var(--badge); font-size: 12px; }
        .state-completed, .state-streaming, .state-ok, .state-running { color: var(--ok); }
        .state-active, .state-catching_up, .state-quiet, .state-draining, .state-paused { color: var(--warn); }
        .state-discarded, .state-cancelled, .state-disconnected, .state-bootstrapping, .state-stale, .state-diverged { color: var(--bad); }
        form.filters { display: flex; flex-wrap: wrap; gap: 10px; align-items: end; margin-bottom: 12px; }
        label { display: inline-flex; flex-direction: column; gap: 3px; font-size: 12px; color: var(--muted); }
        input, select, button { font: inherit; color: var(--text); background: var(--panel); border: 1px solid var(--line);
          border-radius: 6px; padding: 5px 9px; }
        button { cursor: pointer; }
        button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
        button.danger { color: var(--bad); border-color: var(--bad); }
        button:disabled { opacity: .5; cursor: default; }
        .toolbar { display: flex; gap: 8px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
        #key-form { display: flex; gap: 10px; align-items: end; padding: 10px 24px; background: var(--badge); }
        #notice { margin: 12px 24px 0; padding: 8px 12px; border-radius: 6px; background: var(--badge); }
        #notice.error { color: var(--bad); }
        svg.chart { width: 100%; height: auto; display: block; }
        svg.chart text { fill: var(--muted); font-size: 11px; }
        svg.chart .grid { stroke: var(--line); }
        .legend span { margin-right: 14px; font-size: 12px; }
        .feed { max-height: 260px; overflow: auto; }
        .pager { display: flex; gap: 8px; align-items: center; margin-top: 10px; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
        dl.fields dt { color: var(--muted); }
        dl.fields dd { margin: 0; }
        """#
}
