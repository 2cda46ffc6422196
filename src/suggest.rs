//! "Did you mean …": the closest of some names to what was typed.

/// The candidate closest to `typed`: one equal but for case first, else the nearest by edit
/// distance when it is near enough to be a typo (at most a third of the word, and 3).
pub fn closest<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = typed.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for candidate in candidates {
        if candidate.to_lowercase() == lower {
            return Some(candidate);
        }
        let distance = strsim::levenshtein(&lower, &candidate.to_lowercase());
        if best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, candidate));
        }
    }
    let limit = (typed.chars().count() / 3).clamp(1, 3);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// ` (did you mean `NAME`?)`, or nothing.
pub fn did_you_mean<'a>(typed: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(typed, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_and_case_find_their_name() {
        let names = ["orders-api", "billing-api", "ConnectSoft.Template.Api"];
        assert_eq!(closest("Orders-API", names), Some("orders-api"));
        assert_eq!(closest("oders-api", names), Some("orders-api"));
        assert_eq!(
            closest("connectsoft.template.ap", names),
            Some("ConnectSoft.Template.Api")
        );
        assert_eq!(closest("something-else", names), None);
        assert_eq!(
            did_you_mean("paramters", ["parameters", "files"]),
            " (did you mean `parameters`?)"
        );
    }
}
