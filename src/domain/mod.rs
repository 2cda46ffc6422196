//! The domain: event payloads, aggregate state, `apply`, and the pure command handlers that
//! decide which events a command produces. Nothing here prints or touches the disk.

pub mod commands;
pub mod events;
pub mod library;
pub mod names;
pub mod reference;
pub mod state;

pub use events::DomainEvent;
pub use reference::Reference;
pub use state::State;
