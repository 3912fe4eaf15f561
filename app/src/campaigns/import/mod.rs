//! Importing an uploaded recipient file: every row is read, checked, de-duplicated and written by
//! one COPY, in one transaction with its report, so a file either is stored whole or not at all.
//!
//! Reading and checking run on a blocking thread while the COPY streams into Postgres on the
//! async side; the two overlap, which is what keeps an import close to the speed of a raw COPY.

pub mod sheet;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;
use tokio::sync::mpsc;

use super::model::RejectReason;
use super::rules::RowRules;
use crate::error::AppError;
use sheet::FileProblem;

/// What an import counted; stored as the upload's report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportTotals {
    pub total_rows: i64,
    pub accepted: i64,
    pub units: i64,
    pub rejected: BTreeMap<RejectReason, i64>,
}

impl ImportTotals {
    pub fn count(&self, reason: RejectReason) -> i64 {
        self.rejected.get(&reason).copied().unwrap_or(0)
    }
}

#[derive(Debug)]
pub enum ImportError {
    /// The file cannot be used; the message is for the uploader.
    File(FileProblem),
    Internal(AppError),
}

impl From<AppError> for ImportError {
    fn from(e: AppError) -> Self {
        ImportError::Internal(e)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Internal(e.into())
    }
}

/// Rows are handed to COPY in buffers of about this size.
const CHUNK_BYTES: usize = 256 * 1024;
const PROGRESS_EVERY: Duration = Duration::from_millis(300);

/// Reads `path`, checks every row with `rules` and stores the rows and the report of upload
/// `upload_id`. On any failure nothing of the file is stored and the upload is marked failed
/// with the reason.
pub async fn import(
    pool: &PgPool,
    upload_id: i64,
    path: PathBuf,
    rules: RowRules,
) -> Result<ImportTotals, ImportError> {
    let started = Instant::now();
    let imported = import_rows(pool, upload_id, path, rules).await;
    let outcome = if imported.is_ok() {
        "imported"
    } else {
        "failed"
    };
    crate::metrics::metrics()
        .import_seconds
        .get_or_create(&crate::metrics::OutcomeLabels { outcome })
        .observe(started.elapsed().as_secs_f64());
    imported
}

