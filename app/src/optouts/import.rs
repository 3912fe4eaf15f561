//! Reading an opt-out list file: the first column of every row, a header row tolerated.

use crate::numbers::PhoneNumber;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedList {
    pub numbers: Vec<PhoneNumber>,
    /// Line numbers (1-based, as an editor shows them) that held something other than a number.
    pub invalid_rows: Vec<usize>,
}

/// One number per line, in the first column (comma, semicolon or tab separated, optionally
/// quoted). Lines are counted as an editor shows them, so the report points at the right row.
pub fn parse_csv(bytes: &[u8]) -> ParsedList {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let mut parsed = ParsedList::default();
    for (index, line) in text.lines().enumerate() {
        let first = line
            .split([',', ';', '\t'])
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        if first.is_empty() {
            continue;
        }
        match PhoneNumber::parse(first) {
            Ok(number) => parsed.numbers.push(number),
            // A first line of words is the header.
            Err(_) if index == 0 && first.chars().any(char::is_alphabetic) => {}
            Err(_) => parsed.invalid_rows.push(index + 1),
        }
    }
    parsed.numbers.sort();
    parsed.numbers.dedup();
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_column_and_skips_a_header() {
        let csv = "\u{feff}mobile,name\r\n13800000000,Li\r\n+86 139-0000-0000,Wang\r\n\r\nnot a number,x\r\n13800000000,dup\r\n";
        let parsed = parse_csv(csv.as_bytes());
        let numbers: Vec<&str> = parsed.numbers.iter().map(|n| n.as_str()).collect();
        assert_eq!(numbers, ["+8613800000000", "+8613900000000"]);
        assert_eq!(parsed.invalid_rows, [5]);
    }

    #[test]
    fn quoted_and_semicolon_separated_cells_are_read() {
        let parsed = parse_csv(b"\"13800000000\";Li\n13900000000\tWang\n");
        assert_eq!(parsed.numbers.len(), 2);
    }

    #[test]
    fn a_bare_list_of_numbers_works_too() {
        let parsed = parse_csv(b"13800000000\n13900000000\n");
        assert_eq!(parsed.numbers.len(), 2);
        assert!(parsed.invalid_rows.is_empty());
    }
}
