//! Rendering with minijinja: one environment per run, strict about undefined values,
//! bounded by fuel, auto-escaping off, trailing newlines kept; file and folder names are
//! templates too, and output never leaves its target.

pub mod ansible;
pub mod copier_data;
pub mod datetime;
pub mod filters;
pub mod gitignore;
pub mod jinja2;
pub mod paths;
pub mod pyformat;
pub mod pymethods;
pub mod slugify;
pub mod stdlib;
pub mod tree;
pub mod write;

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

/// The fuel one render may burn: generous for real templates (millions of instructions),
/// finite for runaway loops. minijinja charges a fuel per instruction and a 64th of one per
/// byte a value grows by, so this also bounds what a value doubled in a loop can reach
/// (512 MB) before the output bound below refuses to write it.
pub const FUEL: u64 = 8_000_000;

pub use crate::bounded::{MAX_RENDERED_BYTES, render_bounded, render_str_bounded};

/// What rendering takes from outside the template, resolved once by the caller: the pinned
/// clock (`FACTORY_NOW`) and the seed that makes `uuid4()` repeatable (`FACTORY_UUID_SEED`).
/// Environments made from one `Settings` share one uuid sequence.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The instant `now()` and `{% now %}` give; the real clock when `None`.
    pub now: Option<time::OffsetDateTime>,
    /// The seed of a repeatable `uuid4()` sequence; random uuids when `None`.
    pub uuid_seed: Option<String>,
    /// The machine's offset from UTC, for `{% now 'local' %}` (UTC unless the caller says).
    pub local_offset: time::UtcOffset,
    /// The template's Python extensions, when the caller started them (`--trust`).
    pub foreign: Option<std::sync::Arc<dyn Foreign>>,
    uuid_counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The deprecated builtins a template called (copier's `now()`, `make_secret()`), for
    /// the caller to warn about once each: rendering itself prints nothing.
    deprecated: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<&'static str>>>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::new(None, None)
    }
}

impl Settings {
    /// Settings with a pinned clock and uuid seed (either may be absent).
    pub fn new(now: Option<time::OffsetDateTime>, uuid_seed: Option<String>) -> Settings {
        Settings {
            now,
            uuid_seed,
            local_offset: time::UtcOffset::UTC,
            foreign: None,
            uuid_counter: Default::default(),
            deprecated: Default::default(),
        }
    }

    /// The same settings with the machine's offset from UTC for `{% now 'local' %}`.
    pub fn with_local_offset(self, local_offset: time::UtcOffset) -> Settings {
        Settings {
            local_offset,
            ..self
        }
    }

    /// The next `uuid4()`: from the seeded sequence, or random.
    pub fn next_uuid(&self) -> String {
        match &self.uuid_seed {
            Some(seed) => {
                let n = self
                    .uuid_counter
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let digest = crate::hash::sha256_hex(format!("{seed}:{n}").as_bytes());
                let mut bytes = [0u8; 16];
                hex::decode_to_slice(&digest[..32], &mut bytes).expect("hex digits");
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string()
            }
            None => uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The instant `now()` gives.
    pub fn now(&self) -> time::OffsetDateTime {
        self.now.unwrap_or_else(time::OffsetDateTime::now_utc)
    }

    /// Notes that a template called the deprecated builtin `name`.
    pub fn used_deprecated(&self, name: &'static str) {
        if let Ok(mut used) = self.deprecated.lock() {
            used.insert(name);
        }
    }

    /// The deprecated builtins called since the last time this was asked (by any clone of
    /// these settings), in name order; drained.
    pub fn take_deprecated(&self) -> Vec<&'static str> {
        self.deprecated
            .lock()
            .map(|mut used| std::mem::take(&mut *used).into_iter().collect())
            .unwrap_or_default()
    }
}

/// The widest field or the longest precision `str.format` may ask for: a bound like fuel, so
/// `'{:>1000000000000}'.format(x)` is an error rather than an allocation that aborts.
pub const MAX_FORMAT_WIDTH: u64 = 10_000;

/// An indent or width a filter was given, refused over [`MAX_FORMAT_WIDTH`] like
/// `str.format`'s: `tojson(indent=999999999)` would otherwise ask for gigabytes of spaces
/// at every nesting level and abort the process.
pub(crate) fn bounded_width(what: &str, n: usize) -> Result<usize, minijinja::Error> {
    if n as u64 > MAX_FORMAT_WIDTH {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            format!("{what} {n} is over the limit of {MAX_FORMAT_WIDTH}"),
        ));
    }
    Ok(n)
}

