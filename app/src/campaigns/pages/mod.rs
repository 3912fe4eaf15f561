pub mod bulk;
pub mod records;
