//! `make bench-import`: imports a generated 30 MB CSV (~1.5 M rows) and a 1 M-row XLSX end to
//! end (read, check, de-duplicate, store) and, in the same run, a raw `COPY` of the same rows
//! into an unindexed table: the floor any import is measured against. Medians of three runs.
//! The last line is JSON for scripts.

mod fixtures;

use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use app::campaigns::import::import;
use app::campaigns::repo::create_upload;
use app::campaigns::rules::Source;
use app::campaigns::service::source;
use rust_xlsxwriter::Workbook;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::PgPool;

const CSV_TARGET_BYTES: u64 = 30 * 1000 * 1000;
const XLSX_ROWS: u32 = 1_000_000;
const RUNS: usize = 3;

#[tokio::main]
async fn main() {
    let url = std::env::var("DATABASE_URL").expect("DATABASE_URL (make bench-import sets it)");
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
        .expect("connect");
    herald::migrate(&pool).await.expect("migrate");
    let source = catalogue(&pool).await;
    let dir = std::env::temp_dir().join("herald-bench");
    std::fs::create_dir_all(&dir).expect("bench dir");

    let csv = dir.join("recipients.csv");
    let rows = write_csv(&csv);
    let csv_bytes = std::fs::metadata(&csv).expect("csv").len();
    let xlsx = dir.join("recipients.xlsx");
    write_xlsx(&xlsx);
    println!(
        "generated {rows} CSV rows ({:.1} MB) and {XLSX_ROWS} XLSX rows ({:.1} MB)",
        csv_bytes as f64 / 1e6,
        std::fs::metadata(&xlsx).expect("xlsx").len() as f64 / 1e6
    );

    let copy_s = median(RUNS, || raw_copy(&pool, &csv)).await;
    let csv_s = median(RUNS, || import_once(&pool, &source, &csv, rows)).await;
    let xlsx_s = median(RUNS, || {
        import_once(&pool, &source, &xlsx, u64::from(XLSX_ROWS))
    })
    .await;
    let peak_rss_mb = peak_rss_mb();

    println!("raw COPY of {rows} rows (unindexed table): {copy_s:.3} s");
    println!(
        "CSV import (30 MB, {rows} rows):          {csv_s:.3} s  ({:.2}x raw COPY, goal <= 3x)",
        csv_s / copy_s
    );
    println!(
        "XLSX import ({XLSX_ROWS} rows):             {xlsx_s:.3} s  ({:.2}x raw COPY, goal <= 6x)",
        xlsx_s / copy_s
    );
    println!("peak RSS: {peak_rss_mb:.0} MB (goal < 300 MB)");
    println!(
        "{}",
        serde_json::json!({
            "bench": "import",
            "csv_s": round(csv_s),
            "xlsx_s": round(xlsx_s),
            "copy_s": round(copy_s),
            "csv_ratio": round(csv_s / copy_s),
            "xlsx_ratio": round(xlsx_s / copy_s),
            "peak_rss_mb": peak_rss_mb.round(),
        })
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

async fn median<F, Fut>(runs: usize, mut run: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(run().await);
    }
    times.sort_by(f64::total_cmp);
    times[runs / 2]
}

/// The application, signature and template a marketer would pick, approved.
async fn catalogue(pool: &PgPool) -> Source {
    sqlx::query(
        "TRUNCATE recipients, tasks, task_reservations, recipient_uploads, templates, signatures,
                  documents, applications, opt_outs, audit_log, users CASCADE",
    )
    .execute(pool)
    .await
    .expect("reset bench database");
    let user: i64 = sqlx::query_scalar(
        "INSERT INTO users (email, display_name, password_hash, roles)
         VALUES ('bench@example.com', 'Bench', 'x', ARRAY['marketer']) RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("user");
    let application: i64 = sqlx::query_scalar(
        "INSERT INTO applications (sdk_app_id, name) VALUES (1400000001, 'Bench') RETURNING id",
    )
    .fetch_one(pool)
    .await
    .expect("application");
    let signature = fixtures::approved_signature(pool, user).await;
    let template: i64 = sqlx::query_scalar(
        "INSERT INTO templates (name, sms_type, content, status, submitted_by)
         VALUES ('Shipped', 2, 'Your order {1} has shipped.', 'approved', $1) RETURNING id",
    )
    .bind(user)
    .fetch_one(pool)
    .await
    .expect("template");
    source(
        pool,
        &application.to_string(),
        &signature.to_string(),
        &template.to_string(),
    )
    .await
    .expect("source")
}

fn mobile(i: u64) -> u64 {
    13_000_000_000 + (i * 7_919) % 6_999_999_999
}

/// A header, then `mobile,variable` rows until the file reaches 30 MB.
fn write_csv(path: &Path) -> u64 {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("csv file"));
    let mut written = out.write(b"mobile,order\n").expect("write") as u64;
    let mut rows = 0;
    while written < CSV_TARGET_BYTES {
        let line = format!("{},A{:07}\n", mobile(rows), rows);
        out.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
        rows += 1;
    }
    out.flush().expect("flush");
    rows
}

fn write_xlsx(path: &Path) {
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .expect("constant-memory sheet");
    sheet.write_string(0, 0, "mobile").expect("cell");
    sheet.write_string(0, 1, "order").expect("cell");
    for row in 0..XLSX_ROWS {
        let i = u64::from(row);
        sheet
            .write_string(row + 1, 0, mobile(i).to_string())
            .expect("cell");
        sheet
            .write_string(row + 1, 1, format!("A{i:07}"))
            .expect("cell");
    }
    workbook.save(path).expect("save xlsx");
}

/// The floor: the same CSV streamed by COPY into a table with no index or check.
async fn raw_copy(pool: &PgPool, csv: &PathBuf) -> f64 {
    sqlx::query("DROP TABLE IF EXISTS bench_raw_copy")
        .execute(pool)
        .await
        .expect("drop");
    sqlx::query("CREATE TABLE bench_raw_copy (mobile text, variable text)")
        .execute(pool)
        .await
        .expect("create");
    let started = Instant::now();
    let mut copy = pool
        .copy_in_raw("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .expect("copy");
    let mut file = std::fs::File::open(csv).expect("open csv");
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        copy.send(&buf[..n]).await.expect("send");
    }
    copy.finish().await.expect("finish");
    let seconds = started.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw_copy")
        .execute(pool)
        .await
        .expect("drop");
    seconds
}

async fn import_once(pool: &PgPool, source: &Source, file: &Path, rows: u64) -> f64 {
    sqlx::query("TRUNCATE recipients")
        .execute(pool)
        .await
        .expect("truncate");
    let user: i64 = sqlx::query_scalar("SELECT id FROM users")
        .fetch_one(pool)
        .await
        .expect("user");
    let bytes = std::fs::metadata(file).expect("file").len() as i64;
    let started = Instant::now();
    let upload = create_upload(pool, source, "bench", bytes, user)
        .await
        .expect("upload");
    let totals = import(pool, upload, file.to_path_buf(), source.rules())
        .await
        .expect("import");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(totals.total_rows as u64, rows, "every row read");
    assert_eq!(
        totals.accepted as u64, rows,
        "every generated row is valid and unique"
    );
    seconds
}

/// The most memory this process held at once (Linux `VmHWM`).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
