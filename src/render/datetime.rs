//! Dates as copier's filters (jinja2-ansible-filters) give them: `strftime` formats the
//! instant `now()` gives (`FACTORY_NOW` pins it, as it does `{% now %}`) or given epoch
//! seconds in the machine's zone, as Python's `time.strftime(fmt, time.localtime(s))`;
//! `to_datetime` parses as `datetime.strptime` and gives a value that prints, formats and
//! answers `.year` like Python's `datetime`.

use std::sync::Arc;

use minijinja::value::{Enumerator, Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, State};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn bad(message: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, message)
}

/// What a format is applied to: the wall-clock time, and its zone when it has one (a naive
/// `datetime` has none: `%z` and `%Z` print nothing, as in Python).
#[derive(Debug, Clone, Copy)]
pub struct Moment {
    /// The wall-clock date and time.
    pub local: PrimitiveDateTime,
    /// Its offset from UTC, when known.
    pub offset: Option<UtcOffset>,
    /// Whether `%Z` may name the zone `UTC` (an instant in UTC); otherwise it is unknown.
    pub utc_name: bool,
}

impl Moment {
    /// An instant as it reads at its own offset.
    pub fn of(t: OffsetDateTime) -> Moment {
        Moment {
            local: PrimitiveDateTime::new(t.date(), t.time()),
            offset: Some(t.offset()),
            utc_name: t.offset().is_utc(),
        }
    }
}

/// C's `strftime` in the C locale, as Python's `time.strftime` calls it on Linux, with
/// glibc's flags (`%-d`, `%_d`, `%0e`, `%^a`); `%f` as `datetime.strftime` gives it. A
/// directive it does not know is refused, naming it.
pub fn strftime(m: Moment, format: &str) -> Result<String, Error> {
    let mut out = String::with_capacity(format.len() + 16);
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flag = None;
        if let Some(&f) = chars.peek()
            && matches!(f, '-' | '_' | '0' | '^' | '#')
        {
            flag = Some(f);
            chars.next();
        }
        let Some(code) = chars.next() else {
            out.push('%');
            break;
        };
        directive(&mut out, m, code, flag)?;
    }
    Ok(out)
}

/// A number padded as the directive says unless a flag says otherwise.
fn number(out: &mut String, n: i64, width: usize, pad: char, flag: Option<char>) {
    let pad = match flag {
        Some('-') => {
            out.push_str(&n.to_string());
            return;
        }
        Some('_') => ' ',
        Some('0') => '0',
        _ => pad,
    };
    let digits = n.abs().to_string();
    if n < 0 {
        out.push('-');
    }
    for _ in digits.len()..width {
        out.push(pad);
    }
    out.push_str(&digits);
}

fn text(out: &mut String, s: &str, flag: Option<char>) {
    if matches!(flag, Some('^') | Some('#')) {
        out.push_str(&s.to_uppercase());
    } else {
        out.push_str(s);
    }
}

