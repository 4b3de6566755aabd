/// A value bound to a statement parameter.
public enum SQLValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }

    public init(_ v: Int64?) { self = v.map { .int($0) } ?? .null }
    public init(_ v: Int?) { self = v.map { .int(Int64($0)) } ?? .null }
    public init(_ v: String?) { self = v.map { .text($0) } ?? .null }
    public init(_ v: Bool) { self = .int(v ? 1 : 0) }
}
