//! `template.yaml`: any text parses to a manifest or a located error, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| factory::fuzzing::manifest(text));
