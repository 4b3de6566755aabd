import OJSCore
import XCTest

@testable import OJSStore

final class WorkflowTests: StoreTestCase {
    func create(_ json: String) async throws -> WorkflowSnapshot {
        try await store.createWorkflow(try WorkflowDefinition.parse(try JSONParser.parse(json), now: clock.now))
    }

    func fetch(_ queue: String) async throws -> [JobSnapshot] { try await store.fetch(FetchRequest(queues: [queue], count: 10)) }

    func testChainEnqueuesNextStepInTheAckTransactionWithParentResults() async throws {
        let wf = try await create(
            #"{"type":"chain","steps":[{"type":"a","args":[],"options":{"queue":"c"}},{"type":"b","args":[],"options":{"queue":"c"}},{"type":"c","args":[],"options":{"queue":"c"}}]}"#
        )
        XCTAssertEqual(wf.state, "running")
        var step = try await fetch("c")
        XCTAssertEqual(step.map(\.type), ["a"], "only the first step exists")
        _ = try await store.ack(AckRequest(jobId: step[0].id, result: ["n": 1]))
        step = try await fetch("c")
        XCTAssertEqual(step.map(\.type), ["b"])
        XCTAssertEqual(step[0].parentResults, #"[{"n":1}]"#)
        _ = try await store.ack(AckRequest(jobId: step[0].id, result: 2))
        step = try await fetch("c")
        XCTAssertEqual(step[0].parentResults, #"[{"n":1},2]"#)
        _ = try await store.ack(AckRequest(jobId: step[0].id))
        let done = try await store.workflow(id: wf.id)
        XCTAssertEqual(done?.state, "completed")
        XCTAssertEqual(done?.completed, 3)
    }

    func testChainStopsAtAFailedStep() async throws {
        let wf = try await create(
            #"{"type":"chain","steps":[{"type":"a","args":[],"options":{"queue":"f","retry":{"max_attempts":1}}},{"type":"b","args":[],"options":{"queue":"f"}}]}"#
        )
        let first = try await fetch("f")
        _ = try await store.nack(NackRequest(jobId: first[0].id, failure: JobFailure(code: "x", message: "no")))
        let next = try await fetch("f")
        XCTAssertTrue(next.isEmpty)
        let failed = try await store.workflow(id: wf.id)
        XCTAssertEqual(failed?.state, "failed")
        XCTAssertEqual(failed?.steps.map(\.state), ["discarded", "cancelled"])
    }

    func testBatchFiresCallbacksExactlyOnceByOutcome() async throws {
        let wf = try await create(
            #"{"type":"batch","jobs":[{"type":"a","args":[],"options":{"queue":"bq"}},{"type":"b","args":[],"options":{"queue":"bq","retry":{"max_attempts":1}}}],"callbacks":{"on_success":{"type":"ok","args":[],"options":{"queue":"cb"}},"on_failure":{"type":"bad","args":[],"options":{"queue":"cb"}},"on_complete":{"type":"done","args":[],"options":{"queue":"cb"}}}}"#
        )
        let jobs = try await fetch("bq")
        XCTAssertEqual(jobs.count, 2)
        _ = try await store.ack(AckRequest(jobId: jobs[0].id, result: "r0"))
        let early = try await fetch("cb")
        XCTAssertTrue(early.isEmpty, "no callback before every job finished")
        _ = try await store.nack(NackRequest(jobId: jobs[1].id, failure: JobFailure(code: "x", message: "no")))
        let callbacks = try await fetch("cb")
        XCTAssertEqual(Set(callbacks.map(\.type)), ["bad", "done"])
        XCTAssertEqual(callbacks.first?.parentResults, #"["r0",null]"#)
        let final = try await store.workflow(id: wf.id)
        XCTAssertEqual(final?.state, "failed")
    }

    func testGraphRunsStepsWhenTheirDependenciesSucceed() async throws {
        _ = try await create(
            #"{"name":"etl","steps":[{"id":"extract","type":"e","args":[],"options":{"queue":"g"}},{"id":"left","type":"l","args":[],"depends_on":["extract"],"options":{"queue":"g"}},{"id":"right","type":"r","args":[],"depends_on":["extract"],"options":{"queue":"g"}},{"id":"join","type":"j","args":[],"depends_on":["left","right"],"options":{"queue":"g"}}]}"#
        )
        var ready = try await fetch("g")
        XCTAssertEqual(ready.map(\.type), ["e"])
        _ = try await store.ack(AckRequest(jobId: ready[0].id))
        ready = try await fetch("g")
        XCTAssertEqual(Set(ready.map(\.type)), ["l", "r"])
        _ = try await store.ack(AckRequest(jobId: ready[0].id))
        let notYet = try await fetch("g")
        XCTAssertTrue(notYet.isEmpty, "join waits for both branches")
        _ = try await store.ack(AckRequest(jobId: ready[1].id))
        ready = try await fetch("g")
        XCTAssertEqual(ready.map(\.type), ["j"])
    }

    func testCancelStopsEverything() async throws {
        let wf = try await create(
            #"{"type":"chain","steps":[{"type":"a","args":[],"options":{"queue":"x"}},{"type":"b","args":[],"options":{"queue":"x"}}]}"#
        )
        let cancelled = try await store.cancelWorkflow(id: wf.id)
        XCTAssertEqual(cancelled.state, "cancelled")
        let none = try await fetch("x")
        XCTAssertTrue(none.isEmpty)
        await assertOJSError(.conflict) { _ = try await self.store.cancelWorkflow(id: wf.id) }
    }

    func testInvalidWorkflowsAreRejectedWithTheIndex() {
        XCTAssertThrowsError(
            try WorkflowDefinition.parse(try JSONParser.parse(#"{"type":"group","jobs":[{"type":"a","args":[]},{"args":[]}]}"#), now: 0)
        ) { error in
            XCTAssertEqual((error as? OJSError)?.details["index"], 1)
        }
        XCTAssertThrowsError(try WorkflowDefinition.parse(try JSONParser.parse(#"{"type":"batch","jobs":[{"type":"a","args":[]}]}"#), now: 0))
        XCTAssertThrowsError(
            try WorkflowDefinition.parse(
                try JSONParser.parse(
                    #"{"steps":[{"id":"a","type":"a","args":[],"depends_on":["b"]},{"id":"b","type":"b","args":[],"depends_on":["a"]}]}"#
                ),
                now: 0
            )
        )
    }
}
