import HTTPTypes
import NIOHTTP1
import OJSCore
import Tracing

/// Trace context in and out of the carriers it travels in: incoming request headers, the
/// forwarder's outgoing headers, and the `[String: String]` a job's meta stores.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}

struct DictionaryCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

enum TraceContext {
    /// `context` as W3C fields, through the bootstrapped propagator.
    static func fields(of context: ServiceContext) -> [String: String] {
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryCarrier())
        return carrier
    }

    /// The client's own `traceparent`/`tracestate` headers, verbatim: what a job stores when
    /// tracing is off, so workers still join the producer's trace at no cost to the server.
    static func headers(of request: HTTPFields) -> [String: String] {
        var carrier: [String: String] = [:]
        if let parent = request[.traceparent] {
            carrier[TraceContextMeta.traceparent] = parent
            if let state = request[.tracestate] { carrier[TraceContextMeta.tracestate] = state }
        }
        return carrier
    }

    /// A job's stored context as a parent for its lifecycle spans.
    static func parent(of job: JobSnapshot) -> ServiceContext {
        var context = ServiceContext.topLevel
        let fields = TraceContextMeta.read(job.parsedDocument()["meta"]?.objectValue)
        if !fields.isEmpty { InstrumentationSystem.instrument.extract(fields, into: &context, using: DictionaryCarrier()) }
        return context
    }
}
