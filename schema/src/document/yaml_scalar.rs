//! Resolves YAML scalars to JSON values the way the reference loader does (YAML 1.1
//! implicit types, as in PyYAML's `safe_load`), so a YAML schema means the same thing
//! in every implementation: `yes`/`on` are booleans, `1_000` and `0x1F` are integers,
//! `1.5` is a number, `~` is null, and dates or `.inf` are not JSON at all.

use std::sync::OnceLock;

use regex::Regex;
use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

/// Why a scalar has no JSON value.
#[derive(Debug)]
pub(crate) struct NotJson;

/// The JSON value of a scalar with the given style and explicit tag.
pub(crate) fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Value, NotJson> {
    match tag {
        Some(tag) => resolve_tagged(text, tag),
        None if style == ScalarStyle::Plain => resolve_plain(text),
        None => Ok(Value::String(text.to_string())),
    }
}

fn resolve_tagged(text: &str, tag: &Tag) -> Result<Value, NotJson> {
    if tag.handle == "!" && tag.suffix.is_empty() {
        return Ok(Value::String(text.to_string()));
    }
    if !tag.is_yaml_core_schema() {
        return Err(NotJson);
    }
    match tag.suffix.as_str() {
        "str" => Ok(Value::String(text.to_string())),
        "null" => Ok(Value::Null),
        "bool" => parse_bool(text).map(Value::Bool).ok_or(NotJson),
        "int" => parse_int(text),
        "float" => parse_float(text),
        _ => Err(NotJson),
    }
}

fn resolve_plain(text: &str) -> Result<Value, NotJson> {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Ok(Value::Null);
    }
    if let Some(b) = parse_bool(text) {
        return Ok(Value::Bool(b));
    }
    if starts_like_a_number(text) {
        let patterns = patterns();
        if matches(&patterns.int, text) {
            return parse_int(text);
        }
        if matches(&patterns.float, text) {
            return parse_float(text);
        }
        if matches(&patterns.timestamp, text) {
            return Err(NotJson);
        }
    }
    if text == "=" || text == "<<" {
        return Err(NotJson);
    }
    Ok(Value::String(text.to_string()))
}

/// Whether `text` starts as every integer, float and timestamp pattern below does: with
/// a digit, a sign or a dot. Names (most plain scalars in a schema) skip the patterns.
fn starts_like_a_number(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
}

struct Patterns {
    int: Option<Regex>,
    float: Option<Regex>,
    timestamp: Option<Regex>,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| Patterns {
        int: compile(
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
        ),
        float: compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        ),
        timestamp: compile(
            r"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$",
        ),
    })
}

/// Compiles one of the fixed patterns above. They are constant and covered by the
/// unit tests; should one ever fail to compile it matches nothing rather than panic.
fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern).ok()
}

fn matches(pattern: &Option<Regex>, text: &str) -> bool {
    pattern.as_ref().is_some_and(|regex| regex.is_match(text))
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => Some(true),
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => Some(false),
        _ => None,
    }
}

/// Splits an optional sign off a numeric literal with its `_` separators removed.
fn sign_and_digits(text: &str) -> (bool, String) {
    let cleaned: String = text.chars().filter(|c| *c != '_').collect();
    match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (
            false,
            cleaned.strip_prefix('+').unwrap_or(&cleaned).to_string(),
        ),
    }
}

fn parse_int(text: &str) -> Result<Value, NotJson> {
    let (negative, digits) = sign_and_digits(text);
    let magnitude: i128 = if digits == "0" {
        0
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i128::from_str_radix(bin, 2).map_err(|_| NotJson)?
    } else if let Some(hex) = digits.strip_prefix("0x") {
        i128::from_str_radix(hex, 16).map_err(|_| NotJson)?
    } else if digits.contains(':') {
        sexagesimal(&digits)?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i128::from_str_radix(&digits, 8).map_err(|_| NotJson)?
    } else {
        digits.parse::<i128>().map_err(|_| NotJson)?
    };
    let value = if negative { -magnitude } else { magnitude };
    int_value(value)
}

