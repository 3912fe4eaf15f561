//! The query data in `.sqlx` is what the crates were checked against when they compiled
//! offline. Here every committed query is described afresh by a database migrated from
//! `migrations/`: a changed column, type or nullability fails until `make sqlx-prepare` runs.

use std::path::PathBuf;

use serde_json::Value;
use sqlx::{Column, Executor, PgPool, TypeInfo};

fn query_data() -> Vec<(PathBuf, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.sqlx");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect(".sqlx holds the checked queries' data")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let data = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            (path, data)
        })
        .collect()
}

/// `INT8`, `Int8`, `INT4[]` and `Int4Array` alike.
fn type_key(name: &str) -> String {
    name.replace("[]", "ARRAY")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_uppercase()
}

fn committed_type(value: &Value) -> String {
    match value {
        Value::String(name) => type_key(name),
        other => type_key(&other.to_string()),
    }
}

#[sqlx::test(migrator = "herald::MIGRATOR")]
async fn the_committed_query_data_matches_the_schema(pool: PgPool) {
    let queries = query_data();
    assert!(!queries.is_empty(), "no checked queries in .sqlx");
    let mut stale = Vec::new();
    for (path, data) in &queries {
        let sql = data["query"].as_str().expect("each file names its query");
        let name = path.file_name().unwrap().to_string_lossy();
        let live = match (&pool).describe(sql).await {
            Ok(live) => live,
            Err(err) => {
                stale.push(format!("{name}: {err}"));
                continue;
            }
        };
        let describe = &data["describe"];
        let columns: Vec<(String, String)> = describe["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    committed_type(&c["type_info"]),
                )
            })
            .collect();
        let live_columns: Vec<(String, String)> = live
            .columns()
            .iter()
            .map(|c| (c.name().to_owned(), type_key(c.type_info().name())))
            .collect();
        if columns != live_columns {
            stale.push(format!("{name}: columns {columns:?}, now {live_columns:?}"));
        }
        let nullable: Vec<Option<bool>> = describe["nullable"]
            .as_array()
            .unwrap()
            .iter()
            .map(Value::as_bool)
            .collect();
        let live_nullable: Vec<Option<bool>> = (0..live.columns().len())
            .map(|i| live.nullable(i))
            .collect();
        if nullable != live_nullable {
            stale.push(format!(
                "{name}: nullable {nullable:?}, now {live_nullable:?}"
            ));
        }
        let parameters: Vec<String> = describe["parameters"]["Left"]
            .as_array()
            .map(|p| p.iter().map(committed_type).collect())
            .unwrap_or_default();
        let live_parameters: Vec<String> = match live.parameters() {
            Some(sqlx::Either::Left(types)) => types.iter().map(|t| type_key(t.name())).collect(),
            _ => Vec::new(),
        };
        if parameters != live_parameters {
            stale.push(format!(
                "{name}: parameters {parameters:?}, now {live_parameters:?}"
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "run `make sqlx-prepare`; the schema no longer matches:\n{}",
        stale.join("\n")
    );
}
