//! An `--answers` file against a manifest with every parameter kind (see `factory::fuzzing::answers`).
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| factory::fuzzing::answers(text));
