"""Medians, same-run ratios, targets and the Markdown table for benchmarks/run."""
import statistics

ROWS = [
    ("ceiling_static", "ceiling: GET /ojs/manifest (static)"),
    ("ceiling_health", "ceiling: GET /ojs/v1/health (one DB read)"),
    ("push", "single push"),
    ("batch_100", "batch push, 100 per request"),
    ("batch_1000", "batch push, 1000 per request"),
    ("cycle_1", "cycle push→fetch→ack, 1 job per request"),
    ("cycle_10", "cycle push batch 10→fetch count 10→10 acks"),
    ("status_primary", "GET job status, primary"),
    ("status_replica", "GET job status, replica"),
    ("push_half_rate", "single push at half the max rate (open loop)"),
    ("replication_lag", "push at the lag rate with a replica attached"),
    ("raw_sqlite_batch_1000", "ceiling: raw SQLite insert of the same rows, 1000 per transaction"),
]
PEER_ROWS = [
    ("beanstalk_put_fsync_always", "beanstalkd put (-f0: fsync every write)"),
    ("beanstalk_cycle_fsync_always", "beanstalkd put→reserve→delete (-f0)"),
    ("beanstalk_put_fsync_50ms", "beanstalkd put (default -f50)"),
    ("beanstalk_cycle_fsync_50ms", "beanstalkd put→reserve→delete (default -f50)"),
]
# Issue 20: each ojs-edge number over a ceiling or peer measured in the same run. Ratios are
# taken within each run, then their median. (label, numerator, denominator, metric, goal)
# where numerator and denominator are (section, row); section "MODE" is the given mode.
GOALS = [
    ("[NORMAL] single push / bare Hummingbird route (req/s)",
     ("NORMAL", "push"), (None, "ceiling_hummingbird"), "requests_per_s", 0.50),
    ("[FULL] batch push of 1000 / raw SQLite insert, 1000 per transaction (jobs/s)",
     ("FULL", "batch_1000"), ("FULL", "raw_sqlite_batch_1000"), "jobs_per_s", 0.60),
    ("[NORMAL] batch push of 1000 / raw SQLite insert, 1000 per transaction (jobs/s)",
     ("NORMAL", "batch_1000"), ("NORMAL", "raw_sqlite_batch_1000"), "jobs_per_s", 0.60),
    ("[FULL] cycle, 1 job per request / beanstalkd -f0 put→reserve→delete (jobs/s)",
     ("FULL", "cycle_1"), ("beanstalkd", "beanstalk_cycle_fsync_always"), "jobs_per_s", 1.0),
    ("[NORMAL] cycle, 1 job per request / beanstalkd -f50 put→reserve→delete (jobs/s)",
     ("NORMAL", "cycle_1"), ("beanstalkd", "beanstalk_cycle_fsync_50ms"), "jobs_per_s", 0.35),
]


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def pick(run, where):
    section, row = where
    return (run.get(section) or {}).get(row) if section else run.get(row)


def goal_summary(runs):
    """Issue 20's same-run ratios: one per run, then the median; None where a side is missing."""
    out = []
    for label, num, den, metric, goal in GOALS:
        per_run = []
        for r in runs:
            a, b = pick(r, num), pick(r, den)
            if a and b and b.get(metric):
                per_run.append(round(a[metric] / b[metric], 3))
        ratio = med(per_run)
        out.append({"goal": label, "numerator": num[1], "denominator": den[1], "metric": metric,
                    "numerator_median": med([pick(r, num)[metric] for r in runs if pick(r, num)]),
                    "denominator_median": med([pick(r, den)[metric] for r in runs if pick(r, den)]),
                    "per_run": per_run, "ratio": ratio, "threshold": goal,
                    "met": None if ratio is None else ratio >= goal})
    return out


