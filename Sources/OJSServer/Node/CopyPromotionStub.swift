import Foundation

// TEMPORARY until the relay branch lands (replaced by OJSReplication's promotion primitives).
enum CopyPromotion {
    static func promote(dataDirectory: URL, databaseName: String) throws {}
    static func demote(dataDirectory: URL, databaseName: String) throws {}
}
