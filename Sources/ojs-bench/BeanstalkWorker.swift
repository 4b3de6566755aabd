/// Drives beanstalkd through its own text protocol over one connection: the peer in the
/// same run. Each connection uses its own tube, as each OJS cycle connection uses its own
/// queue, so a reserve gets the job this connection just put.
final class BeanstalkWorker: LoadWorker {
    enum Mode: String { case put, cycle }

    let mode: Mode
    let index: Int
    let port: Int
    private var socket: Socket!
    private var put: [UInt8] = []

    init(mode: Mode, index: Int, port: Int, payloadBytes: Int) {
        self.mode = mode
        self.index = index
        self.port = port
        // The same bytes an OJS push carries, so both servers store the same payload.
        let data = #"{"type":"bench.job","queue":"tube-\#(index)","args":[\#(index),"\#(String(repeating: "x", count: payloadBytes))"]}"#
        put = Array("put 1024 0 60 \(data.utf8.count)\r\n\(data)\r\n".utf8)
    }

    func setup() throws {
        socket = try Socket(port: port)
        let tube = "tube-\(index)"
        _ = try command(Array("use \(tube)\r\n".utf8), expect: "USING")
        _ = try command(Array("watch \(tube)\r\n".utf8), expect: "WATCHING")
        _ = try command(Array("ignore default\r\n".utf8), expect: "WATCHING")
    }

    func operation(_ r: inout Recorder) throws {
        let inserted = try r.timed { try command(put, expect: "INSERTED") }
        r.status(200)
        guard mode == .cycle else {
            r.completed(jobs: 1)
            return
        }
        _ = inserted
        let reserved = try r.timed { try reserve() }
        r.status(200)
        _ = try r.timed { try command(Array("delete \(reserved)\r\n".utf8), expect: "DELETED") }
        r.status(200)
        r.completed(jobs: 1)
    }

    /// Sends a command and returns the reply line's first argument (an id, for INSERTED).
    private func command(_ bytes: [UInt8], expect: String) throws -> String {
        try socket.write(bytes)
        let words = try replyLine()
        guard words.first == expect else {
            throw Socket.Failure(description: "beanstalkd answered \(words.joined(separator: " ")) instead of \(expect)")
        }
        return words.count > 1 ? words[1] : ""
    }

    /// `reserve-with-timeout` so a lost job cannot hang the run; returns the job id.
    private func reserve() throws -> String {
        try socket.write(Array("reserve-with-timeout 5\r\n".utf8))
        let words = try replyLine()
        guard words.first == "RESERVED", words.count == 3, let size = Int(words[2]) else {
            throw Socket.Failure(description: "beanstalkd answered \(words.joined(separator: " ")) to reserve")
        }
        try socket.need(size + 2)
        socket.start += size + 2
        return words[1]
    }

    private func replyLine() throws -> [String] {
        let end = try socket.lineEnd(from: socket.start)
        let line = String(decoding: socket.buffer[socket.start..<(end - 2)], as: UTF8.self)
        socket.start = end
        return line.split(separator: " ").map(String.init)
    }
}
