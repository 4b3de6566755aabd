#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The system's cryptographic random source, read 4 KiB at a time (in 256-byte `getentropy` calls). `SystemRandomNumberGenerator`
/// makes a `getrandom` call for every 8 bytes, and the writer draws two per job id: under
/// load that was ~3 % of the writer thread's time in the syscall alone. Ids stay as
/// unpredictable as before; only the number of kernel calls changes (32 times fewer). One thread only.
public struct BufferedSystemRandom: RandomNumberGenerator, Sendable {
    private var buffer = [UInt64](repeating: 0, count: 512)
    private var index = 512

    public init() {}

    public mutating func next() -> UInt64 {
        if index == buffer.count { refill() }
        defer { index += 1 }
        return buffer[index]
    }

    private mutating func refill() {
        let filled = buffer.withUnsafeMutableBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return false }
            // getentropy: the getrandom call without its flags, at most 256 bytes at a time.
            var done = 0
            while done < raw.count {
                let chunk = min(256, raw.count - done)
                if getentropy(base + done, chunk) == 0 {
                    done += chunk
                    continue
                }
                if errno == EINTR { continue }
                return false
            }
            return true
        }
        if !filled {
            // getrandom does not fail on Linux once the pool is initialized; should it, fall
            // back to the standard generator rather than hand out stale bytes.
            var system = SystemRandomNumberGenerator()
            for i in buffer.indices { buffer[i] = system.next() }
        }
        index = 0
    }
}
