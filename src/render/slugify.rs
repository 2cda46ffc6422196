//! cookiecutter's `slugify` filter: python-slugify's `slugify(text, entities=True,
//! decimal=True, hexadecimal=True, max_length=0, word_boundary=False, separator='-',
//! save_order=False, stopwords=(), regex_pattern=None, lowercase=True, replacements=(),
//! allow_unicode=False)`, its legacy pipeline (the default of python-slugify 9, which
//! cookiecutter 2.7 installs), with the arguments by position or by name.

use std::borrow::Cow;

use minijinja::value::{Kwargs, Rest, Value};
use minijinja::{Error, ErrorKind};
use unicode_normalization::UnicodeNormalization;

/// The arguments, as python-slugify names them, in its positional order.
const NAMES: [&str; 12] = [
    "entities",
    "decimal",
    "hexadecimal",
    "max_length",
    "word_boundary",
    "separator",
    "save_order",
    "stopwords",
    "regex_pattern",
    "lowercase",
    "replacements",
    "allow_unicode",
];

/// python-slugify's options.
#[derive(Debug, Clone)]
pub struct Options {
    entities: bool,
    decimal: bool,
    hexadecimal: bool,
    max_length: usize,
    word_boundary: bool,
    separator: String,
    save_order: bool,
    stopwords: Vec<String>,
    regex_pattern: Option<String>,
    lowercase: bool,
    replacements: Vec<(String, String)>,
    allow_unicode: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            entities: true,
            decimal: true,
            hexadecimal: true,
            max_length: 0,
            word_boundary: false,
            separator: "-".into(),
            save_order: false,
            stopwords: Vec::new(),
            regex_pattern: None,
            lowercase: true,
            replacements: Vec::new(),
            allow_unicode: false,
        }
    }
}

/// The fixed patterns, compiled once (slugify runs for every name a template slugs).
fn fixed(which: usize) -> &'static regex::Regex {
    static PATTERNS: std::sync::LazyLock<[regex::Regex; 7]> = std::sync::LazyLock::new(|| {
        [
            r"&([A-Za-z]+);",
            r"&#(\d+);",
            r"&#x([\da-fA-F]+);",
            "'+",
            r"(\d),(\d)",
            r"[^-a-zA-Z0-9]+",
            "-{2,}",
        ]
        .map(|p| regex::Regex::new(p).expect("valid"))
    });
    &PATTERNS[which]
}

fn bad(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, format!("slugify: {message}"))
}

fn strings(name: &str, value: &Value) -> Result<Vec<String>, Error> {
    let items = value
        .try_iter()
        .map_err(|_| bad(format!("{name} must be a list of strings, not `{value}`")))?;
    items
        .map(|item| {
            item.as_str()
                .map(str::to_string)
                .ok_or_else(|| bad(format!("{name} must hold strings, not `{item}`")))
        })
        .collect()
}

