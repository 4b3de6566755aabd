import Foundation

/// A node started by `ojs-edge simulate` exits when the simulator is gone. The simulator stops
/// its nodes itself on exit, Ctrl-C and SIGTERM; this covers the case it cannot handle, a
/// SIGKILL of the simulator, which would otherwise leave a primary and replicas running.
enum ParentWatchdog {
    static let variable = "OJS_EXIT_WITH_PARENT"

    /// The variable holds the simulator's pid rather than a flag: a node whose parent dies
    /// before this runs would otherwise take its new parent for the simulator.
    static func startIfRequested() {
        guard let parent = Env.int(variable).map(pid_t.init) else { return }
        Thread.detachNewThread {
            while getppid() == parent { sleep(1) }
            // Reparented: the simulator died. Exit at once, as a crash would; the node's
            // durability does not depend on a clean exit.
            _exit(70)
        }
    }
}