fn directive(out: &mut String, m: Moment, code: char, flag: Option<char>) -> Result<(), Error> {
    let t = m.local;
    let month = MONTHS[u8::from(t.month()) as usize - 1];
    let day = DAYS[t.weekday().number_days_from_monday() as usize];
    let hour12 = match t.hour() % 12 {
        0 => 12,
        h => h,
    };
    let ampm = if t.hour() < 12 { "AM" } else { "PM" };
    let sunday_based = t.weekday().number_days_from_sunday() as i64;
    let yday = t.ordinal() as i64 - 1;
    match code {
        'Y' => number(out, t.year() as i64, 1, '0', flag),
        'C' => number(out, t.year().div_euclid(100) as i64, 2, '0', flag),
        'y' => number(out, t.year().rem_euclid(100) as i64, 2, '0', flag),
        'G' => number(out, t.date().to_iso_week_date().0 as i64, 1, '0', flag),
        'g' => number(
            out,
            t.date().to_iso_week_date().0.rem_euclid(100) as i64,
            2,
            '0',
            flag,
        ),
        'm' => number(out, u8::from(t.month()) as i64, 2, '0', flag),
        'd' => number(out, t.day() as i64, 2, '0', flag),
        'e' => number(out, t.day() as i64, 2, ' ', flag),
        'j' => number(out, t.ordinal() as i64, 3, '0', flag),
        'H' => number(out, t.hour() as i64, 2, '0', flag),
        'k' => number(out, t.hour() as i64, 2, ' ', flag),
        'I' => number(out, hour12 as i64, 2, '0', flag),
        'l' => number(out, hour12 as i64, 2, ' ', flag),
        'M' => number(out, t.minute() as i64, 2, '0', flag),
        'S' => number(out, t.second() as i64, 2, '0', flag),
        'f' => number(out, t.microsecond() as i64, 6, '0', flag),
        'u' => number(out, t.weekday().number_from_monday() as i64, 1, '0', flag),
        'w' => number(out, sunday_based, 1, '0', flag),
        'U' => number(out, (yday + 7 - sunday_based) / 7, 2, '0', flag),
        'W' => {
            let monday_based = t.weekday().number_days_from_monday() as i64;
            number(out, (yday + 7 - monday_based) / 7, 2, '0', flag)
        }
        'V' => number(out, t.date().to_iso_week_date().1 as i64, 2, '0', flag),
        'b' | 'h' => text(out, &month[..3], flag),
        'B' => text(out, month, flag),
        'a' => text(out, &day[..3], flag),
        'A' => text(out, day, flag),
        'p' => text(out, ampm, flag),
        'P' => out.push_str(&ampm.to_lowercase()),
        's' => {
            let offset = m.offset.unwrap_or(UtcOffset::UTC);
            number(out, t.assume_offset(offset).unix_timestamp(), 1, '0', flag);
        }
        'z' => {
            if let Some(offset) = m.offset {
                let (h, mi, _) = offset.as_hms();
                out.push(if offset.is_negative() { '-' } else { '+' });
                out.push_str(&format!("{:02}{:02}", h.abs(), mi.abs()));
            }
        }
        'Z' => match m.offset {
            None => {}
            Some(_) if m.utc_name => out.push_str("UTC"),
            Some(_) => {
                return Err(bad(
                    "strftime: %Z (the time zone's name) is known only in UTC: use %z for the offset, or TZ=UTC".into(),
                ));
            }
        },
        'c' => out.push_str(&strftime(m, "%a %b %e %H:%M:%S %Y")?),
        'x' | 'D' => out.push_str(&strftime(m, "%m/%d/%y")?),
        'X' | 'T' => out.push_str(&strftime(m, "%H:%M:%S")?),
        'F' => out.push_str(&strftime(m, "%Y-%m-%d")?),
        'R' => out.push_str(&strftime(m, "%H:%M")?),
        'r' => out.push_str(&strftime(m, "%I:%M:%S %p")?),
        'n' => out.push('\n'),
        't' => out.push('\t'),
        '%' => out.push('%'),
        other => {
            return Err(bad(format!(
                "strftime: the directive %{other} is not supported (factory knows %a %A %b %B %c %C %d %D %e %f %F %g %G %h %H %I %j %k %l %m %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %Z %% and the flags - _ 0 ^)"
            )));
        }
    }
    Ok(())
}

/// jinja2-ansible-filters' `strftime(format, second=None)`: the time now (or `second` epoch
/// seconds) in the machine's zone.
fn strftime_filter(
    settings: &super::Settings,
    format: &str,
    second: Option<Value>,
) -> Result<String, Error> {
    let instant = match second.filter(|s| !s.is_none() && !s.is_undefined()) {
        None => settings.now(),
        Some(second) => {
            let seconds = epoch_seconds(&second).ok_or_else(|| {
                bad(format!(
                    "strftime: Invalid value for epoch value ({second})"
                ))
            })?;
            OffsetDateTime::from_unix_timestamp(seconds)
                .map_err(|e| bad(format!("strftime: epoch value {seconds}: {e}")))?
        }
    };
    strftime(Moment::of(instant.to_offset(settings.local_offset)), format)
}

