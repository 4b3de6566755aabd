import AsyncHTTPClient
import NIOCore

extension ReplicaTailer {
    /// Acknowledges to the primary, after every applied batch, the newest transaction this
    /// copy holds durably (the applier fsyncs before it publishes `applied`), for as long as a
    /// stream that asked for acknowledgements is open. One acknowledgement is in flight at a
    /// time, on a kept-alive connection; batches applied meanwhile are covered by the next
    /// one, which names the newest txid. A failed acknowledgement is sent again after the
    /// stream's backoff, with whatever is newest by then.
    func acknowledgeForever(after txid: TxID, generation: String) async throws {
        var acknowledged = txid
        var failures = 0
        while true {
            guard await applied.wait(atLeast: Int64(acknowledged) + 1, timeout: .seconds(1)) else {
                try Task.checkCancellation()
                continue
            }
            let durable = TxID(max(0, applied.value))
            var r = request(ReplicationProtocol.Path.ack(region: configuration.region))
            r.method = .POST
            r.headers.add(name: "Content-Type", value: "application/json")
            r.body = .bytes(ByteBuffer(string: ReplicationProtocol.Ack(durableTxid: durable, generation: generation).json.jsonText))
            let started = ContinuousClock.now
            var accepted = false
            do {
                let response = try await client.execute(r, timeout: .milliseconds(Int64(configuration.ackTimeoutMs)))
                // Read to the end, so the connection goes back to the pool for the next one.
                _ = try await response.body.collect(upTo: 1 << 16)
                accepted = response.status.code == 200
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                accepted = false
            }
            try Task.checkCancellation()
            if accepted {
                let elapsed = ContinuousClock.now - started
                status.recordAckRoundTrip(micros: elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000)
                status.update { $0.acksSent += 1 }
                acknowledged = durable
                failures = 0
            } else {
                // A refusal (the stream this belongs to is gone, another history) ends the
                // stream by itself; anything else is retried.
                failures += 1
                try await Task.sleep(for: .milliseconds(configuration.backoff.delayMs(attempt: failures)))
            }
        }
    }
}