/// The first width or precision over [`MAX_FORMAT_WIDTH`] in a `str.format` string, if any.
fn oversized_width(spec: &str) -> Option<u64> {
    let mut rest = spec;
    while let Some(open) = rest.find('{') {
        let field = &rest[open + 1..];
        let close = field.find('}')?;
        if let Some((_, format)) = field[..close].split_once(':') {
            let mut digits = String::new();
            for c in format.chars().chain(std::iter::once(' ')) {
                if c.is_ascii_digit() {
                    digits.push(c);
                } else if !digits.is_empty() {
                    let n = digits.parse::<u64>().unwrap_or(u64::MAX);
                    if n > MAX_FORMAT_WIDTH {
                        return Some(n);
                    }
                    digits.clear();
                }
            }
        }
        rest = &field[close + 1..];
    }
    None
}

/// A fresh environment with factory's settings and filters, and no templates yet.
pub fn environment(settings: &Settings) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .keep_trailing_newline(true)
            .build()
            .expect("the default delimiters are valid"),
    );
    env.set_auto_escape_callback(|_| AutoEscape::None);
    env.set_fuel(Some(FUEL));
    env.set_unknown_method_callback(|state, value, method, args| {
        if method == "format"
            && let Some(spec) = value.as_str()
            && let Some(width) = oversized_width(spec)
        {
            return Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                format!(
                    "format width or precision {width} is over the limit of {MAX_FORMAT_WIDTH}"
                ),
            ));
        }
        if let Some(result) = pymethods::call(value, method, args) {
            return result;
        }
        minijinja_contrib::pycompat::unknown_method_callback(state, value, method, args)
    });
    // Jinja2's filters and globals that minijinja keeps in its contrib crate; `now` and
    // the rest of ours are added after, so they win.
    minijinja_contrib::add_to_environment(&mut env);
    stdlib::register(&mut env);
    filters::register(&mut env, settings);
    jinja2::register(&mut env, settings);
    ansible::register(&mut env);
    datetime::register(&mut env, settings);
    if let Some(foreign) = &settings.foreign {
        register_foreign(&mut env, foreign);
    }
    env
}

/// An environment with a template's own options (copier's `_envops`) applied.
pub fn environment_with(
    settings: &Settings,
    options: &serde_json::Map<String, serde_json::Value>,
) -> Result<Environment<'static>, String> {
    let mut env = environment(settings);
    if options.is_empty() {
        return Ok(env);
    }
    let flag = |key: &str, default: bool| {
        options
            .get(key)
            .and_then(|v| v.as_bool())
            .unwrap_or(default)
    };
    let text = |key: &str, default: &str| {
        options
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or(default)
            .to_string()
    };
    // Jinja2's default Undefined (copier's unless `_envops` says StrictUndefined) prints as
    // nothing and is false; factory's own templates and cookiecutter's stay strict.
    if let Some(undefined) = options.get("undefined").and_then(|v| v.as_str())
        && !undefined.contains("StrictUndefined")
    {
        env.set_undefined_behavior(UndefinedBehavior::Lenient);
    }
    check_options(options)?;
    let mut builder = minijinja::syntax::SyntaxConfig::builder();
    if let Some(prefix) = options
        .get("line_statement_prefix")
        .and_then(|v| v.as_str())
    {
        builder.line_statement_prefix(prefix.to_string());
    }
    if let Some(prefix) = options.get("line_comment_prefix").and_then(|v| v.as_str()) {
        builder.line_comment_prefix(prefix.to_string());
    }
    builder
        .keep_trailing_newline(flag("keep_trailing_newline", true))
        .trim_blocks(flag("trim_blocks", false))
        .lstrip_blocks(flag("lstrip_blocks", false))
        .block_delimiters(
            text("block_start_string", "{%"),
            text("block_end_string", "%}"),
        )
        .variable_delimiters(
            text("variable_start_string", "{{"),
            text("variable_end_string", "}}"),
        )
        .comment_delimiters(
            text("comment_start_string", "{#"),
            text("comment_end_string", "#}"),
        );
    env.set_syntax(builder.build().map_err(|e| format!("_envops: {e}"))?);
    Ok(env)
}

/// The environment a template renders in: its own options (copier's `_envops`) applied,
/// and for a copier template copier's builtins `now()` and `make_secret()`.
pub fn environment_for(
    settings: &Settings,
    manifest: &crate::template::manifest::Manifest,
) -> Result<Environment<'static>, String> {
    let mut env = environment_with(settings, &manifest.envops)?;
    if manifest.flavour() == crate::template::manifest::Flavour::Copier {
        copier_data::register(&mut env, settings);
    }
    Ok(env)
}

/// Jinja2 environment options that change nothing a template writes (caching, reloading).
const INERT_OPTIONS: [&str; 4] = ["optimized", "cache_size", "auto_reload", "bytecode_cache"];

