//! `copier.yml`: any text becomes a manifest or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| factory::fuzzing::copier_yml(text));
