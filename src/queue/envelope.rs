//! The command envelope: the event envelope's image for what is asked rather than what
//! happened (`commandId`, `commandType` in VerbNoun form, the same tenant, trace and
//! correlation fields, `issuedAt`, `payload`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// One command, as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "factory command envelope")]
pub struct CommandEnvelope {
    /// `cmd-` + a lower-case UUIDv7; a worker handles a command id once.
    #[schemars(regex(
        pattern = r"^cmd-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
    ))]
    pub command_id: String,
    /// VerbNoun, from the command catalog.
    #[schemars(regex(pattern = r"^[A-Z][A-Za-z0-9]+$"))]
    pub command_type: String,
    /// The tenant; always present.
    #[schemars(length(min = 1))]
    pub tenant_id: String,
    /// The project, or `null`.
    pub project_id: Option<String>,
    /// The module, or `null`.
    pub module_id: Option<String>,
    /// A W3C trace id: 32 lower-case hex digits.
    #[schemars(regex(pattern = r"^[0-9a-f]{32}$"))]
    pub trace_id: String,
    /// The sender's correlation id; the command's events carry it.
    #[schemars(length(min = 1))]
    pub correlation_id: String,
    /// What caused the command (an event or another command), or `null`.
    pub causation_id: Option<String>,
    /// RFC 3339, UTC, ending in `Z`.
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"))]
    pub issued_at: String,
    /// The command's own fields, camelCase.
    pub payload: Value,
}

impl CommandEnvelope {
    /// Parses a message body; what is wrong is said without repeating the body.
    pub fn parse(body: &[u8]) -> Result<CommandEnvelope> {
        let envelope: CommandEnvelope = serde_json::from_slice(body)
            .map_err(|e| Error::usage(format!("the message is not a command envelope: {e}")))?;
        let id_ok = envelope
            .command_id
            .strip_prefix("cmd-")
            .is_some_and(|rest| uuid::Uuid::parse_str(rest).is_ok());
        if !id_ok {
            return Err(Error::usage(format!(
                "commandId `{}` is not `cmd-` and a UUID",
                envelope.command_id
            )));
        }
        Ok(envelope)
    }

    /// The JSON bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an envelope serializes")
    }
}

/// The envelope's JSON Schema.
pub fn schema() -> Value {
    schemars::schema_for!(CommandEnvelope).to_value()
}
