//! Reading the rows of an uploaded recipient file one at a time, whatever it is: CSV in UTF-8
//! (with or without BOM), GBK/GB18030 or UTF-16, XLSX, or XLS. The format is told by the file's
//! content, never by its name.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{DataType, Reader, SheetType, Xls, Xlsx};
use encoding_rs::{Decoder, Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

/// What went wrong with the file, in words the uploader can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem(pub String);

impl FileProblem {
    fn new(message: impl Into<String>) -> Self {
        FileProblem(message.into())
    }
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Xls,
}

pub fn sniff(head: &[u8]) -> Format {
    if head.starts_with(b"PK\x03\x04") {
        Format::Xlsx
    } else if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        Format::Xls
    } else {
        Format::Csv
    }
}

/// Limits that keep a hostile spreadsheet from exhausting memory or time. The parts calamine
/// reads whole (shared strings, styles, workbook) are measured by decompressing them before it
/// does; worksheets are streamed, so only their declared size and compression ratio are checked.
const MAX_WHOLE_PART_BYTES: u64 = 100 * 1024 * 1024;
const MAX_SHEET_BYTES: u64 = 2 * 1024 * 1024 * 1024;
const MAX_COMPRESSION_RATIO: u64 = 200;
/// A spreadsheet has at most 1,048,576 rows; a 30 MB CSV of bare numbers about 2.2 M.
pub const MAX_ROWS: u64 = 2_500_000;
/// Cells per row kept for reporting; a row with more is refused anyway.
const MAX_CELLS: usize = 64;

/// Calls `on_row(row_number, cells)` for every row that has a non-empty cell, in file order.
/// Row numbers are as a spreadsheet program shows them (1-based, the header counted).
/// `progress` follows the bytes read from the file.
pub fn read_rows(
    path: &Path,
    progress: &AtomicU64,
    mut on_row: impl FnMut(u64, &[&str]) -> Result<(), FileProblem>,
) -> Result<(), FileProblem> {
    let mut file = File::open(path).map_err(|e| FileProblem::new(format!("cannot open: {e}")))?;
    let mut head = [0u8; 8];
    let n = read_up_to(&mut file, &mut head)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| FileProblem::new(e.to_string()))?;
    let mut emit = |row: u64, cells: &[&str]| {
        if row > MAX_ROWS {
            return Err(FileProblem::new(crate::tr!(
                bulk.file_problem.too_many_rows,
                max = MAX_ROWS
            )));
        }
        if cells.iter().any(|c| !c.trim().is_empty()) {
            on_row(row, cells)
        } else {
            Ok(())
        }
    };
    match sniff(&head[..n]) {
        Format::Csv => read_csv(Counting::new(file, progress), &mut emit),
        Format::Xlsx => read_xlsx(file, progress, &mut emit),
        Format::Xls => read_xls(Counting::new(file, progress), &mut emit),
    }
}

fn read_up_to(file: &mut File, buf: &mut [u8]) -> Result<usize, FileProblem> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(FileProblem::new(e.to_string())),
        }
    }
    Ok(filled)
}

/// Counts the bytes read through it, for the progress bar.
struct Counting<'a, R> {
    inner: R,
    progress: &'a AtomicU64,
}

impl<'a, R> Counting<'a, R> {
    fn new(inner: R, progress: &'a AtomicU64) -> Self {
        Counting { inner, progress }
    }
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.inner.seek(pos)?;
        self.progress.store(at, Ordering::Relaxed);
        Ok(at)
    }
}

type Emit<'e> = dyn FnMut(u64, &[&str]) -> Result<(), FileProblem> + 'e;

// ---------------------------------------------------------------------------------------------
// CSV

/// Which text encoding a CSV is in: a BOM decides; otherwise UTF-8 if the first 64 KiB are valid
/// UTF-8, else GB18030 (a superset of GBK, what Excel writes on Chinese Windows).
fn detect_encoding(head: &[u8]) -> (&'static Encoding, usize) {
    if let Some((encoding, bom)) = Encoding::for_bom(head) {
        return (encoding, bom);
    }
    match std::str::from_utf8(head) {
        Ok(_) => (UTF_8, 0),
        // Cut off mid-character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => (UTF_8, 0),
        Err(_) => (GB18030, 0),
    }
}

fn detect_delimiter(head: &str) -> u8 {
    let first_line = head.lines().next().unwrap_or("");
    [b',', b'\t', b';']
        .into_iter()
        .max_by_key(|d| first_line.bytes().filter(|b| b == d).count())
        .filter(|d| first_line.as_bytes().contains(d))
        .unwrap_or(b',')
}