async fn import_rows(
    pool: &PgPool,
    upload_id: i64,
    path: PathBuf,
    rules: RowRules,
) -> Result<ImportTotals, ImportError> {
    let opted_out = opted_out_numbers(pool).await?;
    let progress = Arc::new(AtomicU64::new(0));
    let (sender, mut chunks) = mpsc::channel::<Vec<u8>>(8);
    let reader = {
        let progress = Arc::clone(&progress);
        // The file's problems are reported in the uploader's language.
        let locale = crate::locale::current();
        tokio::task::spawn_blocking(move || {
            crate::locale::answer_in_blocking(locale, || {
                read_and_encode(&path, upload_id, &rules, &opted_out, &progress, sender)
            })
        })
    };

    let mut tx = pool.begin().await?;
    let mut copy = tx
        .copy_in_raw("COPY recipients (upload_id, row_no, phone, params, units, reason) FROM STDIN")
        .await?;
    let mut last_progress = Instant::now();
    let mut copy_error = None;
    while let Some(chunk) = chunks.recv().await {
        if let Err(e) = copy.send(chunk).await {
            copy_error = Some(e);
            break;
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let processed = progress.load(Ordering::Relaxed) as i64;
            sqlx::query!(
                "UPDATE recipient_uploads SET processed_bytes = $2 WHERE id = $1",
                upload_id,
                processed,
            )
            .execute(pool)
            .await?;
        }
    }
    // Dropping the receiver stops the reader if the COPY failed.
    drop(chunks);
    let read = reader
        .await
        .map_err(|e| AppError::internal(format!("recipient reader panicked: {e}")))?;
    let totals = match (read, copy_error) {
        (Ok(totals), None) => totals,
        (read, copy_error) => {
            copy.abort("import failed").await.ok();
            return Err(match (read, copy_error) {
                (Err(e), _) => e,
                (_, Some(e)) => e.into(),
                (Ok(_), None) => unreachable!("handled above"),
            });
        }
    };
    copy.finish().await?;
    let rejected: serde_json::Map<String, serde_json::Value> = totals
        .rejected
        .iter()
        .map(|(reason, n)| (reason.code().to_string(), (*n).into()))
        .collect();
    let (total_rows, accepted) = (totals.total_rows as i32, totals.accepted as i32);
    let duplicates = totals.count(RejectReason::Duplicate) as i32;
    let opted_out = totals.count(RejectReason::OptedOut) as i32;
    sqlx::query!(
        "UPDATE recipient_uploads
            SET state = 'ready', processed_bytes = file_bytes, total_rows = $2, accepted = $3,
                duplicates = $4, opted_out = $5, rejected = $6, units = $7, finished_at = now()
          WHERE id = $1",
        upload_id,
        total_rows,
        accepted,
        duplicates,
        opted_out,
        serde_json::Value::Object(rejected),
        totals.units,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(totals)
}

/// Records why an upload could not be imported (its rows were never committed).
pub async fn mark_failed(pool: &PgPool, upload_id: i64, reason: &str) -> Result<(), AppError> {
    sqlx::query!(
        "UPDATE recipient_uploads SET state = 'failed', error = $2, finished_at = now()
          WHERE id = $1 AND state = 'processing'",
        upload_id,
        reason,
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Numbers as integers (E.164 digits), to compare millions of rows cheaply.
fn number_key(e164: &str) -> u64 {
    e164.bytes().filter(u8::is_ascii_digit).fold(0u64, |n, d| {
        n.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
    })
}

async fn opted_out_numbers(pool: &PgPool) -> Result<HashSet<u64>, AppError> {
    let phones = sqlx::query_scalar!("SELECT phone FROM opt_outs")
        .fetch_all(pool)
        .await?;
    Ok(phones.iter().map(|p| number_key(p)).collect())
}

fn read_and_encode(
    path: &std::path::Path,
    upload_id: i64,
    rules: &RowRules,
    opted_out: &HashSet<u64>,
    progress: &AtomicU64,
    sender: mpsc::Sender<Vec<u8>>,
) -> Result<ImportTotals, ImportError> {
    let mut totals = ImportTotals::default();
    let mut seen: HashSet<u64> = HashSet::new();
    let mut chunk = Vec::with_capacity(CHUNK_BYTES + 4096);
    let mut message = String::new();
    let prefix = format!("{upload_id}\t");
    let mut first = true;
    let receiver_gone = || FileProblem("the import was stopped".into());
    sheet::read_rows(path, progress, |row, cells| {
        if std::mem::take(&mut first) && is_header(cells[0]) {
            return Ok(());
        }
        totals.total_rows += 1;
        let outcome = rules.check(cells, &mut message).and_then(|recipient| {
            let key = number_key(recipient.phone.as_str());
            if opted_out.contains(&key) {
                Err(RejectReason::OptedOut)
            } else if !seen.insert(key) {
                Err(RejectReason::Duplicate)
            } else {
                Ok(recipient)
            }
        });
        chunk.extend_from_slice(prefix.as_bytes());
        push_int(&mut chunk, row);
        chunk.push(b'\t');
        match outcome {
            Ok(recipient) => {
                totals.accepted += 1;
                totals.units += i64::from(recipient.units);
                push_copy_text(&mut chunk, recipient.phone.as_str());
                chunk.push(b'\t');
                let values = (1..=rules.param_count()).map(|i| cells.get(i).copied().unwrap_or(""));
                push_copy_array(&mut chunk, values);
                chunk.push(b'\t');
                push_int(&mut chunk, recipient.units as u64);
                chunk.extend_from_slice(b"\t\\N\n");
            }
            Err(reason) => {
                *totals.rejected.entry(reason).or_default() += 1;
                push_copy_text(&mut chunk, clip(cells[0]));
                chunk.push(b'\t');
                // What the file said, so the uploader can find and fix the row.
                push_copy_array(&mut chunk, cells.iter().skip(1).copied());
                chunk.extend_from_slice(b"\t0\t");
                push_int(&mut chunk, reason.code() as u64);
                chunk.push(b'\n');
            }
        }
        if chunk.len() >= CHUNK_BYTES {
            let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK_BYTES + 4096));
            sender.blocking_send(full).map_err(|_| receiver_gone())?;
        }
        Ok(())
    })
    .map_err(ImportError::File)?;
    if totals.total_rows == 0 {
        return Err(ImportError::File(FileProblem(crate::tr!(
            bulk.file_problem.no_rows
        ))));
    }
    if !chunk.is_empty() {
        sender
            .blocking_send(chunk)
            .map_err(|_| ImportError::File(receiver_gone()))?;
    }
    Ok(totals)
}

/// A first row of words is the header (the standard template has one). Scientific notation
/// (1.38E+10) has a letter too, but is a number that lost digits, so a data row.
fn is_header(first_cell: &str) -> bool {
    first_cell
        .chars()
        .any(|c| c.is_alphabetic() && !matches!(c, 'E' | 'e'))
        || (first_cell.chars().any(char::is_alphabetic)
            && !first_cell.chars().any(|c| c.is_ascii_digit()))
}

/// Rejected cells are kept for the report, but not without bound.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

fn push_int(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// A value in COPY's text format: backslash, tab and line breaks escaped.
fn push_copy_text(out: &mut Vec<u8>, text: &str) {
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

/// A `text[]` literal (`{"a","b"}`), itself escaped for COPY's text format.
fn push_copy_array<'a>(out: &mut Vec<u8>, values: impl IntoIterator<Item = &'a str>) {
    out.push(b'{');
    for (i, value) in values.into_iter().take(20).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        for c in clip(value.trim()).chars() {
            match c {
                // Escaped once for the array literal, then its backslash once more for COPY.
                '"' => out.extend_from_slice(b"\\\\\""),
                '\\' => out.extend_from_slice(b"\\\\\\\\"),
                _ => {
                    let mut buf = [0u8; 4];
                    push_copy_text(out, c.encode_utf8(&mut buf));
                }
            }
        }
        out.push(b'"');
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_misread() {
        let mut out = Vec::new();
        push_copy_text(&mut out, "a\tb\\c\nd");
        assert_eq!(out, b"a\\tb\\\\c\\nd");
        let mut out = Vec::new();
        push_copy_array(&mut out, ["x", "say \"hi\"", "a\\b", ""]);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"x","say \\"hi\\"","a\\\\b",""}"#
        );
    }

    #[test]
    fn numbers_compare_by_digits() {
        assert_eq!(number_key("+8613800000000"), 8_613_800_000_000);
        assert_ne!(number_key("+8613800000000"), number_key("+8613800000001"));
    }
}
