//! The "standard template" a marketer fills in: the mobile number column, then one column per
//! placeholder of the chosen template, with an example row.

use rust_xlsxwriter::{Format, Workbook};

use crate::error::AppError;
use crate::templates::model::SmsType;

const MOBILE_HEADER: &str = "Mobile number";
const EXAMPLE_MOBILE: &str = "13800000000";

fn headers(params: usize) -> Vec<String> {
    std::iter::once(MOBILE_HEADER.to_owned())
        .chain((1..=params).map(|n| format!("SMS content variable {n} ({{{n}}})")))
        .collect()
}

fn example_row(params: usize, sms_type: SmsType) -> Vec<String> {
    std::iter::once(EXAMPLE_MOBILE.to_owned())
        .chain((1..=params).map(|n| match sms_type {
            SmsType::Verification => "123456".to_owned(),
            _ => format!("value {n}"),
        }))
        .collect()
}

/// UTF-8 with a BOM so Excel shows any non-ASCII text correctly.
pub fn csv(params: usize, sms_type: SmsType) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        // Writing to memory cannot fail.
        let _ = writer.write_record(headers(params));
        let _ = writer.write_record(example_row(params, sms_type));
        let _ = writer.flush();
    }
    out
}

/// The mobile column is formatted as text, so Excel keeps numbers as typed instead of turning
/// them into 1.38E+10.
pub fn xlsx(params: usize, sms_type: SmsType) -> Result<Vec<u8>, AppError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let text = Format::new().set_num_format("@");
    let bold = Format::new().set_bold();
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::internal(format!("standard xlsx: {e}"));
    sheet.set_name("Recipients").map_err(fail)?;
    sheet
        .set_column_format(0, &text)
        .and_then(|s| s.set_column_width(0, 18))
        .map_err(fail)?;
    for (column, header) in headers(params).iter().enumerate() {
        sheet
            .write_string_with_format(0, column as u16, header, &bold)
            .map_err(fail)?;
        if column > 0 {
            sheet.set_column_width(column as u16, 28).map_err(fail)?;
        }
    }
    for (column, value) in example_row(params, sms_type).iter().enumerate() {
        if column == 0 {
            sheet
                .write_string_with_format(1, 0, value, &text)
                .map_err(fail)?;
        } else {
            sheet.write_string(1, column as u16, value).map_err(fail)?;
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_header_and_an_example_per_placeholder() {
        let bytes = csv(2, SmsType::Notification);
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "Mobile number,SMS content variable 1 ({1}),SMS content variable 2 ({2})",
                "13800000000,value 1,value 2"
            ]
        );
    }

    #[test]
    fn xlsx_is_a_workbook() {
        let bytes = xlsx(1, SmsType::Verification).unwrap();
        assert!(bytes.starts_with(b"PK\x03\x04"));
    }
}
