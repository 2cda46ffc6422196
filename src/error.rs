//! One error type for the whole tool: what failed, where, what to do, and the exit code.

use std::fmt;
use std::path::Path;

/// The exit codes of DESIGN.md section 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// The tool could not do what was asked (exit 1).
    Failure,
    /// The command line was wrong (exit 2).
    Usage,
    /// A check ran and said no: validation failed, drift found (exit 3).
    Verdict,
}

impl ExitKind {
    /// The process exit code for this kind.
    pub fn code(self) -> u8 {
        match self {
            ExitKind::Failure => 1,
            ExitKind::Usage => 2,
            ExitKind::Verdict => 3,
        }
    }
}

/// An error a person can act on: a one-line cause (with its location inside when there is
/// one) and, where we know it, the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Which exit code the error maps to.
    pub kind: ExitKind,
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
            kind: ExitKind::Failure,
            message: message.into(),
            hint: None,
        }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: ExitKind::Usage,
            ..Error::new(message)
        }
    }

    /// A negative verdict (exit 3).
    pub fn verdict(message: impl Into<String>) -> Self {
        Error {
            kind: ExitKind::Verdict,
            ..Error::new(message)
        }
    }

    /// Adds what the user should do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// An I/O failure on `path`, worded for a person.
    pub fn io(action: &str, path: &Path, err: std::io::Error) -> Self {
        Error::new(format!("cannot {action} {}: {err}", path.display()))
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
