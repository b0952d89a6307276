//! Helpers shared by the fuzz targets (included with `#[path]`, not a crate).

#![allow(dead_code)]

/// Splits fuzz input into text fields at NUL bytes, so seeds stay readable text files and
/// every byte string is a valid input. Invalid UTF-8 is replaced, not skipped: the parsers
/// take `&str`, and a skipped input would be a wasted run.
pub fn fields(data: &[u8]) -> Vec<String> {
    data.split(|&b| b == 0)
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

/// The `n`th field, or "" when the input has fewer.
pub fn field(fields: &[String], n: usize) -> &str {
    fields.get(n).map(String::as_str).unwrap_or("")
}