def row_summary(runs, pick, ceiling):
    """Medians of one scenario across runs; the ratio is taken within each run first."""
    rs = [pick(r) for r in runs]
    ratio = [x["requests_per_s"] / ceiling(r)["requests_per_s"] for x, r in zip(rs, runs) if x and ceiling(r)]
    return {
        "connections": rs[0].get("connections"),
        "jobs_per_s": med([x["jobs_per_s"] for x in rs]),
        "requests_per_s": med([x["requests_per_s"] for x in rs]),
        "ratio_to_static_ceiling": med(ratio),
        "p50_ms": med([x["latency_ms"]["p50"] for x in rs]),
        "p99_ms": med([x["latency_ms"]["p99"] for x in rs]),
        "p99_9_ms": med([x["latency_ms"]["p99_9"] for x in rs]),
        "server_cores": med([x.get("server_cores") for x in rs]),
        "server_cpu_us_per_job": med([x.get("server_cpu_us_per_job") for x in rs]),
        "client_cores": med([x["client_cores"] for x in rs]),
        "errors": sum(x["errors"] for x in rs),
        "writer_mean_batch": med([x.get("writer", {}).get("mean_batch") for x in rs]),
        "writer_mean_commit_ms": med([x.get("writer", {}).get("mean_commit_ms") for x in rs]),
        "writer_busy": med([x.get("writer", {}).get("busy") for x in rs]),
        "runs": len(rs),
    }


