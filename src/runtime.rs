//! The process's one async runtime, made the first time something needs it (a broker, a
//! registry, a feed); commands that never touch the network never start it.

use std::future::Future;
use std::sync::OnceLock;

use crate::error::{Error, Result};

static RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();

/// Runs `work` to its end on the runtime. Callable from any thread that is not itself
/// running async code (the worker's handlers run on blocking threads, so they may).
pub fn block_on<T>(work: impl Future<Output = Result<T>>) -> Result<T> {
    let runtime = RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("factory-io")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    });
    match runtime {
        Ok(runtime) => runtime.block_on(work),
        Err(e) => Err(Error::new(format!("cannot start the I/O runtime: {e}"))),
    }
}
