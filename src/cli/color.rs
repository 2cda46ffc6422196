//! `--color`: when output is coloured, from the flag and the usual variables.

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorWhen {
    Auto,
    Always,
    Never,
}

impl ColorWhen {
    /// Whether a stream that `is_terminal` gets colours: the flag first, then NO_COLOR
    /// (no-color.org), CLICOLOR_FORCE and CLICOLOR (bixense.com/clicolors) and TERM=dumb, as
    /// clap's own colouring weighs them.
    pub(crate) fn colors(self, is_terminal: bool) -> bool {
        let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set("NO_COLOR").is_some() => false,
            ColorWhen::Auto if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") => true,
            ColorWhen::Auto if set("CLICOLOR").is_some_and(|v| v == "0") => false,
            ColorWhen::Auto if set("TERM").is_some_and(|v| v == "dumb") => false,
            ColorWhen::Auto => is_terminal,
        }
    }

    /// The flag as typed, before clap parses (its own errors and help are coloured by it).
    pub(crate) fn typed() -> ColorWhen {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let mut value = None;
        for (i, arg) in args.iter().enumerate() {
            if arg == "--" {
                break;
            }
            if let Some(v) = arg.strip_prefix("--color=") {
                value = Some(v.to_string());
            } else if arg == "--color" {
                value = args.get(i + 1).cloned();
            }
        }
        match value.as_deref() {
            Some("always") => ColorWhen::Always,
            Some("never") => ColorWhen::Never,
            _ => ColorWhen::Auto,
        }
    }
}