impl Options {
    fn set(&mut self, name: &str, value: Value) -> Result<(), Error> {
        let flag = || -> Result<bool, Error> { Ok(value.is_true()) };
        match name {
            "entities" => self.entities = flag()?,
            "decimal" => self.decimal = flag()?,
            "hexadecimal" => self.hexadecimal = flag()?,
            "word_boundary" => self.word_boundary = flag()?,
            "save_order" => self.save_order = flag()?,
            "lowercase" => self.lowercase = flag()?,
            "allow_unicode" => self.allow_unicode = flag()?,
            "max_length" => {
                let n = i64::try_from(value.clone())
                    .map_err(|_| bad(format!("max_length must be a number, not `{value}`")))?;
                // Python slices with a negative length from the end; none real templates use.
                self.max_length = usize::try_from(n).map_err(|_| {
                    bad(format!(
                        "max_length {n} is negative; factory takes 0 or more"
                    ))
                })?;
            }
            "separator" => {
                self.separator = value
                    .as_str()
                    .ok_or_else(|| bad(format!("separator must be a string, not `{value}`")))?
                    .to_string();
            }
            "stopwords" => self.stopwords = strings(name, &value)?,
            "regex_pattern" => {
                self.regex_pattern = if value.is_none() {
                    None
                } else {
                    Some(
                        value
                            .as_str()
                            .ok_or_else(|| {
                                bad(format!("regex_pattern must be a string, not `{value}`"))
                            })?
                            .to_string(),
                    )
                };
            }
            "replacements" => {
                let mut pairs = Vec::new();
                for pair in value.try_iter().map_err(|_| {
                    bad(format!(
                        "replacements must be a list of pairs, not `{value}`"
                    ))
                })? {
                    match strings("replacements", &pair)?.as_slice() {
                        [old, new] => pairs.push((old.clone(), new.clone())),
                        _ => {
                            return Err(bad(format!(
                                "a replacement is a pair [old, new], not `{pair}`"
                            )));
                        }
                    }
                }
                self.replacements = pairs;
            }
            other => {
                return Err(bad(format!(
                    "unexpected keyword argument `{other}` (python-slugify takes {})",
                    NAMES.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// The options from a filter call's positional and keyword arguments.
    pub fn from_call(positional: &[Value], kwargs: &Kwargs) -> Result<Options, Error> {
        if positional.len() > NAMES.len() {
            return Err(bad(format!(
                "takes at most {} arguments after the text, {} given",
                NAMES.len(),
                positional.len()
            )));
        }
        let mut options = Options::default();
        for (name, value) in NAMES.iter().zip(positional) {
            options.set(name, value.clone())?;
        }
        for name in kwargs.args() {
            if NAMES[..positional.len()].contains(&name) {
                return Err(bad(format!("got multiple values for argument `{name}`")));
            }
            options.set(name, kwargs.get::<Value>(name)?)?;
        }
        Ok(options)
    }
}

/// HTML entities python-slugify decodes (`&name;`): the HTML 4 names that matter for a
/// slug, those of ASCII characters and of Latin-1's letters and signs.
fn entity(name: &str) -> Option<char> {
    const NAMED: [(&str, char); 20] = [
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("nbsp", '\u{a0}'),
        ("copy", '©'),
        ("reg", '®'),
        ("trade", '™'),
        ("hellip", '…'),
        ("ndash", '–'),
        ("mdash", '—'),
        ("lsquo", '‘'),
        ("rsquo", '’'),
        ("ldquo", '“'),
        ("rdquo", '”'),
        ("euro", '€'),
        ("szlig", 'ß'),
        ("deg", '°'),
        ("middot", '·'),
        ("times", '×'),
    ];
    if let Some((_, c)) = NAMED.iter().find(|(n, _)| *n == name) {
        return Some(*c);
    }
    // `&eacute;`, `&Ouml;`, `&ccedil;`…: a letter and an accent HTML 4 names.
    const ACCENTS: [(&str, char); 7] = [
        ("acute", '\u{301}'),
        ("grave", '\u{300}'),
        ("circ", '\u{302}'),
        ("tilde", '\u{303}'),
        ("uml", '\u{308}'),
        ("ring", '\u{30a}'),
        ("cedil", '\u{327}'),
    ];
    let mut letters = name.chars();
    let letter = letters.next().filter(char::is_ascii_alphabetic)?;
    let rest = letters.as_str();
    let (_, mark) = ACCENTS.iter().find(|(a, _)| *a == rest)?;
    let composed: String = [letter, *mark].iter().collect::<String>().nfc().collect();
    let mut chars = composed.chars();
    let c = chars.next()?;
    chars.next().is_none().then_some(c)
}

fn decode_entities(text: &str, options: &Options) -> String {
    let (named, decimal, hex) = (fixed(0), fixed(1), fixed(2));
    let mut text: Cow<'_, str> = Cow::Borrowed(text);
    if options.entities {
        let decoded = named.replace_all(&text, |c: &regex::Captures<'_>| {
            entity(&c[1]).map_or_else(|| c[0].to_string(), |ch| ch.to_string())
        });
        text = Cow::Owned(decoded.into_owned());
    }
    // Legacy: one reference that is no character leaves every reference of its kind.
    let numeric = |text: &str, re: &regex::Regex, radix: u32| -> Option<String> {
        let mut failed = false;
        let out = re.replace_all(text, |c: &regex::Captures<'_>| {
            match u32::from_str_radix(&c[1], radix)
                .ok()
                .and_then(char::from_u32)
            {
                Some(ch) => ch.to_string(),
                None => {
                    failed = true;
                    String::new()
                }
            }
        });
        (!failed).then(|| out.into_owned())
    };
    if options.decimal
        && let Some(out) = numeric(&text, decimal, 10)
    {
        text = Cow::Owned(out);
    }
    if options.hexadecimal
        && let Some(out) = numeric(&text, hex, 16)
    {
        text = Cow::Owned(out);
    }
    text.into_owned()
}

/// python-slugify's `smart_truncate` with the `-` separator.
fn smart_truncate(text: &str, max_length: usize, word_boundary: bool, save_order: bool) -> String {
    let text = text.trim_matches('-');
    let count = text.chars().count();
    let prefix = |n: usize| text.chars().take(n).collect::<String>();
    if max_length == 0 || count < max_length {
        return text.to_string();
    }
    if !word_boundary {
        return prefix(max_length).trim_matches('-').to_string();
    }
    if !text.contains('-') {
        return prefix(max_length);
    }
    let mut truncated = String::new();
    for word in text.split('-').filter(|w| !w.is_empty()) {
        let next = truncated.chars().count() + word.chars().count();
        if next < max_length {
            truncated.push_str(word);
            truncated.push('-');
        } else if next == max_length {
            truncated.push_str(word);
            break;
        } else if save_order {
            break;
        }
    }
    if truncated.is_empty() {
        truncated = prefix(max_length);
    }
    truncated.trim_matches('-').to_string()
}

/// The slug of `text`.
pub fn slugify(text: &str, options: &Options) -> Result<String, Error> {
    let mut text = text.to_string();
    for (old, new) in &options.replacements {
        text = text.replace(old.as_str(), new);
    }
    let quotes = fixed(3);
    text = quotes.replace_all(&text, "-").into_owned();
    text = if options.allow_unicode {
        text.nfkc().collect()
    } else {
        let decomposed: String = text.nfkd().collect();
        if decomposed.is_ascii() {
            decomposed
        } else {
            deunicode::deunicode_with_tofu(&decomposed, "")
        }
    };
    text = decode_entities(&text, options);
    text = if options.allow_unicode {
        text.nfkc().collect()
    } else {
        text.nfkd().collect()
    };
    if options.lowercase {
        text = text.to_lowercase();
    }
    text = quotes.replace_all(&text, "").into_owned();
    let numbers = fixed(4);
    // Python's `(?<=\d),(?=\d)`: a comma between digits goes (overlapping runs too).
    while numbers.is_match(&text) {
        text = numbers.replace_all(&text, "$1$2").into_owned();
    }
    let own;
    let disallowed = match &options.regex_pattern {
        Some(pattern) => {
            own = regex::Regex::new(pattern)
                .map_err(|e| bad(format!("regex_pattern `{pattern}`: {e}")))?;
            &own
        }
        None if options.allow_unicode => {
            own = regex::Regex::new(r"[\W_]+").expect("valid");
            &own
        }
        None => fixed(5),
    };
    text = disallowed.replace_all(&text, "-").into_owned();
    let dashes = fixed(6);
    text = dashes.replace_all(&text, "-").trim_matches('-').to_string();
    if !options.stopwords.is_empty() {
        let excluded: Vec<String> = if options.lowercase {
            options.stopwords.iter().map(|w| w.to_lowercase()).collect()
        } else {
            options.stopwords.clone()
        };
        text = text
            .split('-')
            .filter(|w| !excluded.iter().any(|e| e == w))
            .collect::<Vec<_>>()
            .join("-");
    }
    for (old, new) in &options.replacements {
        text = text.replace(old.as_str(), new);
    }
    if options.max_length > 0 {
        text = smart_truncate(
            &text,
            options.max_length,
            options.word_boundary,
            options.save_order,
        );
    }
    if options.separator != "-" {
        text = text.replace('-', &options.separator);
    }
    Ok(text)
}

/// The `slugify` filter.
pub fn filter(value: Value, positional: Rest<Value>, kwargs: Kwargs) -> Result<String, Error> {
    let options = Options::from_call(&positional, &kwargs)?;
    kwargs.assert_all_used()?;
    let text = match value.as_str() {
        Some(text) => Cow::Borrowed(text),
        None => Cow::Owned(value.to_string()),
    };
    slugify(&text, &options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slug(text: &str, f: impl FnOnce(&mut Options)) -> String {
        let mut options = Options::default();
        f(&mut options);
        slugify(text, &options).unwrap()
    }

    #[test]
    fn as_python_slugify() {
        assert_eq!(slug("  Hello, World! 2026 ", |_| {}), "hello-world-2026");
        assert_eq!(
            slug("My Project", |o| o.separator = "_".into()),
            "my_project"
        );
        assert_eq!(slug("Café Déjà vu", |_| {}), "cafe-deja-vu");
        assert_eq!(slug("it's 1,000 &amp; more", |_| {}), "it-s-1000-more");
        assert_eq!(
            slug("one two three four", |o| {
                o.max_length = 12;
                o.word_boundary = true;
            }),
            "one-two-four"
        );
        assert_eq!(
            slug("北京 Straße Ørsted ½ ™", |_| {}),
            "bei-jing-strasse-orsted-1-2-tm"
        );
        assert_eq!(slug("&eacute;t&eacute; &copy; &#233;", |_| {}), "e-te-e");
        assert_eq!(
            slug("the quick fox", |o| o.stopwords = vec!["the".into()]),
            "quick-fox"
        );
        assert_eq!(slug("Keep CASE", |o| o.lowercase = false), "Keep-CASE");
        assert_eq!(
            slug("a|b", |o| o.replacements = vec![("|".into(), "or".into())]),
            "aorb"
        );
    }
}
