//! Whether the process that left a file behind is still running. Temporary files and
//! staging folders carry their writer's process id in their names so that the next command
//! can tell a live writer's work from a dead one's.

use std::path::Path;

/// Whether a process with this id is running. This process counts as running. On a system
/// without `/proc` every process counts as running, so nothing of a live writer is removed.
pub fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    pid == std::process::id() || !proc.is_dir() || proc.join(pid.to_string()).exists()
}
