//! Jinja2 syntax that minijinja does not parse, rewritten into syntax it does.

use std::borrow::Cow;

/// Rewrites jinja2-time's `{% now 'utc', '%Y' %}` tag into a call of the `now` function, which
/// minijinja understands; other text is returned as it is.
pub fn preprocess(text: &str) -> Cow<'_, str> {
    if !text.contains("now") || !text.contains("{%") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut changed = false;
    while let Some(start) = rest.find("{%") {
        let after = &rest[start + 2..];
        let (open_trim, body_start) = if after.starts_with('-') {
            ("-", 1)
        } else {
            ("", 0)
        };
        let body = &after[body_start..];
        let Some(end) = body.find("%}") else { break };
        let inner = &body[..end];
        let (inner, close_trim) = match inner.strip_suffix('-') {
            Some(i) => (i, "-"),
            None => (inner, ""),
        };
        let words = inner.trim_start();
        if let Some(arguments) = words
            .strip_prefix("now")
            .filter(|a| a.starts_with(char::is_whitespace))
        {
            out.push_str(&rest[..start]);
            out.push_str(&format!(
                "{{{{{open_trim} now({}) {close_trim}}}}}",
                arguments.trim()
            ));
            rest = &body[end + 2..];
            changed = true;
        } else {
            out.push_str(&rest[..start + 2]);
            rest = after;
        }
    }
    if !changed {
        return Cow::Borrowed(text);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::preprocess;

    #[test]
    fn now_tags_become_calls() {
        assert_eq!(
            preprocess("(c) {% now 'utc', '%Y' %} x"),
            "(c) {{ now('utc', '%Y') }} x"
        );
        assert_eq!(preprocess("{%- now 'utc' -%}"), "{{- now('utc') -}}");
        assert_eq!(
            preprocess("{% if nowhere %}{% endif %}"),
            "{% if nowhere %}{% endif %}"
        );
    }
}