fn read_csv<R: Read>(input: R, emit: &mut Emit<'_>) -> Result<(), FileProblem> {
    let mut input = BufReader::with_capacity(1 << 16, input);
    let head = peek(&mut input, 1 << 16)?;
    let (encoding, bom) = detect_encoding(&head);
    input.consume(bom);
    let sample = encoding.decode_without_bom_handling(&head[bom..]).0;
    let delimiter = detect_delimiter(&sample);
    drop(sample);
    if encoding == UTF_8 {
        read_records(input, delimiter, true, emit)
    } else {
        let decoded = Transcode {
            inner: input,
            decoder: encoding.new_decoder_without_bom_handling(),
            pending: Vec::with_capacity(1 << 16),
            start: 0,
            eof: false,
        };
        read_records(decoded, delimiter, false, emit)
    }
    .map_err(|p| {
        if encoding == UTF_16LE || encoding == UTF_16BE {
            FileProblem::new(crate::tr!(bulk.file_problem.utf16, problem = p))
        } else {
            p
        }
    })
}

use std::io::BufRead;

fn peek<R: Read>(input: &mut BufReader<R>, want: usize) -> Result<Vec<u8>, FileProblem> {
    // BufReader's buffer holds at most its capacity; one fill is enough for detection.
    let buf = input
        .fill_buf()
        .map_err(|e| FileProblem::new(e.to_string()))?;
    Ok(buf[..buf.len().min(want)].to_vec())
}

fn read_records<R: Read>(
    input: R,
    delimiter: u8,
    check_utf8: bool,
    emit: &mut Emit<'_>,
) -> Result<(), FileProblem> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        // Records end at `\n` only, so each is consumed with its line break and the parser's
        // line count is exact at the next record (with CRLF it lags behind a pending `\n`);
        // the `\r` left at the end of a line is trimmed with the other whitespace.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_reader(input);
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => {
                return Err(FileProblem::new(match e.position() {
                    Some(p) => {
                        crate::tr!(bulk.file_problem.csv_at_line, line = p.line(), detail = e)
                    }
                    None => crate::tr!(bulk.file_problem.csv, detail = e),
                }))
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        let mut cells: Vec<&str> = Vec::with_capacity(record.len().min(MAX_CELLS));
        for field in record.iter().take(MAX_CELLS) {
            let text = if check_utf8 {
                std::str::from_utf8(field)
                    .map_err(|_| FileProblem::new(crate::tr!(bulk.file_problem.not_utf8, line)))?
            } else {
                // Already UTF-8: the transcoder wrote it.
                std::str::from_utf8(field).unwrap_or("")
            };
            cells.push(text.trim_end_matches('\r'));
        }
        emit(line, &cells)?;
    }
}

/// Turns text in another encoding into UTF-8 as it is read, a buffer at a time.
struct Transcode<R> {
    inner: BufReader<R>,
    decoder: Decoder,
    pending: Vec<u8>,
    start: usize,
    eof: bool,
}

