//! Rendering with a bound on what it produces. minijinja's fuel bounds time; this bounds the
//! output: every render (files, names, defaults, validators, hook scripts) writes into a buffer
//! that refuses to grow past one limit instead of taking whatever memory a loop asks for.

/// The most one rendered file, name or value may hold.
pub const MAX_RENDERED_BYTES: usize = 64 * 1024 * 1024;

/// Renders a template into memory, failing (minijinja's `WriteFailure`, described by
/// `describe_error`) once the output would pass `MAX_RENDERED_BYTES`: the writer refuses to
/// grow instead of the process taking whatever memory a loop asks for.
pub fn render_bounded(
    template: &minijinja::Template<'_, '_>,
    ctx: impl Into<minijinja::Value>,
) -> Result<String, minijinja::Error> {
    let mut out = BoundedOutput(Vec::new());
    template.render_captured_to(ctx, &mut out)?;
    Ok(String::from_utf8(out.0).expect("minijinja writes UTF-8"))
}

/// `Environment::render_str`, bounded like `render_bounded`.
pub fn render_str_bounded(
    env: &minijinja::Environment<'_>,
    text: &str,
    ctx: impl Into<minijinja::Value>,
) -> Result<String, minijinja::Error> {
    render_bounded(&env.template_from_str(text)?, ctx)
}

struct BoundedOutput(Vec<u8>);

impl std::io::Write for BoundedOutput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_RENDERED_BYTES {
            return Err(std::io::Error::other("the output bound was reached"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
