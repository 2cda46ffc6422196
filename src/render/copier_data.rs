//! copier's `DEFAULT_DATA`: the two builtins every copier template sees, `now()` (an aware
//! `datetime.now(tz=utc)`) and `make_secret()` (`sha512(urandom(48)).hexdigest()`). copier
//! deprecates both and warns with a FutureWarning at each call; factory gives them to copier
//! templates only, with the same contract, and records each call in the settings so the
//! command warns once per builtin (rendering prints nothing itself).

use minijinja::{Environment, Error, ErrorKind, Value};
use sha2::Digest;

/// The builtins' names, as copier's `DEFAULT_DATA` has them (a question may not take one).
pub const NAMES: [&str; 2] = ["now", "make_secret"];

/// What to say about a deprecated builtin the template called, on one line: copier's
/// FutureWarning with what to write instead.
pub fn deprecation(name: &str) -> String {
    let instead = match name {
        "now" => "{{ '%Y-%m-%d %H:%M:%S' | strftime }}",
        _ => "a `secret: true` question whose default the user replaces",
    };
    format!(
        "`{name}()` is deprecated, as copier deprecates it (it will go in a future release of copier): use {instead} instead"
    )
}

/// copier's `make_secret()`: 48 random bytes, hashed with SHA-512, in hex (128 digits).
fn make_secret() -> Result<String, Error> {
    let mut bytes = [0u8; 48];
    getrandom::fill(&mut bytes).map_err(|e| {
        Error::new(
            ErrorKind::InvalidOperation,
            format!("make_secret: no random bytes from the system: {e}"),
        )
    })?;
    Ok(hex::encode(sha2::Sha512::digest(bytes)))
}

/// Adds `now()` and `make_secret()` as copier gives them, over factory's own `now`.
pub fn register(env: &mut Environment<'static>, settings: &super::Settings) {
    let clock = settings.clone();
    env.add_function("now", move || {
        clock.used_deprecated("now");
        let at = clock.now().to_offset(time::UtcOffset::UTC);
        Value::from_object(super::datetime::DateTime::aware(at))
    });
    let random = settings.clone();
    env.add_function("make_secret", move || {
        random.used_deprecated("make_secret");
        make_secret()
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_an_aware_utc_datetime_and_calls_are_recorded() {
        let pinned = crate::clock::parse_rfc3339("2026-01-04T23:05:09.25+02:00").unwrap();
        let settings = super::super::Settings::new(Some(pinned), None);
        let mut env = Environment::new();
        register(&mut env, &settings);
        let out = env
            .render_str(
                "{{ now() }}|{{ now().year }}|{{ now().strftime('%H') }}",
                (),
            )
            .unwrap();
        assert_eq!(out, "2026-01-04 21:05:09.250000+00:00|2026|21");
        assert_eq!(settings.take_deprecated(), vec!["now"]);
        assert!(settings.take_deprecated().is_empty());
        let secrets: Vec<String> = (0..2)
            .map(|_| env.render_str("{{ make_secret() }}", ()).unwrap())
            .collect();
        assert_eq!(secrets[0].len(), 128);
        assert!(secrets[0].chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(secrets[0], secrets[1]);
        assert_eq!(settings.take_deprecated(), vec!["make_secret"]);
    }
}
