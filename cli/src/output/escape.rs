//! The escaping of GitHub Actions workflow commands (`::error …::message`), as the
//! runner's toolkit does it. No dependencies: tests/it/ci_formats.rs includes this
//! file as it is, to test the very functions the binary uses.

/// The message of a workflow command: `%`, CR and LF escaped (`%` first, so an escape
/// in the input is not taken for one of ours).
pub(crate) fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// A property value of a workflow command (`file=`, `title=`): as [`escape_data`],
/// and `:` and `,`, which would end the property.
pub(crate) fn escape_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_escapes_percent_cr_lf_only() {
        assert_eq!(escape_data("100% a\r\nb"), "100%25 a%0D%0Ab");
        assert_eq!(escape_data("a: b, c"), "a: b, c");
        // `%` first: an escape in the input is not taken for one of ours
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn properties_escape_colon_and_comma_too() {
        assert_eq!(escape_property("a,b:c%d\ne"), "a%2Cb%3Ac%25d%0Ae");
        assert_eq!(escape_property("E0202 (no-backup)"), "E0202 (no-backup)");
    }
}
