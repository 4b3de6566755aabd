import OJSCore

/// Workflow advancement, called whenever a job reaches a terminal state inside the writer's
/// transaction, so a chain's next step exists by the time the ack is answered.
enum Workflows {
    static func jobSettled(_ job: JobSnapshot, ctx: WriteContext) throws {
        guard job.workflowId != nil else { return }
    }
}
