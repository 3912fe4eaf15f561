//! Generates the `i18n` module from `locales/<language>/<namespace>.json` (leptos_i18n): the
//! console's strings in English and Simplified Chinese, checked at compile time. A namespace per
//! area keeps each file small enough to review beside its pages.

use std::path::PathBuf;

use leptos_i18n_build::{Config, ParseOptions, TranslationsInfos};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=Cargo.toml");
    println!("cargo::rerun-if-changed=locales/en");
    let mut namespaces: Vec<String> = std::fs::read_dir("locales/en")?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            (path.extension()? == "json").then(|| path.file_stem()?.to_str().map(str::to_owned))?
        })
        .collect();
    namespaces.sort();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").ok_or("OUT_DIR unset")?).join("i18n");
    // Strings with values are also needed as plain text (attributes, titles).
    let config = Config::new("en")?
        .add_locale("zh-CN")?
        .add_namespaces(&namespaces)?
        .parse_options(ParseOptions::new().interpolate_display(true));
    let translations = TranslationsInfos::parse(config)?;
    translations.emit_diagnostics();
    translations.rerun_if_locales_changed();
    translations.generate_i18n_module(out)?;
    Ok(())
}
