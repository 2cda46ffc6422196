//! `factory completions SHELL` and `factory man`: shell completions and the man page,
//! generated from the command-line definition (so they never drift from it), and that
//! definition built whole (`Cli::definition`).

use clap_complete::Shell;

use super::Cli;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::definition();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "factory", &mut out);
    out
}

/// The man page (roff).
pub fn man_page() -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::definition())
        .render(&mut out)
        .expect("rendering to memory cannot fail");
    out
}

/// The file name a shell's completion script is committed under in `completions/`.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "factory.bash",
        Shell::Zsh => "_factory",
        Shell::Fish => "factory.fish",
        Shell::PowerShell => "_factory.ps1",
        Shell::Elvish => "factory.elv",
        _ => "factory.completion",
    }
}

/// Every shell supported.
pub const SHELLS: [Shell; 5] = [
    Shell::Bash,
    Shell::Zsh,
    Shell::Fish,
    Shell::PowerShell,
    Shell::Elvish,
];

impl Cli {
    /// The whole command line with every subcommand's arguments in it, for what reads the
    /// definition (completions, the man page, its tests) rather than parses one command line:
    /// parsing adds a subcommand's arguments only when that subcommand is run.
    pub(crate) fn definition() -> clap::Command {
        let mut command = <Cli as clap::CommandFactory>::command();
        command.build();
        // clap copies the subcommands into `help`'s tree before a deferred one has its own
        // (`events push`): they are added here, so `factory help events <TAB>` offers them.
        let nested: Vec<clap::Command> = command
            .get_subcommands()
            .filter(|sub| sub.has_subcommands() && sub.get_name() != "help")
            .cloned()
            .collect();
        if let Some(help) = command.find_subcommand_mut("help") {
            for sub in &nested {
                if let Some(entry) = help
                    .find_subcommand_mut(sub.get_name())
                    .filter(|entry| !entry.has_subcommands())
                {
                    let bin_name = entry.get_bin_name().unwrap_or_default().to_string();
                    *entry = std::mem::take(entry).subcommands(
                        sub.get_subcommands()
                            .filter_map(|nested| copy_for_help(nested, &bin_name)),
                    );
                }
            }
        }
        command
    }
}

/// A subcommand as `help`'s tree holds it below `parent` (a bin name, `factory help
/// events`): its name, description and subcommands, no arguments (as clap's own copy).
fn copy_for_help(command: &clap::Command, parent: &str) -> Option<clap::Command> {
    if command.get_name() == "help" {
        return None;
    }
    let bin_name = format!("{parent} {}", command.get_name());
    // clap takes a name as `&'static str` unless its `string` feature is on, which slows
    // every start-up: the few names copied here, once per process, are leaked instead.
    let name: &'static str = Box::leak(command.get_name().into());
    let mut copy = clap::Command::new(name)
        .bin_name(bin_name.clone())
        .hide(command.is_hide_set())
        .disable_help_flag(true)
        .disable_version_flag(true)
        .subcommands(
            command
                .get_subcommands()
                .filter_map(|nested| copy_for_help(nested, &bin_name)),
        );
    if let Some(about) = command.get_about() {
        copy = copy.about(about.clone());
    }
    Some(copy)
}
