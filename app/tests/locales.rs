//! Every console string exists in every language, with the same values to fill in. (leptos_i18n
//! would quietly fall back to English for a key missing in Chinese; this makes it a failure.)

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

const LOCALES: [&str; 2] = ["en", "zh-CN"];

/// Each key (namespace, then dotted path) with the names of the values its text interpolates.
fn keys(locale: &str) -> BTreeMap<String, BTreeSet<String>> {
    let dir = format!("{}/locales/{locale}", env!("CARGO_MANIFEST_DIR"));
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{dir}: {e}")) {
        let path = entry.expect("a directory entry").path();
        let namespace = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a file name");
        let path_text = path.display().to_string();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path_text}: {e}"));
        let json: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path_text}: {e}"));
        flatten(namespace, &json, &mut out, &path_text);
    }
    out
}

fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, BTreeSet<String>>, path: &str) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, value, out, path);
            }
        }
        Value::String(text) => {
            assert!(!text.trim().is_empty(), "{path}: {prefix} is empty");
            out.insert(prefix.to_owned(), variables(text));
        }
        other => panic!("{path}: {prefix} is {other}, not text"),
    }
}

/// The `{{ name }}` placeholders of a text.
fn variables(text: &str) -> BTreeSet<String> {
    text.split("{{")
        .skip(1)
        .filter_map(|rest| rest.split_once("}}"))
        .map(|(name, _)| name.trim().to_owned())
        .collect()
}

#[test]
fn every_key_is_in_every_language_with_the_same_values() {
    let english = keys(LOCALES[0]);
    assert!(english.len() > 50, "the English strings are loaded");
    for locale in &LOCALES[1..] {
        let other = keys(locale);
        let missing: Vec<&String> = english.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<&String> = other.keys().filter(|k| !english.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{locale} lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{locale} has keys English lacks: {extra:?}"
        );
        for (key, names) in &english {
            assert_eq!(&other[key], names, "{locale}: {key} fills in other values");
        }
    }
}

#[test]
fn placeholders_are_read_as_the_generator_reads_them() {
    assert_eq!(
        variables("{{ n }} billable segment(s), {{parts}}"),
        BTreeSet::from(["n".to_owned(), "parts".to_owned()])
    );
    assert!(variables("Placeholders are {1}, {2}").is_empty());
}
