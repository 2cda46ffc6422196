//! `factory` keeps a local store of project templates, runs them through a lifecycle
//! (register, version, validate, publish), and records every action as an event in a
//! canonical envelope. See `docs/` for the user guide and `../shared/DESIGN.md` for the design.

pub mod app;
pub mod bounded;
pub mod broker;
pub mod cli;
pub mod clock;
pub mod compat;
pub mod contracts;
pub mod domain;
pub mod error;
pub mod events;
pub mod fuzzing;
pub mod generate;
pub mod git;
pub mod hash;
pub mod http;
pub mod ids;
pub mod library;
pub mod process;
pub mod prompt;
pub mod queue;
pub mod registry;
pub mod render;
pub mod runtime;
pub mod secrets;
pub mod source;
pub mod store;
pub mod suggest;
pub mod template;
pub mod transaction;
pub mod tree;
pub mod upgrade;
pub mod validate;

pub use error::{Error, Result};
