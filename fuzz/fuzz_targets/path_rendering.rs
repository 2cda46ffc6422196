//! A file name template and a parameter value: rendered (bounded) and checked as a path
//! inside the output (see `factory::fuzzing::path_rendering`).
#![no_main]

libfuzzer_sys::fuzz_target!(|input: (&str, &str)| factory::fuzzing::path_rendering(input.0, input.1));
