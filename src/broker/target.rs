//! Push targets, parsed from `--to`, shown without credentials.

use crate::error::{Error, Result};
use crate::hash::sha256_hex;
use crate::http::redact_url;

/// Where events are pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// RabbitMQ over AMQP 0-9-1: `amqp://user:pass@host:port/vhost`.
    Amqp(String),
    /// Azure Service Bus; the connection string is in this environment variable.
    ServiceBus(String),
    /// A CloudEvents HTTP receiver.
    Http(String),
}

impl Target {
    /// Parses `--to`.
    pub fn parse(text: &str) -> Result<Target> {
        let text = text.trim();
        register_credentials(text);
        if text.starts_with("amqp://") || text.starts_with("amqps://") {
            Ok(Target::Amqp(text.to_string()))
        } else if let Some(env) = text.strip_prefix("servicebus:") {
            if env.is_empty() || !env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                // What was given may be the connection string itself: it is not repeated.
                return Err(Error::usage("`servicebus:…` takes the name of an environment variable, not a connection string")
                    .hint("for example --to servicebus:FACTORY_SERVICEBUS, with the connection string in that variable"));
            }
            Ok(Target::ServiceBus(env.to_string()))
        } else if text.starts_with("http://") || text.starts_with("https://") {
            Ok(Target::Http(text.to_string()))
        } else {
            Err(Error::usage(format!("`{}` is not a push target", redact_url(text)))
                .hint("targets are amqp://user:pass@host:port/vhost, servicebus:ENV_NAME, or an http(s):// CloudEvents endpoint"))
        }
    }

    /// The target as it may be shown: passwords and query strings hidden.
    pub fn display(&self) -> String {
        match self {
            Target::Amqp(url) | Target::Http(url) => redact_url(url),
            Target::ServiceBus(env) => format!("servicebus:{env}"),
        }
    }

    /// A stable file name for the target's cursor, the same whatever its credentials.
    pub fn cursor_id(&self) -> String {
        let (kind, key) = match self {
            Target::Amqp(url) => ("amqp", strip_credentials(url)),
            Target::ServiceBus(env) => ("servicebus", env.clone()),
            Target::Http(url) => ("http", strip_credentials(url)),
        };
        let readable: String = key
            .split("://")
            .last()
            .unwrap_or(&key)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .take(48)
            .collect();
        format!("{kind}-{readable}-{}", &sha256_hex(key.as_bytes())[..12])
    }
}

/// A password in a URL and a key in a connection string are secrets wherever they turn up.
pub fn register_credentials(text: &str) {
    crate::http::register_password(text);
    super::servicebus::register_key(text);
}

/// The URL without its user info and query string.
fn strip_credentials(url: &str) -> String {
    crate::http::without_userinfo(url.split(['?', '#']).next().unwrap_or(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_and_never_show_secrets() {
        let t = Target::parse("amqp://factory:s3cret@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(t.display(), "amqp://factory:***@127.0.0.1:5672/%2f");
        assert!(!t.cursor_id().contains("s3cret"));
        let same = Target::parse("amqp://factory:other@127.0.0.1:5672/%2f").unwrap();
        assert_eq!(
            t.cursor_id(),
            same.cursor_id(),
            "the cursor survives a password change"
        );
        let h = Target::parse("https://hooks.example.com/ce?code=abc").unwrap();
        assert_eq!(h.display(), "https://hooks.example.com/ce?***");
        assert_eq!(
            Target::parse("servicebus:SB_CONN").unwrap(),
            Target::ServiceBus("SB_CONN".into())
        );
        assert!(Target::parse("servicebus:").is_err());
        let err = Target::parse("kafka://user:pw@host").unwrap_err();
        assert!(!err.message.contains("pw"), "{}", err.message);
    }
}