def evaluate(runs, args):
    first = args.modes[0]
    out = {"modes": {}, "peer": {}, "targets": []}
    for mode in args.modes:
        rows = {}
        for key, _ in ROWS:
            if all(key in r[mode] for r in runs):
                rows[key] = row_summary(runs, lambda r, k=key: r[mode][k], lambda r: r[mode].get("ceiling_static"))
        if "push" in rows and "ceiling_health" in rows:
            rows["push"]["ratio_to_health_ceiling"] = med(
                [r[mode]["push"]["requests_per_s"] / r[mode]["ceiling_health"]["requests_per_s"] for r in runs])
        if "replication_lag" in rows:
            lag = [r[mode]["replication_lag"] for r in runs]
            rows["replication_lag"]["apply_lag_p50_ms"] = med([x["apply_lag_ms"]["p50"] for x in lag])
            rows["replication_lag"]["apply_lag_p99_ms"] = med([x["apply_lag_ms"]["p99"] for x in lag])
            rows["replication_lag"]["apply_lag_max_ms"] = med([x["apply_lag_ms"]["max"] for x in lag])
            rows["replication_lag"]["transactions_per_s"] = med([x["transactions_per_s"] for x in lag])
        if "raw_sqlite_batch_1000" in rows:
            raw = [r[mode]["raw_sqlite_batch_1000"] for r in runs]
            rows["raw_sqlite_batch_1000"]["wall_jobs_per_s"] = med([x.get("wall_jobs_per_s") for x in raw])
            rows["raw_sqlite_batch_1000"]["prep_share"] = med([x.get("prep_share") for x in raw])
        out["modes"][mode] = rows
    for key, _ in PEER_ROWS:
        if all(key in r.get("beanstalkd", {}) for r in runs):
            out["peer"][key] = row_summary(runs, lambda r, k=key: r["beanstalkd"][k],
                                           lambda r: r[first].get("ceiling_static"))
    if all("ceiling_hummingbird" in r for r in runs):
        out["ceiling_hummingbird"] = row_summary(runs, lambda r: r["ceiling_hummingbird"],
                                                 lambda r: r[first].get("ceiling_static"))
    out["goals"] = goal_summary(runs)
    probes = [r["fsync"] for r in runs if "fsync" in r]
    out["fsync_ms"] = {k: med([p[k] for p in probes]) for k in ("p50_ms", "p99_ms", "max_ms")} if probes else None
    if getattr(args, "only", None) == "goals":
        return out
    out["cold_start_ms"] = med([r["cold_start"]["median_ms"] for r in runs])
    filled = [r["million"] for r in runs if "million" in r]
    out["cold_start_1m_ms"] = med([x["cold_start_with_jobs"]["median_ms"] for x in filled])
    out["rss_1m_hwm_mb"] = med([x["vm_hwm_mb"] for x in filled])
    out["rss_1m_current_mb"] = med([x["vm_rss_mb"] for x in filled])
    out["rss_1m_anon_mb"] = med([x.get("rss_anon_mb") for x in filled])
    out["rss_1m_file_mb"] = med([x.get("rss_file_mb") for x in filled])
    out["db_1m_mb"] = med([x["db_mb"] for x in filled])
    out["fill_jobs"] = filled[0]["jobs"]
    out["fill_jobs_per_s"] = filled[0]["fill_jobs_per_s"]

    def target(name, value, goal, ok, unit=""):
        out["targets"].append({"target": name, "measured": value, "goal": goal, "unit": unit,
                               "met": None if value is None else ok(value)})

    for mode in args.modes:
        m = out["modes"][mode]
        target(f"[{mode}] single push / static ceiling, {m['push']['connections']} conns",
               m["push"]["ratio_to_static_ceiling"], "≥ 0.70", lambda v: v >= 0.70)
        target(f"[{mode}] batch push jobs/s (best of 100, 1000)",
               max(m["batch_100"]["jobs_per_s"], m["batch_1000"]["jobs_per_s"]), "≥ 100000", lambda v: v >= 100_000)
        target(f"[{mode}] full cycle, fetch count 10, jobs/s", m["cycle_10"]["jobs_per_s"], "≥ 6000",
               lambda v: v >= 6000)
        target(f"[{mode}] push p99 at half the max rate", m["push_half_rate"]["p99_ms"], "≤ 5", lambda v: v <= 5, "ms")
        target(f"[{mode}] replication apply lag p99 at {args.lag_rate} pushes/s "
               f"({m['replication_lag']['transactions_per_s']} tx/s)",
               m["replication_lag"]["apply_lag_p99_ms"], "≤ 50", lambda v: v <= 50, "ms")
    target("cold start (empty data dir)", out["cold_start_ms"], "≤ 100", lambda v: v <= 100, "ms")
    target(f"cold start with {out['fill_jobs']:,} jobs stored", out["cold_start_1m_ms"], "≤ 100", lambda v: v <= 100, "ms")
    target(f"peak RSS (VmHWM) with {out['fill_jobs']:,} jobs stored", out["rss_1m_hwm_mb"], "≤ 150",
           lambda v: v <= 150, "MB")
    return out


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def markdown(report):
    s = report["summary"]
    m = report["machine"]
    lines = [f"# ojs-edge benchmark results, {report['date']}", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, kernel {m['kernel']}; "
             f"{m['swift']}; SQLite {(m['sqlite'] or '').split(' ')[0]}; {m['beanstalkd']}. "
             f"Command: `{report['command']}`. Medians of {report['config']['runs']} run(s); "
             f"each window {report['config']['duration']} s after {report['config']['warmup']} s warm-up. "
             "Ratios are to the static route's requests/s in the same run."
             + (f" One 4 KiB write + fsync on the data disk: p50 {s['fsync_ms']['p50_ms']} ms, "
                f"p99 {s['fsync_ms']['p99_ms']} ms, max {s['fsync_ms']['max_ms']} ms." if s.get("fsync_ms") else ""), ""]
    head = ("| scenario | conns | jobs/s | req/s | ratio to ceiling | p50 ms | p99 ms | p99.9 ms "
            "| server cores | server CPU µs/job | client cores | writer batch | commit ms | writer busy | errors |")
    sep = "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"

    def row(label, x):
        return (f"| {label} | {x['connections']} | {fmt(x['jobs_per_s'])} | {fmt(x['requests_per_s'])} "
                f"| {fmt(x['ratio_to_static_ceiling'], 3)} | {fmt(x['p50_ms'], 2)} | {fmt(x['p99_ms'], 2)} "
                f"| {fmt(x['p99_9_ms'], 2)} | {fmt(x['server_cores'], 2)} | {fmt(x['server_cpu_us_per_job'], 1)} "
                f"| {fmt(x['client_cores'], 2)} | {fmt(x['writer_mean_batch'], 1)} | {fmt(x['writer_mean_commit_ms'], 2)} "
                f"| {fmt(x['writer_busy'], 2)} "
                f"| {x['errors']} |")

    if s.get("goals"):
        lines += ["## Goals (issue 20): same-run ratios", "",
                  "Each ratio is taken within one run, then the median across runs.", "",
                  "| goal | numerator (median) | denominator (median) | ratio | per run | needed | met |",
                  "|---|---:|---:|---:|---|---:|---|"]
        for g in s["goals"]:
            met = "–" if g["met"] is None else ("met" if g["met"] else "**not met**")
            lines.append(f"| {g['goal']} | {fmt(g['numerator_median'])} | {fmt(g['denominator_median'])} "
                         f"| {fmt(g['ratio'], 3)} | {', '.join(fmt(v, 3) for v in g['per_run']) or '–'} "
                         f"| ≥ {g['threshold']:.2f} | {met} |")
        lines.append("")
    if s.get("ceiling_hummingbird"):
        lines += ["## Ceiling: bare Hummingbird route (`benchmarks/hello`, GET /)", "", head, sep,
                  row("hello-ceiling GET / (no store, no middleware)", s["ceiling_hummingbird"]), ""]
    for mode, rows in s["modes"].items():
        lines += [f"## ojs-edge, synchronous={mode}", "", head, sep]
        lines += [row(label, rows[key]) for key, label in ROWS if key in rows]
        raw = rows.get("raw_sqlite_batch_1000")
        lines += [""]
        if raw:
            lines += [f"Raw SQLite (`benchmarks/raw_sqlite_insert.py`, one connection, its own CPU under server "
                      f"cores): jobs/s and req/s (transactions) count only the time between BEGIN and COMMIT; over the "
                      f"whole window, with the rows built in Python in between ({fmt(raw['prep_share'], 3)} of it), "
                      f"{fmt(raw['wall_jobs_per_s'])} jobs/s.", ""]
        if "replication_lag" in rows:
            lag = rows["replication_lag"]
            lines += [f"Replication: {fmt(lag['transactions_per_s'])} transactions/s on the primary while "
                      f"pushing {fmt(lag['jobs_per_s'])} jobs/s; replica apply lag p50 {lag['apply_lag_p50_ms']} ms, "
                      f"p99 {lag['apply_lag_p99_ms']} ms, max {lag['apply_lag_max_ms']} ms. "
                      f"Single push is {fmt(rows['push'].get('ratio_to_health_ceiling'), 3)} of the health route.", ""]
    p = s["peer"]
    if p:
        lines += ["## Peer: beanstalkd 1.12, binlog on", "", head, sep]
        lines += [row(label, p[key]) for key, label in PEER_ROWS if key in p]
    first = next(iter(s["modes"]))
    o = s["modes"][first]

    def ratio(a, b):
        return fmt(a / b, 2) if a and b else "–"

    def jobs(rows, key):
        return rows[key]["jobs_per_s"] if key in rows else None
    if "beanstalk_put_fsync_always" in p and "cycle_10" in o:
        lines += ["", f"ojs-edge ({first}) ÷ beanstalkd (-f0): push {ratio(jobs(o, 'push'), jobs(p, 'beanstalk_put_fsync_always'))}×, "
                      f"full cycle 1 job/request {ratio(jobs(o, 'cycle_1'), jobs(p, 'beanstalk_cycle_fsync_always'))}×, "
                      f"cycle with fetch count 10 {ratio(jobs(o, 'cycle_10'), jobs(p, 'beanstalk_cycle_fsync_always'))}×."]
        if "NORMAL" in s["modes"]:
            n = s["modes"]["NORMAL"]
            lines += [f"ojs-edge (NORMAL) ÷ beanstalkd (-f50): push {ratio(jobs(n, 'push'), jobs(p, 'beanstalk_put_fsync_50ms'))}×, "
                      f"full cycle 1 job/request {ratio(jobs(n, 'cycle_1'), jobs(p, 'beanstalk_cycle_fsync_50ms'))}×."]
    if "cold_start_ms" in s:
        lines += ["", f"Cold start: {s['cold_start_ms']} ms to the first healthy response (empty data dir); "
                      f"{s['cold_start_1m_ms']} ms with {s['fill_jobs']:,} jobs stored. With {s['fill_jobs']:,} jobs: "
                      f"peak RSS {s['rss_1m_hwm_mb']} MB, RSS at the end {s['rss_1m_current_mb']} MB "
                      f"({s['rss_1m_anon_mb']} MB anonymous, {s['rss_1m_file_mb']} MB file-backed), "
                      f"database {s['db_1m_mb']} MB (filled once per suite at {fmt(s['fill_jobs_per_s'])} jobs/s)."]
    if s["targets"]:
        lines += ["", "## Targets", "", "| target | measured | goal | met |", "|---|---:|---|---|"]
        for t in s["targets"]:
            met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
            v = t["measured"]
            lines.append(f"| {t['target']} | {fmt(v, 3) if isinstance(v, float) and v < 10 else fmt(v, 1)} {t['unit']} "
                         f"| {t['goal']} {t['unit']} | {met} |")
    return "\n".join(lines) + "\n"