/// Python's `int(x)` of an epoch value: an integer, a float (truncated) or a numeric string.
fn epoch_seconds(value: &Value) -> Option<i64> {
    if let Ok(n) = i64::try_from(value.clone()) {
        return Some(n);
    }
    if let Ok(f) = f64::try_from(value.clone()) {
        return (f.is_finite()).then_some(f.trunc() as i64);
    }
    value.as_str().and_then(|s| s.trim().parse().ok())
}

/// A Python `datetime` made by `to_datetime`.
#[derive(Debug, Clone, Copy)]
pub struct DateTime {
    at: PrimitiveDateTime,
    offset: Option<UtcOffset>,
}

impl std::fmt::Display for DateTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.isoformat(" "))
    }
}

impl DateTime {
    /// An aware `datetime` for an instant, at its own offset (`datetime.now(tz=…)`).
    pub fn aware(t: OffsetDateTime) -> DateTime {
        DateTime {
            at: PrimitiveDateTime::new(t.date(), t.time()),
            offset: Some(t.offset()),
        }
    }

    /// Python's `isoformat(sep)`.
    fn isoformat(&self, sep: &str) -> String {
        let t = self.at;
        let mut out = format!(
            "{:04}-{:02}-{:02}{sep}{:02}:{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        if t.microsecond() != 0 {
            out.push_str(&format!(".{:06}", t.microsecond()));
        }
        if let Some(offset) = self.offset {
            let (h, m, s) = offset.as_hms();
            out.push(if offset.is_negative() { '-' } else { '+' });
            out.push_str(&format!("{:02}:{:02}", h.abs(), m.abs()));
            if s != 0 {
                out.push_str(&format!(":{:02}", s.abs()));
            }
        }
        out
    }

    fn moment(&self) -> Moment {
        Moment {
            local: self.at,
            offset: self.offset,
            utc_name: self.offset.is_some_and(|o| o.is_utc()),
        }
    }
}

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let t = self.at;
        Some(Value::from(match key.as_str()? {
            "year" => t.year() as i64,
            "month" => u8::from(t.month()) as i64,
            "day" => t.day() as i64,
            "hour" => t.hour() as i64,
            "minute" => t.minute() as i64,
            "second" => t.second() as i64,
            "microsecond" => t.microsecond() as i64,
            _ => return None,
        }))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::NonEnumerable
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        let text_arg = |i: usize| args.get(i).and_then(|v| v.as_str().map(str::to_string));
        match method {
            "strftime" => {
                let format = text_arg(0)
                    .ok_or_else(|| bad("datetime.strftime takes a format string".into()))?;
                strftime(self.moment(), &format).map(Value::from)
            }
            "isoformat" => Ok(Value::from(
                self.isoformat(&text_arg(0).unwrap_or_else(|| "T".into())),
            )),
            "weekday" => Ok(Value::from(
                self.at.weekday().number_days_from_monday() as i64
            )),
            "isoweekday" => Ok(Value::from(self.at.weekday().number_from_monday() as i64)),
            "timestamp" => {
                let at = self.at.assume_offset(self.offset.unwrap_or(UtcOffset::UTC));
                Ok(Value::from(at.unix_timestamp_nanos() as f64 / 1e9))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!(
                    "datetime has no method `{method}` in factory (it has strftime, isoformat, weekday, isoweekday, timestamp and the fields year … microsecond)"
                ),
            )),
        }
    }

    fn render(self: &Arc<Self>, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.as_ref(), f)
    }
}

