//! The command-line definition itself: consistent, and every command and flag explained.

#[test]
fn command_line_definition_is_consistent() {
    crate::cli::Cli::definition().debug_assert();
}

#[test]
fn every_command_and_flag_says_what_it_does() {
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        if command.get_about().is_none() {
            missing.push(format!("{path}: no about"));
        }
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {}: no help", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let command = crate::cli::Cli::definition();
    let mut missing = Vec::new();
    walk(&command, "factory", &mut missing);
    for sub in command
        .get_subcommands()
        .filter(|s| !matches!(s.get_name(), "help" | "man" | "completions" | "store"))
    {
        if sub.get_after_long_help().is_none() {
            missing.push(format!("factory {}: no example in --help", sub.get_name()));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