/// Refuses the Jinja2 environment options (copier's `_envops`, cookiecutter's
/// `_jinja2_env_vars`) factory cannot honour, rather than render other text: each is named.
fn check_options(options: &serde_json::Map<String, serde_json::Value>) -> Result<(), String> {
    const HONOURED: [&str; 12] = [
        "undefined",
        "keep_trailing_newline",
        "trim_blocks",
        "lstrip_blocks",
        "block_start_string",
        "block_end_string",
        "variable_start_string",
        "variable_end_string",
        "comment_start_string",
        "comment_end_string",
        "line_statement_prefix",
        "line_comment_prefix",
    ];
    // copier accepts these two Undefined classes only, and says so.
    if let Some(undefined) = options.get("undefined")
        && !matches!(
            undefined.as_str(),
            Some("jinja2.Undefined" | "jinja2.StrictUndefined")
        )
    {
        let shown = undefined
            .as_str()
            .map_or(undefined.to_string(), str::to_string);
        return Err(format!(
            "Unsupported envops.undefined value specified: {shown}. (`undefined` may be jinja2.Undefined or jinja2.StrictUndefined, as in copier)"
        ));
    }
    for (key, value) in options {
        let fine = match key.as_str() {
            k if HONOURED.contains(&k) || INERT_OPTIONS.contains(&k) => true,
            // Jinja2's default, and the only newline its templates then write.
            "newline_sequence" => value.as_str() == Some("\n"),
            "autoescape" => value.as_bool() == Some(false),
            "enable_async" => value.as_bool() == Some(false),
            _ => false,
        };
        if !fine {
            return Err(format!(
                "the Jinja2 environment option `{key}: {value}` is not supported by factory (it supports {}, and `newline_sequence` only as \"\\n\")",
                HONOURED.join(", ")
            ));
        }
    }
    Ok(())
}

