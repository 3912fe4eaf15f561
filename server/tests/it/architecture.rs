//! Holds the code to the map in `docs/architecture.md`: every source file has a layer there, a
//! file imports only its own layer or lower ones, no files import each other in a loop, and none
//! grows past `MAX_LINES`. The layers are read from the document itself, so the map and this
//! test cannot drift apart.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 800;

/// Layers from the bottom up; a file may import its own layer and those before it.
const LAYERS: [&str; 6] = ["foundation", "model", "repo", "service", "door", "routes"];

/// One source file: its module path (`dispatch/queue`, `server/http`; `lib` for the app's
/// root) and its text without comments, string contents and test modules.
struct Source {
    module: String,
    path: PathBuf,
    lines: usize,
    code: String,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("server/ sits in the workspace")
        .to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a/b.rs` is `a/b`, `a/mod.rs` is `a`; the app's root is `lib`, the server's files carry
/// `server/` in front.
fn module_of(root: &Path, file: &Path, prefix: &str) -> String {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let module = parts.join("/");
    if prefix.is_empty() {
        module
    } else {
        format!("{prefix}/{module}")
    }
}

/// Drops comments, the contents of string and char literals, and `#[cfg(test)] mod … { … }`
/// blocks (tests may reach anywhere), keeping the line count.
fn strip(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').unwrap_or(rest.len());
            i += end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map(|e| e + 2).unwrap_or(rest.len());
            out.extend(rest[..end].chars().filter(|c| *c == '\n'));
            i += end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let body = 2 + hashes;
            let end = rest[body..]
                .find(&close)
                .map(|e| body + e + close.len())
                .unwrap_or(rest.len());
            out.push_str("\"\"");
            out.extend(rest[..end].chars().filter(|c| *c == '\n'));
            i += end;
        } else if rest.starts_with('"') {
            let mut j = 1;
            while j < rest.len() && rest.as_bytes()[j] != b'"' {
                j += if rest.as_bytes()[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(rest.len());
            out.push_str("\"\"");
            out.extend(rest[..end].chars().filter(|c| *c == '\n'));
            i += end;
        } else if rest.starts_with('\'') && is_char_literal(rest) {
            let skip = 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
            let end = rest[skip..]
                .find('\'')
                .map(|e| skip + e + 1)
                .unwrap_or(rest.len());
            out.push_str("' '");
            i += end;
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    drop_test_modules(&out)
}

/// `'a'`, `'【'`, `'\n'`, `'\''` rather than a lifetime (`'a`).
fn is_char_literal(rest: &str) -> bool {
    let mut chars = rest.chars().skip(1);
    match chars.next() {
        Some('\\') => rest[2..].find('\'').is_some_and(|end| end <= 8),
        Some(_) => chars.next() == Some('\''),
        None => false,
    }
}

fn drop_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        let after = &rest[at + "#[cfg(test)]".len()..];
        let trimmed = after.trim_start();
        if !(trimmed.starts_with("mod ") || trimmed.starts_with("pub mod "))
            || !trimmed[..trimmed.find('\n').unwrap_or(trimmed.len())].contains('{')
        {
            out.push_str(&rest[..at + "#[cfg(test)]".len()]);
            rest = after;
            continue;
        }
        out.push_str(&rest[..at]);
        let open = at + rest[at..].find('{').unwrap();
        let mut depth = 0;
        let mut end = rest.len();
        for (k, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.extend(rest[at..end].chars().filter(|c| *c == '\n'));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn sources() -> Vec<Source> {
    let workspace = workspace();
    let mut all = Vec::new();
    for (dir, prefix) in [("app/src", ""), ("server/src", "server")] {
        let root = workspace.join(dir);
        let mut files = Vec::new();
        rust_files(&root, &mut files);
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            all.push(Source {
                module: module_of(&root, &path, prefix),
                lines: text.lines().count(),
                code: strip(&text),
                path,
            });
        }
    }
    all
}

/// The layers block of the document: `layer: pattern pattern …`. A pattern names one module
/// (`dispatch/queue`), the modules inside a folder (`routes/*`), or one part of every domain
/// (`*/model`); the first kind wins over the second, the second over the third.
fn layer_patterns() -> Vec<(usize, String)> {
    let doc = std::fs::read_to_string(workspace().join("docs/architecture.md"))
        .expect("docs/architecture.md is the map this test holds the code to");
    let block = doc
        .split("```layers")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("docs/architecture.md has a ```layers block");
    let mut patterns = Vec::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (layer, list) = line.split_once(':').expect("`layer: patterns`");
        let rank = LAYERS
            .iter()
            .position(|l| *l == layer.trim())
            .unwrap_or_else(|| panic!("unknown layer `{layer}` in docs/architecture.md"));
        patterns.extend(list.split_whitespace().map(|p| (rank, p.to_owned())));
    }
    patterns
}

/// How closely `pattern` names `module`: 3 by name, 2 by folder (the deeper the closer), 1 as
/// a domain's part; `None` if it does not.
fn closeness(pattern: &str, module: &str) -> Option<(u8, usize)> {
    if pattern == module {
        return Some((3, 0));
    }
    if let Some(folder) = pattern.strip_suffix("/*") {
        return module
            .strip_prefix(folder)
            .is_some_and(|rest| rest.starts_with('/'))
            .then_some((2, folder.len()));
    }
    let part = pattern.strip_prefix("*/")?;
    // A domain's part: `campaigns/model`; the server's files are named one by one.
    let (domain, rest) = module.split_once('/')?;
    (domain != "server" && (rest == part || rest.starts_with(&format!("{part}/"))))
        .then_some((1, 0))
}

fn layer_of(patterns: &[(usize, String)], module: &str) -> Option<usize> {
    patterns
        .iter()
        .filter_map(|(rank, p)| closeness(p, module).map(|c| (c, *rank)))
        .max_by_key(|(c, _)| *c)
        .map(|(_, rank)| rank)
}

/// A `mod.rs` that only declares its domain's files belongs to no layer of its own.
fn only_declares_modules(source: &Source) -> bool {
    source.path.file_name().is_some_and(|f| f == "mod.rs")
        && source.code.lines().map(str::trim).all(|line| {
            line.is_empty()
                || line.starts_with("#[cfg(")
                || line.starts_with("#![")
                || (line.ends_with(';')
                    && (line.starts_with("mod ") || line.starts_with("pub mod ")))
        })
}

/// The files a source names: every `crate::…`, `super::…` and (from the server) `app::…` path,
/// `use` groups included, resolved to the longest module prefix that is a file.
fn imports(
    source: &Source,
    modules: &BTreeSet<String>,
    macros: &HashMap<String, String>,
) -> BTreeSet<String> {
    let server = source.module.starts_with("server/");
    let mut found = BTreeSet::new();
    let code = &source.code;
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        if !code.is_char_boundary(i) {
            i += 1;
            continue;
        }
        let starts_word = i == 0
            || !(bytes[i - 1].is_ascii_alphanumeric()
                || bytes[i - 1] == b'_'
                || bytes[i - 1] == b':');
        let rest = &code[i..];
        let root = ["crate::", "super::", "app::"]
            .into_iter()
            .find(|r| starts_word && rest.starts_with(r));
        let Some(root) = root else {
            i += 1;
            continue;
        };
        let base: Vec<String> = match (root, server) {
            ("crate::", false) | ("app::", true) => vec![],
            ("crate::", true) => vec!["server".into()],
            ("super::", _) => {
                let mut parts: Vec<String> = source.module.split('/').map(str::to_owned).collect();
                parts.pop();
                parts
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let (paths, used) = use_tree(&rest[root.len()..]);
        for path in paths {
            let mut full = base.clone();
            full.extend(path);
            if let Some(target) = resolve(&full, modules, macros) {
                if target != source.module {
                    found.insert(target);
                }
            }
        }
        i += root.len() + used.max(1);
    }
    found
}

/// Reads `a::b::{c, d::{e}}` into its paths; answers how much it read.
fn use_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    fn tree(text: &str, at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let bytes = text.as_bytes();
        let mut path = prefix;
        if text[*at..].starts_with('{') {
            group(text, at, path, out);
            return;
        }
        loop {
            let start = *at;
            while *at < bytes.len() && (bytes[*at].is_ascii_alphanumeric() || bytes[*at] == b'_') {
                *at += 1;
            }
            if *at > start {
                path.push(text[start..*at].to_owned());
            }
            if text[*at..].starts_with("::{") {
                *at += 2;
                group(text, at, path, out);
                return;
            } else if text[*at..].starts_with("::") {
                *at += 2;
            } else {
                out.push(path);
                return;
            }
        }
    }
    /// `{x, y::z}` at `at`, each item under `prefix`.
    fn group(text: &str, at: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let bytes = text.as_bytes();
        *at += 1;
        loop {
            while *at < bytes.len() && bytes[*at].is_ascii_whitespace() {
                *at += 1;
            }
            if *at >= bytes.len() {
                return;
            }
            if bytes[*at] == b'}' {
                *at += 1;
                return;
            }
            tree(text, at, prefix.clone(), out);
            while *at < bytes.len() && bytes[*at] != b',' && bytes[*at] != b'}' {
                *at += 1;
            }
            if *at < bytes.len() && bytes[*at] == b',' {
                *at += 1;
            }
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    tree(text, &mut at, Vec::new(), &mut out);
    (out, at)
}

fn resolve(
    path: &[String],
    modules: &BTreeSet<String>,
    macros: &HashMap<String, String>,
) -> Option<String> {
    let path: Vec<&str> = path
        .iter()
        .map(String::as_str)
        .filter(|p| *p != "self")
        .collect();
    for len in (1..=path.len()).rev() {
        let candidate = path[..len].join("/");
        if modules.contains(&candidate) {
            return Some(candidate);
        }
    }
    let first = *path.first()?;
    if let Some(file) = macros.get(first) {
        return Some(file.clone());
    }
    match first {
        // The console's strings, generated into the root by the build script.
        "i18n" => Some("i18n".into()),
        "server" => Some("server/lib".into()),
        _ => Some("lib".into()),
    }
}

struct Map {
    sources: Vec<Source>,
    edges: BTreeMap<String, BTreeSet<String>>,
    layers: HashMap<String, usize>,
}

fn map() -> Map {
    let sources = sources();
    let patterns = layer_patterns();
    let mut modules: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    modules.insert("i18n".into());
    let mut macros = HashMap::new();
    for source in &sources {
        for part in source.code.split("macro_rules!").skip(1) {
            let name: String = part
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            macros.insert(name, source.module.clone());
        }
    }
    let edges = sources
        .iter()
        .map(|s| (s.module.clone(), imports(s, &modules, &macros)))
        .collect();
    let layers = modules
        .iter()
        .filter_map(|m| layer_of(&patterns, m).map(|rank| (m.clone(), rank)))
        .collect();
    Map {
        sources,
        edges,
        layers,
    }
}

#[test]
fn every_source_file_has_a_layer_in_the_map() {
    let map = map();
    let missing: Vec<&str> = map
        .sources
        .iter()
        .filter(|s| !only_declares_modules(s))
        .map(|s| s.module.as_str())
        .filter(|m| !map.layers.contains_key(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "give these files a layer in docs/architecture.md: {missing:?}"
    );
}

#[test]
fn no_file_imports_a_higher_layer() {
    let map = map();
    let mut upward = Vec::new();
    for (from, targets) in &map.edges {
        let Some(&own) = map.layers.get(from) else {
            continue;
        };
        for to in targets {
            if let Some(&theirs) = map.layers.get(to) {
                if theirs > own {
                    upward.push(format!(
                        "{from} ({}) imports {to} ({})",
                        LAYERS[own], LAYERS[theirs]
                    ));
                }
            }
        }
    }
    assert!(
        upward.is_empty(),
        "imports against docs/architecture.md:\n{}",
        upward.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_loop() {
    let map = map();
    let loops = strongly_connected(&map.edges);
    assert!(
        loops.is_empty(),
        "files that import each other in a loop: {loops:?}"
    );
}

#[test]
fn no_domain_reaches_back_into_a_domain_that_uses_it() {
    // A domain (a folder of app/src) is a stack of slices, one per layer. Between slices, not
    // only between files, there is no loop: if dispatch's repositories use stats' counters,
    // stats' repositories use nothing of dispatch's. (Slices of different layers are ordered by
    // the layers already: stats' model may read dispatch's model while dispatch's recording
    // feeds stats' counters.)
    let map = map();
    let slice = |module: &str| {
        let (folder, _) = module.split_once('/')?;
        let layer = *map.layers.get(module)?;
        (folder != "server" && folder != "routes").then(|| format!("{folder} {}", LAYERS[layer]))
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut because: BTreeMap<(String, String), String> = BTreeMap::new();
    for (from, targets) in &map.edges {
        for to in targets {
            if let (Some(a), Some(b)) = (slice(from), slice(to)) {
                if a != b {
                    graph.entry(a.clone()).or_default().insert(b.clone());
                    because
                        .entry((a, b))
                        .or_insert_with(|| format!("{from} -> {to}"));
                }
            }
        }
    }
    let loops: Vec<String> = strongly_connected(&graph)
        .into_iter()
        .map(|group| {
            let inside: Vec<&String> = because
                .iter()
                .filter(|((a, b), _)| group.contains(a) && group.contains(b))
                .map(|(_, why)| why)
                .collect();
            format!("{group:?}, through {inside:?}")
        })
        .collect();
    assert!(
        loops.is_empty(),
        "domains that use each other in a loop:\n{}",
        loops.join("\n")
    );
}

#[test]
fn no_source_file_grows_past_the_limit() {
    let long: Vec<String> = sources()
        .into_iter()
        .filter(|s| s.lines > MAX_LINES)
        .map(|s| format!("{} ({} lines)", s.path.display(), s.lines))
        .collect();
    assert!(
        long.is_empty(),
        "split these files by what they do (at most {MAX_LINES} lines): {long:?}"
    );
}

/// The groups of more than one node that reach each other (Tarjan's algorithm).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: HashMap<&'a str, usize>,
        low: HashMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        groups: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(top) = self.stack.pop() {
                    self.on_stack.remove(top);
                    group.push(top.to_owned());
                    if top == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.groups.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.groups
}

#[test]
fn the_reader_sees_the_imports_written_in_every_form() {
    let modules: BTreeSet<String> = ["a", "a/b", "c", "c/d", "lib"].map(String::from).into();
    let source = Source {
        module: "c/e".into(),
        path: PathBuf::from("c/e.rs"),
        lines: 1,
        code: strip(
            "use crate::{a::b::{X, Y}, c};\n// crate::a is only a comment\nfn f() { super::d::g(\"crate::lib\"); }\n",
        ),
    };
    let found = imports(&source, &modules, &HashMap::new());
    assert_eq!(found, ["a/b", "c", "c/d"].map(String::from).into());
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("x".to_owned(), ["y".to_owned()].into()),
        ("y".to_owned(), ["x".to_owned()].into()),
        ("z".to_owned(), ["x".to_owned()].into()),
    ]
    .into();
    assert_eq!(
        strongly_connected(&graph),
        vec![vec!["x".to_owned(), "y".to_owned()]]
    );
}