/// One directive's regex, as Python's `_strptime.TimeRE` has it.
fn strptime_regex(code: char) -> Option<&'static str> {
    Some(match code {
        'd' => r"(?P<d>3[01]|[12]\d|0[1-9]|[1-9]| [1-9])",
        'f' => r"(?P<f>[0-9]{1,6})",
        'H' => r"(?P<H>2[0-3]|[0-1]\d|\d)",
        'I' => r"(?P<I>1[0-2]|0[1-9]|[1-9])",
        'j' => r"(?P<j>36[0-6]|3[0-5]\d|[12]\d\d|0[1-9]\d|00[1-9]|[1-9]\d|0[1-9]|[1-9])",
        'm' => r"(?P<m>1[0-2]|0[1-9]|[1-9])",
        'M' => r"(?P<M>[0-5]\d|\d)",
        'S' => r"(?P<S>6[0-1]|[0-5]\d|\d)",
        'w' => r"(?P<w>[0-6])",
        'u' => r"(?P<u>[1-7])",
        'y' => r"(?P<y>\d\d)",
        'Y' => r"(?P<Y>\d\d\d\d)",
        'z' => r"(?P<z>[+-]\d\d:?[0-5]\d(:?[0-5]\d(\.\d{1,6})?)?|(?-i:Z))",
        'a' => {
            r"(?P<a>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun)"
        }
        'A' => r"(?P<A>monday|tuesday|wednesday|thursday|friday|saturday|sunday)",
        'b' => {
            r"(?P<b>january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
        }
        'B' => {
            r"(?P<B>january|february|march|april|may|june|july|august|september|october|november|december)"
        }
        'p' => r"(?P<p>am|pm)",
        '%' => "%",
        _ => return None,
    })
}

/// Python's `datetime.strptime(text, format)` for the directives above.
pub fn strptime(text: &str, format: &str) -> Result<DateTime, Error> {
    let mismatch = || {
        bad(format!(
            "to_datetime: time data '{text}' does not match format '{format}'"
        ))
    };
    let mut pattern = String::from("(?i)^");
    let mut seen = std::collections::HashSet::new();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '%' {
            let Some(code) = chars.next() else {
                return Err(bad(format!("to_datetime: stray % in format '{format}'")));
            };
            let Some(regex) = strptime_regex(code) else {
                return Err(bad(format!(
                    "to_datetime: '{code}' is a bad directive in format '{format}' (factory knows %a %A %b %B %d %f %H %I %j %m %M %p %S %u %w %y %Y %z %%)"
                )));
            };
            // Python's regex would refuse a group named twice.
            if code != '%' && !seen.insert(code) {
                return Err(bad(format!(
                    "to_datetime: redefinition of group name '{code}' in format '{format}'"
                )));
            }
            pattern.push_str(regex);
        } else if c.is_whitespace() {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            pattern.push_str(r"\s+");
        } else {
            pattern.push_str(&regex::escape(&c.to_string()));
        }
    }
    let regex = regex::Regex::new(&pattern).map_err(|e| bad(format!("to_datetime: {e}")))?;
    let found = regex.captures(text).ok_or_else(mismatch)?;
    let end = found.get(0).map_or(0, |m| m.end());
    if end != text.len() {
        return Err(bad(format!(
            "to_datetime: unconverted data remains: {}",
            &text[end..]
        )));
    }
    let num = |name: &str| -> Option<i64> {
        found
            .name(name)
            .and_then(|m| m.as_str().trim().parse().ok())
    };
    let name_index = |name: &str, list: &[&str]| -> Option<usize> {
        found.name(name).and_then(|m| {
            let lower = m.as_str().to_lowercase();
            list.iter()
                .position(|n| n.to_lowercase() == lower || n[..3].to_lowercase() == lower)
        })
    };
    let year = match (num("Y"), num("y")) {
        (Some(y), _) => y,
        (None, Some(y)) if y < 69 => 2000 + y,
        (None, Some(y)) => 1900 + y,
        _ => 1900,
    };
    let mut month = num("m")
        .or_else(|| {
            name_index("B", &MONTHS)
                .or_else(|| name_index("b", &MONTHS))
                .map(|i| i as i64 + 1)
        })
        .unwrap_or(1);
    let mut day = num("d").unwrap_or(1);
    let mut hour = num("H").unwrap_or(0);
    if let Some(h) = num("I") {
        let pm = found
            .name("p")
            .is_some_and(|p| p.as_str().eq_ignore_ascii_case("pm"));
        hour = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    let minute = num("M").unwrap_or(0);
    // Python accepts a leap second (61) in the pattern and refuses it when building.
    let second = num("S").unwrap_or(0);
    let micro = found.name("f").map_or(0, |f| {
        let digits = format!("{:0<6}", f.as_str());
        digits.parse::<u32>().unwrap_or(0)
    });
    if let Some(julian) = num("j")
        && num("m").is_none()
        && num("d").is_none()
        && let Ok(date) = Date::from_ordinal_date(year as i32, julian as u16)
    {
        month = u8::from(date.month()) as i64;
        day = date.day() as i64;
    }
    let out_of_range =
        |what: &str| bad(format!("to_datetime: {what} is out of range for '{text}'"));
    let month = Month::try_from(month as u8).map_err(|_| out_of_range("month"))?;
    let date =
        Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| out_of_range("day"))?;
    let time = Time::from_hms_micro(hour as u8, minute as u8, second as u8, micro)
        .map_err(|_| out_of_range("second"))?;
    let offset = match found.name("z").map(|z| z.as_str()) {
        None => None,
        Some("Z" | "z") => Some(UtcOffset::UTC),
        Some(z) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let part = |at: usize| {
                digits
                    .get(at..at + 2)
                    .and_then(|d| d.parse::<i8>().ok())
                    .unwrap_or(0)
            };
            Some(
                UtcOffset::from_hms(sign * part(0), sign * part(2), sign * part(4))
                    .map_err(|_| out_of_range("offset"))?,
            )
        }
    };
    Ok(DateTime {
        at: PrimitiveDateTime::new(date, time),
        offset,
    })
}