fn sexagesimal(digits: &str) -> Result<i128, NotJson> {
    digits.split(':').try_fold(0i128, |acc, part| {
        let part: i128 = part.parse().map_err(|_| NotJson)?;
        acc.checked_mul(60)
            .and_then(|v| v.checked_add(part))
            .ok_or(NotJson)
    })
}

fn int_value(value: i128) -> Result<Value, NotJson> {
    if let Ok(v) = i64::try_from(value) {
        return Ok(Value::from(v));
    }
    if let Ok(v) = u64::try_from(value) {
        return Ok(Value::from(v));
    }
    // Beyond 64 bits JSON numbers lose precision either way.
    Number::from_f64(value as f64)
        .map(Value::Number)
        .ok_or(NotJson)
}

fn parse_float(text: &str) -> Result<Value, NotJson> {
    let (negative, digits) = sign_and_digits(text);
    let digits = digits.to_ascii_lowercase();
    if digits == ".inf" || digits == ".nan" {
        return Err(NotJson);
    }
    let magnitude = if digits.contains(':') {
        let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
        let base = sexagesimal(whole)? as f64;
        base + decimal(&format!("0.{fraction}"))?
    } else {
        decimal(&digits)?
    };
    let value = if negative { -magnitude } else { magnitude };
    Number::from_f64(value).map(Value::Number).ok_or(NotJson)
}

/// Parses `1.`, `.5`, `1.e+3` and friends, which Rust's float parser is stricter about.
fn decimal(digits: &str) -> Result<f64, NotJson> {
    let mut normalized = String::with_capacity(digits.len() + 2);
    if digits.starts_with('.') {
        normalized.push('0');
    }
    normalized.push_str(&digits.replace(".e", ".0e"));
    if normalized.ends_with('.') {
        normalized.push('0');
    }
    normalized.parse::<f64>().map_err(|_| NotJson)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Option<Value> {
        resolve_plain(text).ok()
    }

    #[test]
    fn yaml_1_1_implicit_types() {
        assert_eq!(plain("yes"), Some(Value::Bool(true)));
        assert_eq!(plain("Off"), Some(Value::Bool(false)));
        assert_eq!(plain("~"), Some(Value::Null));
        assert_eq!(plain("1_000"), Some(Value::from(1000)));
        assert_eq!(plain("0x1F"), Some(Value::from(31)));
        assert_eq!(plain("010"), Some(Value::from(8)));
        assert_eq!(plain("1:30"), Some(Value::from(90)));
        assert_eq!(plain("-0b101"), Some(Value::from(-5)));
        assert_eq!(plain("1.5"), Some(Value::from(1.5)));
        assert_eq!(plain("1."), Some(Value::from(1.0)));
        assert_eq!(plain(".5"), Some(Value::from(0.5)));
        assert_eq!(plain("1e5"), Some(Value::from("1e5")));
        assert_eq!(plain("string"), Some(Value::from("string")));
        assert_eq!(plain("boolean?"), Some(Value::from("boolean?")));
    }

    #[test]
    fn values_without_json_meaning_are_rejected() {
        assert!(plain(".inf").is_none());
        assert!(plain(".NaN").is_none());
        assert!(plain("2001-12-14").is_none());
        assert!(plain("2001-12-14t21:59:43.10-05:00").is_none());
    }

    proptest::proptest! {
        /// The shortcut past the patterns never skips text one of them would match.
        #[test]
        fn only_text_starting_like_a_number_matches_a_pattern(
            text in "[-+.:_0-9a-fA-FxXoObBtTzZ nNiI]{0,24}"
        ) {
            let patterns = patterns();
            let any = [&patterns.int, &patterns.float, &patterns.timestamp]
                .into_iter()
                .any(|pattern| matches(pattern, &text));
            proptest::prop_assert!(!any || starts_like_a_number(&text), "{text:?}");
        }
    }

    #[test]
    fn fixed_patterns_compile() {
        assert!(matches(&patterns().int, "12"));
        assert!(matches(&patterns().float, "1.0"));
        assert!(matches(&patterns().timestamp, "2002-12-14"));
    }
}
