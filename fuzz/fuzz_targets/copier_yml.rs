//! `copier.yml`: any text becomes a manifest or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = factory::template::copier::manifest(text, "copier.yml", "fuzzed");
});
