//! A line of `events.jsonl`: an envelope with a readable payload, or an error.
#![no_main]

libfuzzer_sys::fuzz_target!(|line: &[u8]| {
    if let Ok(envelope) = factory::events::Envelope::from_line(line) {
        let _ = envelope.event();
        let mut out = Vec::new();
        envelope.write_line(&mut out);
    }
});
