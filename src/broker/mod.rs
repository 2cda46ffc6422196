//! Broker push (DESIGN.md section 9): the log is the outbox. Each target has a cursor; a
//! push sends the events after it in log order and moves it only once the broker has
//! acknowledged them. At-least-once: the event id is the message id, so brokers that
//! de-duplicate drop re-sends.

pub mod amqp;
pub mod http;
pub mod push;
pub mod retry;
pub mod servicebus;
pub mod target;

pub use target::Target;
