//! A line of `events.jsonl`: an envelope with a readable payload, or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|line: &[u8]| factory::fuzzing::envelope(line));
