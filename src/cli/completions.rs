//! `factory completions SHELL` and `factory man`: shell completions and the man page,
//! generated from the command-line definition (so they never drift from it).

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