/// A template's text as Jinja2's lexer reads it: every `\r\n` and lone `\r` a `\n` (its
/// default `newline_sequence`), so a template saved with Windows line ends renders with
/// Unix ones, as copier and cookiecutter render it. Borrowed when there is no `\r`.
pub fn jinja2_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr(b'\r', text.as_bytes()).is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = memchr::memchr(b'\r', rest.as_bytes()) {
        out.push_str(&rest[..at]);
        out.push('\n');
        rest = &rest[at + 1..];
        if let Some(after) = rest.strip_prefix('\n') {
            rest = after;
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The newline cookiecutter writes a rendered file with: what Python's universal-newline
/// reader has seen after reading the source's first line (it decodes the first 8 KiB at
/// once), the first of `\r`, `\n`, `\r\n` in that order when it saw several, `\n` when it
/// saw none.
pub fn first_newline(source: &[u8]) -> &'static str {
    let chunk = &source[..source.len().min(8192)];
    let (mut cr, mut lf, mut crlf) = (false, false, false);
    let mut i = 0;
    while let Some(at) = memchr::memchr2(b'\r', b'\n', &chunk[i..]) {
        let at = i + at;
        if chunk[at] == b'\n' {
            lf = true;
        } else if at + 1 < chunk.len() {
            if chunk[at + 1] == b'\n' {
                crlf = true;
                i = at + 2;
                continue;
            }
            cr = true;
        } else if at + 1 == source.len() && !lf && !crlf {
            // A `\r` ending the chunk waits for the next byte in Python's decoder: it is
            // seen only when the first line runs to the end of the file.
            cr = true;
        }
        i = at + 1;
    }
    if cr {
        "\r"
    } else if lf {
        "\n"
    } else if crlf {
        "\r\n"
    } else {
        "\n"
    }
}

/// Where a template error is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// `file:line:col`, or the file alone.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Describes a minijinja error for a person: the file, line and column it points at (the
/// column worked out from the byte range in `source`), and what went wrong, quoting the
/// expression for undefined values.
pub fn describe_error(
    err: &minijinja::Error,
    fallback_name: &str,
    source_of: impl Fn(&str) -> Option<String>,
) -> TemplateError {
    let name = err.name().unwrap_or(fallback_name).to_string();
    let source = source_of(&name);
    let line = err.line();
    let column = match (err.range(), source.as_deref()) {
        (Some(range), Some(src)) if range.start <= src.len() => {
            let before = &src[..range.start];
            Some(before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1)
        }
        _ => None,
    };
    let snippet = match (err.range(), source.as_deref()) {
        (Some(range), Some(src)) if range.end <= src.len() => Some(src[range].trim().to_string()),
        _ => None,
    };
    let location = match (line, column) {
        (Some(l), Some(c)) => format!("{name}:{l}:{c}"),
        (Some(l), None) => format!("{name}:{l}"),
        _ => name,
    };
    let mut message = match err.kind() {
        minijinja::ErrorKind::UndefinedError => {
            return TemplateError {
                location,
                message: match &snippet {
                    Some(s) if !s.is_empty() => format!("undefined variable in `{s}`"),
                    _ => "undefined variable".to_string(),
                },
            };
        }
        minijinja::ErrorKind::OutOfFuel => {
            "the template ran too long (out of fuel): look for a runaway loop".to_string()
        }
        // The only writer rendering uses is the bounded one.
        minijinja::ErrorKind::WriteFailure => {
            return TemplateError {
                location,
                message: format!(
                    "the rendered output passed {} MB, the limit for one file: look for a runaway loop or a value that doubles",
                    MAX_RENDERED_BYTES / (1024 * 1024)
                ),
            };
        }
        kind => kind.to_string(),
    };
    if let Some(detail) = err.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    TemplateError { location, message }
}

/// Jinja extensions that live outside factory (a template's Python, run by a helper the
/// caller started with `--trust`): the names they add and a way to call them. Rendering
/// sees only this port.
pub trait Foreign: Send + Sync + std::fmt::Debug {
    /// What they add.
    fn names(&self) -> &ForeignNames;
    /// Calls a filter, test or function (`kind`) with JSON arguments.
    fn call(
        &self,
        kind: &str,
        name: &str,
        args: Vec<serde_json::Value>,
        kwargs: serde_json::Map<String, serde_json::Value>,
    ) -> Result<serde_json::Value, String>;
    /// Renders a whole template `source` (the file `name`) with `context` in the extensions'
    /// own Jinja2: for a file using a tag they add, which minijinja cannot parse.
    fn render(
        &self,
        name: &str,
        _source: &str,
        _context: serde_json::Value,
    ) -> Result<String, String> {
        Err(format!(
            "{name} uses a tag of a Python extension, which these extensions cannot render"
        ))
    }
}

/// The filters, tests, functions and plain values foreign extensions add.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ForeignNames {
    /// Filter names.
    #[serde(default)]
    pub filters: Vec<String>,
    /// Test names.
    #[serde(default)]
    pub tests: Vec<String>,
    /// Global function names.
    #[serde(default)]
    pub functions: Vec<String>,
    /// Global values.
    #[serde(default)]
    pub values: serde_json::Map<String, serde_json::Value>,
    /// Tags (`{% gitcommit %}`): a file using one is rendered by the extensions' Jinja2.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Adds proxies for what `foreign` provides (they win over factory's own of the same name,
/// as a template's extension does in Jinja2).
fn register_foreign(env: &mut Environment<'static>, foreign: &std::sync::Arc<dyn Foreign>) {
    use minijinja::value::{Kwargs, Rest};
    use std::sync::Arc;
    fn json(value: &minijinja::Value) -> serde_json::Value {
        if value.is_undefined() || value.is_none() {
            return serde_json::Value::Null;
        }
        serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
    }
    /// One call through the port: the positional values and the keyword arguments as JSON.
    fn call(
        foreign: &dyn Foreign,
        kind: &str,
        name: &str,
        args: &[minijinja::Value],
        kwargs: &Kwargs,
    ) -> Result<serde_json::Value, minijinja::Error> {
        let mut named = serde_json::Map::new();
        for key in kwargs.args() {
            if let Ok(value) = kwargs.get::<minijinja::Value>(key) {
                named.insert(key.to_string(), json(&value));
            }
        }
        let positional = args.iter().map(json).collect();
        foreign
            .call(kind, name, positional, named)
            .map_err(|message| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("{name} (a Python extension): {message}"),
                )
            })
    }
    let value_of = |v: serde_json::Value| minijinja::Value::from(minijinja::value::Serde(v));
    let names = foreign.names().clone();
    for name in names.filters {
        let (foreign, label) = (Arc::clone(foreign), name.clone());
        env.add_filter(
            name,
            move |value: minijinja::Value, rest: Rest<minijinja::Value>, kwargs: Kwargs| {
                let args: Vec<minijinja::Value> = std::iter::once(value).chain(rest.0).collect();
                call(&*foreign, "filter", &label, &args, &kwargs).map(value_of)
            },
        );
    }
    for name in names.tests {
        let (foreign, label) = (Arc::clone(foreign), name.clone());
        env.add_test(
            name,
            move |value: minijinja::Value, rest: Rest<minijinja::Value>, kwargs: Kwargs| {
                let args: Vec<minijinja::Value> = std::iter::once(value).chain(rest.0).collect();
                call(&*foreign, "test", &label, &args, &kwargs)
                    .map(|v| v.as_bool().unwrap_or(!v.is_null()))
            },
        );
    }
    for name in names.functions {
        let (foreign, label) = (Arc::clone(foreign), name.clone());
        env.add_function(name, move |rest: Rest<minijinja::Value>, kwargs: Kwargs| {
            call(&*foreign, "function", &label, &rest.0, &kwargs).map(value_of)
        });
    }
    for (name, value) in names.values {
        env.add_global(name, value_of(value));
    }
}
