//! The canonical event envelope (DESIGN.md section 3) and everything around it: ids, the
//! clock, routing to topics, the JSON Lines log, queries and JSON Schemas.

pub mod cloudevents;
pub mod context;
pub mod envelope;
pub mod log;
pub mod query;
pub mod routing;
pub mod schema;

pub use context::EventContext;
pub use envelope::Envelope;
