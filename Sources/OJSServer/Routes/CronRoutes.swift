import Hummingbird
import OJSCore
import OJSStore

extension OJSAPI {
    func addCronRoutes(_ router: Router<Context>) {
        router.get("/ojs/v1/cron") { _, _ in
            let crons = try await store.crons().map(Self.cronJSON)
            let total = JSONValue.int(Int64(crons.count))
            return JSONResponse.value(
                .ok,
                [
                    "crons": .array(crons), "cron_jobs": .array(crons),
                    "pagination": ["total": total, "page": 1, "per_page": total],
                ]
            )
        }
        router.post("/ojs/v1/cron") { request, _ in
            let body = try await JSONBody.object(request, limit: config.maxBodyBytes)
            let cron = Self.cronJSON(try await store.registerCron(try CronDefinition.parse(body, now: store.clock(), limits: config.limits)))
            return JSONResponse.value(.created, ["cron": cron, "cron_job": cron])
        }
        router.delete("/ojs/v1/cron/:name") { _, context in
            let name = try Self.parameter(context, "name")
            let cron = try await store.deleteCron(name: name)
            return JSONResponse.value(.ok, ["cron": Self.cronJSON(cron), "deleted": true, "name": .string(name)])
        }
    }

    /// `POST /ojs/v1/admin/cron/{name}/enable|disable`: the console's switch for an entry.
    func addAdminCronRoutes(_ router: Router<Context>) {
        for (action, enabled) in [("enable", true), ("disable", false)] {
            router.post("/ojs/v1/admin/cron/:name/\(action)") { _, context in
                let cron = try await store.setCronEnabled(name: try Self.parameter(context, "name"), enabled: enabled)
                return JSONResponse.value(.ok, ["cron": Self.cronJSON(cron)])
            }
        }
    }

    static func cronJSON(_ c: CronSnapshot) -> JSONValue {
        var o: JSONObject = [
            "name": .string(c.name), "expression": .string(c.expression), "timezone": .string(c.timezone),
            "overlap_policy": .string(c.overlapPolicy), "enabled": .bool(c.enabled),
            "job_template": (try? JSONParser.parse(c.jobTemplate)) ?? .null, "run_count": .int(c.runCount),
            "created_at": .string(Timestamp.format(millis: c.createdAt)), "updated_at": .string(Timestamp.format(millis: c.updatedAt)),
        ]
        o["description"] = c.description.map { .string($0) } ?? .null
        o["next_run_at"] = c.nextRunAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        o["last_run_at"] = c.lastRunAt.map { .string(Timestamp.format(millis: $0)) } ?? .null
        return .object(o)
    }
}