impl<R: Read> Read for Transcode<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.start == self.pending.len() {
            if self.eof {
                return Ok(0);
            }
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            self.pending.clear();
            self.start = 0;
            let room = self
                .decoder
                .max_utf8_buffer_length(input.len())
                .unwrap_or(input.len() * 3 + 16);
            self.pending.resize(room, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(input, &mut self.pending, last);
            self.pending.truncate(written);
            self.inner.consume(read);
            self.eof = last;
        }
        let n = out.len().min(self.pending.len() - self.start);
        out[..n].copy_from_slice(&self.pending[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------------------------
// Spreadsheets

/// How a cell reads as text. Whole numbers stored as numbers (a mobile column Excel "helped"
/// with) read as their digits; everything else as the program would show it.
fn cell_text<T: DataType>(cell: &T, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    if let Some(s) = cell.get_string() {
        out.push_str(s);
    } else if let Some(i) = cell.get_int() {
        let _ = write!(out, "{i}");
    } else if let Some(f) = cell.get_float() {
        if f.fract() == 0.0 && f.abs() < 1e15 {
            let _ = write!(out, "{}", f as i64);
        } else {
            let _ = write!(out, "{f}");
        }
    } else if let Some(b) = cell.get_bool() {
        out.push_str(if b { "TRUE" } else { "FALSE" });
    } else if let Some(e) = cell.get_error() {
        let _ = write!(out, "{e}");
    } else if let Some(s) = cell.as_string() {
        out.push_str(&s);
    }
}

/// Hands a row made of (column, text) cells to `emit` with gaps filled by empty cells.
struct RowBuilder {
    row: Option<u32>,
    texts: Vec<String>,
    used: usize,
}

impl RowBuilder {
    fn new() -> Self {
        RowBuilder {
            row: None,
            texts: Vec::new(),
            used: 0,
        }
    }

    fn slot(
        &mut self,
        row: u32,
        column: u32,
        emit: &mut Emit<'_>,
    ) -> Result<Option<&mut String>, FileProblem> {
        if self.row != Some(row) {
            self.flush(emit)?;
            self.row = Some(row);
        }
        let column = column as usize;
        if column >= MAX_CELLS {
            return Ok(None);
        }
        if self.texts.len() <= column {
            self.texts.resize_with(column + 1, String::new);
        }
        for gap in self.used..column {
            self.texts[gap].clear();
        }
        self.used = self.used.max(column + 1);
        Ok(Some(&mut self.texts[column]))
    }

    fn flush(&mut self, emit: &mut Emit<'_>) -> Result<(), FileProblem> {
        if let Some(row) = self.row.take() {
            let cells: Vec<&str> = self.texts[..self.used].iter().map(String::as_str).collect();
            emit(u64::from(row) + 1, &cells)?;
        }
        self.used = 0;
        Ok(())
    }
}

fn read_xlsx(file: File, progress: &AtomicU64, emit: &mut Emit<'_>) -> Result<(), FileProblem> {
    let not_xlsx = |e: &dyn std::fmt::Display| {
        FileProblem::new(crate::tr!(bulk.file_problem.not_xlsx, detail = e))
    };
    check_zip(&file)?;
    let mut workbook: Xlsx<_> =
        Xlsx::new(BufReader::new(Counting::new(file, progress))).map_err(|e| not_xlsx(&e))?;
    let sheet = first_worksheet(&workbook)?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|e| not_xlsx(&e))?;
    let mut rows = RowBuilder::new();
    while let Some(cell) = cells.next_cell().map_err(|e| not_xlsx(&e))? {
        let (row, column) = cell.get_position();
        if let Some(slot) = rows.slot(row, column, emit)? {
            cell_text(cell.get_value(), slot);
        }
    }
    rows.flush(emit)
}

fn read_xls<R: Read + Seek>(input: R, emit: &mut Emit<'_>) -> Result<(), FileProblem> {
    let not_xls = |e: &dyn std::fmt::Display| {
        FileProblem::new(crate::tr!(bulk.file_problem.not_xls, detail = e))
    };
    let mut workbook: Xls<_> = Xls::new(BufReader::new(input)).map_err(|e| not_xls(&e))?;
    let sheet = first_worksheet(&workbook)?;
    let range = workbook.worksheet_range(&sheet).map_err(|e| not_xls(&e))?;
    let Some((first_row, first_column)) = range.start() else {
        return Ok(());
    };
    let mut rows = RowBuilder::new();
    for (offset, row) in range.rows().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let column = first_column + c as u32;
            if let Some(slot) = rows.slot(first_row + offset as u32, column, emit)? {
                cell_text(cell, slot);
            }
        }
    }
    rows.flush(emit)
}

fn first_worksheet<RS: Read + Seek, W: Reader<RS>>(workbook: &W) -> Result<String, FileProblem> {
    workbook
        .sheets_metadata()
        .iter()
        .find(|s| s.typ == SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .ok_or_else(|| FileProblem::new(crate::tr!(bulk.file_problem.no_worksheet)))
}

/// Refuses zip bombs before calamine opens the archive.
fn check_zip(file: &File) -> Result<(), FileProblem> {
    let bomb = || FileProblem::new(crate::tr!(bulk.file_problem.bomb));
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| FileProblem::new(crate::tr!(bulk.file_problem.not_xlsx, detail = e)))?;
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| FileProblem::new(crate::tr!(bulk.file_problem.not_xlsx, detail = e)))?;
        let name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        if name.starts_with("xl/worksheets/") {
            let declared = entry.size();
            if declared > MAX_SHEET_BYTES
                || declared > entry.compressed_size().max(1) * MAX_COMPRESSION_RATIO
            {
                return Err(bomb());
            }
        } else {
            let measured = io::copy(
                &mut (&mut entry).take(MAX_WHOLE_PART_BYTES + 1),
                &mut io::sink(),
            )
            .map_err(|e| FileProblem::new(crate::tr!(bulk.file_problem.not_xlsx, detail = e)))?;
            if measured > MAX_WHOLE_PART_BYTES {
                return Err(bomb());
            }
        }
    }
    drop(archive);
    Ok(())
}
