/// One connection's loop body, for any protocol the runner drives.
protocol LoadWorker: AnyObject {
    /// Connects and prepares (for example pushes the jobs a status run reads).
    func setup() throws
    /// Runs one operation (one or more request/response exchanges), recording each.
    func operation(_ r: inout Recorder) throws
}
