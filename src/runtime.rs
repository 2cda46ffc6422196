//! The process's one async runtime, made the first time something needs it (a broker, a
//! registry, a feed); commands that never touch the network never start it. Blocking code
//! (a worker's handlers on their blocking threads too) runs async work on it with
//! [`block_on`]; code already running on it awaits instead.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::{Error, Result};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// The runtime, started on first use.
pub fn get() -> Result<&'static tokio::runtime::Runtime> {
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("factory-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    runtime
        .as_ref()
        .map_err(|e| Error::new(format!("cannot start the I/O runtime: {e}")))
}

/// Runs `work` to its end on the runtime.
pub fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    get()?.block_on(work)
}
