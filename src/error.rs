//! One error type for the whole tool: what failed, where, what to do, and the exit code.

use std::fmt;
use std::path::Path;

/// What kind of failure an error is: it decides the exit code (DESIGN.md section 8) and
/// whether trying the same command again can help (the worker retries only those).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The tool could not do what was asked, for a reason that stays (exit 1).
    Failure,
    /// What was named is not there: a template, a version, a library (exit 1).
    NotFound,
    /// The store's state forbids it: already registered, not empty, not validated (exit 1).
    Conflict,
    /// Something outside did not answer or broke off: a network, a broker, a registry, a
    /// busy lock, a local disk (exit 1); trying again later may succeed.
    Unavailable,
    /// The request was wrong: the command line, a payload, a name (exit 2).
    Usage,
    /// A check ran and said no: validation failed, drift found (exit 3).
    Verdict,
}

impl ErrorKind {
    /// The process exit code for this kind.
    pub fn code(self) -> u8 {
        match self {
            ErrorKind::Failure
            | ErrorKind::NotFound
            | ErrorKind::Conflict
            | ErrorKind::Unavailable => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Verdict => 3,
        }
    }

    /// Whether the same request may succeed when tried again unchanged.
    pub fn is_transient(self) -> bool {
        self == ErrorKind::Unavailable
    }
}

/// An error a person can act on: a one-line cause (with its location inside when there is
/// one) and, where we know it, the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// What kind of failure: the exit code, and whether a retry can help.
    pub kind: ErrorKind,
    /// What failed, and where.
    pub message: String,
    /// What to do next.
    pub hint: Option<String>,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A failure (exit 1).
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Failure,
            message: message.into(),
            hint: None,
        }
    }

    /// An error of this kind.
    pub fn of(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            ..Error::new(message)
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error::of(ErrorKind::Usage, message)
    }

    /// A negative verdict (exit 3).
    pub fn verdict(message: impl Into<String>) -> Self {
        Error::of(ErrorKind::Verdict, message)
    }

    /// Something named is not there (exit 1, not worth a retry).
    pub fn not_found(message: impl Into<String>) -> Self {
        Error::of(ErrorKind::NotFound, message)
    }

    /// The state forbids it (exit 1, not worth a retry).
    pub fn conflict(message: impl Into<String>) -> Self {
        Error::of(ErrorKind::Conflict, message)
    }

    /// Something outside did not answer (exit 1; a retry may help).
    pub fn unavailable(message: impl Into<String>) -> Self {
        Error::of(ErrorKind::Unavailable, message)
    }

    /// The same error with another kind.
    pub fn kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// Whether trying again unchanged may succeed.
    pub fn is_transient(&self) -> bool {
        self.kind.is_transient()
    }

    /// Adds what the user should do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// An I/O failure on `path`, worded for a person.
    /// A missing file is the input's fault; anything else the disk's, which may pass.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied
            | std::io::ErrorKind::AlreadyExists
            | std::io::ErrorKind::InvalidInput
            | std::io::ErrorKind::InvalidData => ErrorKind::Failure,
            _ => ErrorKind::Unavailable,
        };
        Error::of(kind, format!("cannot {action} {}: {err}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
