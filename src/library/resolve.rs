//! What the scan and the advice share: choices iterated until they settle, and stored
//! ranges read back as requirements.
//!
//! Choosing a version can add requirements (its own dependencies) that change what the
//! other requirers must share, so both choose again with the previous round's choices until
//! nothing changes. A bounded number of rounds keeps a pathological registry (choices that
//! flip between two states) from looping forever; the last round's choices stand.

use semver::VersionReq;

use crate::error::{Error, Result};

/// Rounds after which the choices stand as they are.
pub const ROUNDS: usize = 8;

/// Runs `choose` from no choices, each round with the previous round's choices, until a round
/// changes nothing (or [`ROUNDS`] have run).
pub fn settle<C: PartialEq + Default>(mut choose: impl FnMut(&C) -> Result<C>) -> Result<C> {
    let mut chosen = C::default();
    for _ in 0..ROUNDS {
        let next = choose(&chosen)?;
        if next == chosen {
            break;
        }
        chosen = next;
    }
    Ok(chosen)
}

/// A recorded range as a semver requirement. Ranges are normalised when they are recorded,
/// so one that does not parse means the log was edited: an error naming where it came from.
pub fn requirement(range: &str, origin: &str) -> Result<VersionReq> {
    VersionReq::parse(range).map_err(|e| {
        Error::new(format!(
            "{origin}: range `{range}` is not a version requirement: {e}"
        ))
        .hint(
            "record the release again with a valid range; `factory store check` verifies the store",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_settle_or_stop_after_the_bound() {
        let mut calls = 0;
        let settled: u32 = settle(|c: &u32| {
            calls += 1;
            Ok((*c + 1).min(3))
        })
        .unwrap();
        assert_eq!((settled, calls), (3, 4));
        let flipping: u32 = settle(|c: &u32| Ok(1 - *c)).unwrap();
        assert!(flipping <= 1);
    }

    #[test]
    fn a_bad_range_is_an_error_with_its_origin() {
        let err = requirement("not a range", "Acme.A@1.0.0 -> Acme.B").unwrap_err();
        assert!(
            err.message.contains("Acme.A@1.0.0 -> Acme.B"),
            "{}",
            err.message
        );
        assert!(requirement(">=1.0.0, <2.0.0", "x").is_ok());
    }
}
