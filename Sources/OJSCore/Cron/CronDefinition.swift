import Foundation

/// A validated `POST /ojs/v1/cron` body. Accepts the suite's form (`expression`,
/// `job_template`) and the SDKs' flat form (`cron` or `schedule`, with `type`, `args`,
/// `meta`, `options` at the top level).
public struct CronDefinition: Sendable {
    public enum OverlapPolicy: String, Sendable, Equatable {
        case skip, allow
        case cancelPrevious = "cancel_previous"
    }

    public var name: String
    public var expression: CronExpression
    public var timezone: String
    public var overlap: OverlapPolicy = .skip
    public var enabled = true
    public var description: String?
    /// `{type, args, meta?, options?}`, validated as a job at registration.
    public var template: JSONValue

    public static func parse(_ body: JSONValue, now: Int64, limits: RequestLimits = RequestLimits()) throws(OJSError) -> CronDefinition {
        guard let o = body.objectValue else { throw OJSError(.invalidRequest, "A cron entry must be a JSON object.") }
        guard let name = o["name"]?.stringValue, Names.isValidQueue(name, maxLength: 255) else {
            throw OJSError.invalid("Field 'name' is required and must match ^[a-z0-9][a-z0-9\\-\\.]*$ (at most 255 characters).", field: "name")
        }
        guard let exprText = (o["expression"] ?? o["cron"] ?? o["schedule"])?.stringValue else {
            throw OJSError.invalid("Field 'expression' is required: a cron expression such as \"*/5 * * * *\".", field: "expression")
        }
        let expression = try CronExpression.parse(exprText)
        var timezone = "UTC"
        if let tz = o["timezone"], !tz.isNull {
            guard let s = tz.stringValue, TimeZone(identifier: s) != nil else {
                throw OJSError.invalid("Unknown time zone \(tz.jsonText); use an IANA name such as America/New_York.", field: "timezone")
            }
            timezone = s
        }
        var template: JSONValue
        if let t = o["job_template"], !t.isNull {
            template = t
        } else {
            var flat = JSONObject()
            for key in ["type", "args", "meta", "options"] { if let v = o[key] { flat[key] = v } }
            if flat["args"] == nil { flat["args"] = .array([]) }
            template = .object(flat)
        }
        if var t = template.objectValue, t["args"] == nil {
            t["args"] = .array([])
            template = .object(t)
        }
        do { _ = try JobSpec.parse(template, now: now, limits: limits) } catch {
            throw OJSError(error.code, "job_template: " + error.message, details: error.details)
        }
        var def = CronDefinition(name: name, expression: expression, timezone: timezone, template: template)
        if let p = o["overlap_policy"], !p.isNull {
            switch p.stringValue {
            case "skip": def.overlap = .skip
            case "allow", "enqueue": def.overlap = .allow
            case "cancel_previous", "cancel", "replace": def.overlap = .cancelPrevious
            default: throw OJSError.invalid("Field 'overlap_policy' must be skip, allow or cancel_previous.", field: "overlap_policy")
            }
        }
        if let e = o["enabled"], !e.isNull {
            guard let b = e.boolValue else { throw OJSError.invalid("Field 'enabled' must be a boolean.", field: "enabled") }
            def.enabled = b
        }
        def.description = o["description"]?.stringValue
        return def
    }

    /// The job a firing enqueues: the template with `meta.cron_name` and `meta.cron_triggered_at`.
    public static func jobRequest(template: JSONValue, name: String, firedAt: Int64) -> JSONValue {
        guard var t = template.objectValue else { return template }
        var meta = t["meta"]?.objectValue ?? JSONObject()
        meta["cron_name"] = .string(name)
        meta["cron_triggered_at"] = .string(Timestamp.format(millis: firedAt))
        t["meta"] = .object(meta)
        return .object(t)
    }
}
