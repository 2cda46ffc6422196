//! The filters template authors expect beyond minijinja's built-ins: case conversions and
//! `slugify`.

use heck::{ToKebabCase, ToLowerCamelCase, ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use minijinja::Environment;

/// JSON as Python's `json.dumps(value, sort_keys=True, indent=indent)` writes it (cookiecutter's
/// `jsonify`).
fn jsonify(value: minijinja::Value, indent: Option<usize>) -> Result<String, minijinja::Error> {
    let json = serde_json::to_value(&value).map_err(|e| {
        minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string())
    })?;
    let style = super::pyformat::JsonStyle {
        indent: Some(indent.unwrap_or(4)),
        sort_keys: true,
    };
    super::pyformat::json(&json, &style)
}

/// Adds the filters to `env`.
pub fn register(env: &mut Environment<'static>, settings: &super::Settings) {
    env.add_filter("snake_case", |s: String| s.to_snake_case());
    env.add_filter("kebab_case", |s: String| s.to_kebab_case());
    env.add_filter("pascal_case", |s: String| s.to_upper_camel_case());
    env.add_filter("camel_case", |s: String| s.to_lower_camel_case());
    env.add_filter("upper_snake_case", |s: String| s.to_shouty_snake_case());
    env.add_filter("slugify", super::slugify::filter);
    env.add_filter("jsonify", jsonify);
    let settings = settings.clone();
    env.add_function("uuid4", move || settings.next_uuid());
    // `debug()` dumps the whole context into a file: never the secrets in it.
    env.add_function(
        "debug",
        |state: &minijinja::State, args: minijinja::value::Rest<minijinja::Value>| {
            crate::secrets::redact(&minijinja::functions::debug(state, args)).into_owned()
        },
    );
}

/// python-slugify's slug of `text` with its default options (see [`super::slugify`]).
pub fn slugify(text: &str) -> String {
    super::slugify::slugify(text, &super::slugify::Options::default())
        .expect("the default options are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_convert_case() {
        let mut env = Environment::new();
        register(&mut env, &crate::render::Settings::default());
        let render = |expr: &str| env.render_str(expr, minijinja::context! {}).unwrap();
        assert_eq!(
            render("{{ 'order service' | pascal_case }}"),
            "OrderService"
        );
        assert_eq!(render("{{ 'OrderService' | snake_case }}"), "order_service");
        assert_eq!(render("{{ 'OrderService' | kebab_case }}"), "order-service");
        assert_eq!(render("{{ 'order-service' | camel_case }}"), "orderService");
        assert_eq!(
            render("{{ 'order-service' | upper_snake_case }}"),
            "ORDER_SERVICE"
        );
        assert_eq!(slugify("  Hello, World! 2026 "), "hello-world-2026");
    }
}
