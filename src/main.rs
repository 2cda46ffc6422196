//! The `factory` binary: parses the command line and maps errors to exit codes.

fn main() -> std::process::ExitCode {
    factory::cli::run()
}