/// Adds `strftime` and `to_datetime`.
pub fn register(env: &mut Environment<'static>, settings: &super::Settings) {
    let settings = settings.clone();
    env.add_filter("strftime", move |format: String, second: Option<Value>| {
        strftime_filter(&settings, &format, second)
    });
    env.add_filter(
        "to_datetime",
        |text: String, format: Option<String>| -> Result<Value, Error> {
            let format = format.as_deref().unwrap_or("%Y-%m-%d %H:%M:%S");
            strptime(&text, format).map(Value::from_object)
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Moment {
        Moment::of(crate::clock::parse_rfc3339(text).unwrap())
    }

    #[test]
    fn strftime_is_cs_in_the_c_locale() {
        let m = at("2026-01-04T21:05:09Z");
        let f = |format: &str| strftime(m, format).unwrap();
        assert_eq!(f("%Y-%m-%d %H:%M:%S"), "2026-01-04 21:05:09");
        assert_eq!(
            f("%a %A %b %B %p %I %l|%e|%-d|%_m|%^a"),
            "Sun Sunday Jan January PM 09  9| 4|4| 1|SUN"
        );
        assert_eq!(
            f("%j %U %W %V %G %u %w %C %y"),
            "004 01 00 01 2026 7 0 20 26"
        );
        assert_eq!(
            f("%c|%x|%X|%D|%F|%T|%R|%r"),
            "Sun Jan  4 21:05:09 2026|01/04/26|21:05:09|01/04/26|2026-01-04|21:05:09|21:05|09:05:09 PM"
        );
        assert_eq!(f("%s %z %Z %%"), "1767560709 +0000 UTC %");
        let err = strftime(m, "%Q").unwrap_err().to_string();
        assert!(err.contains("the directive %Q is not supported"), "{err}");
    }

    #[test]
    fn strptime_is_pythons() {
        let d = strptime("2016-08-14 20:00:12", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(d.to_string(), "2016-08-14 20:00:12");
        let d = strptime("14 aug 16  8:03 pm .5 +0100", "%d %b %y %I:%M %p .%f %z").unwrap();
        assert_eq!(d.to_string(), "2016-08-14 20:03:00.500000+01:00");
        let err = strptime("2016-08-14", "%Y-%m-%d %H")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("time data '2016-08-14' does not match format '%Y-%m-%d %H'"),
            "{err}"
        );
        let err = strptime("2016-08-14x", "%Y-%m-%d").unwrap_err().to_string();
        assert!(err.contains("unconverted data remains: x"), "{err}");
        assert!(strptime("2016-02-30", "%Y-%m-%d").is_err());
        assert!(
            strptime("2016", "%Q")
                .unwrap_err()
                .to_string()
                .contains("bad directive")
        );
    }
}
