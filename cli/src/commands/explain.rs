//! `mend explain CODE`: the page of a diagnostic code, built into the binary.

use crate::files::UsageError;
use mend_compiler::{CODES, Code};

pub fn run(code: Option<&str>) -> Result<i32, UsageError> {
    let Some(code) = code else {
        println!("diagnostic codes (`mend explain CODE` for a page):\n");
        for c in CODES {
            let sev = match c.severity {
                mend_compiler::Severity::Error => "error",
                mend_compiler::Severity::Warning => "warning",
            };
            let guide = if c.guide.is_empty() {
                String::new()
            } else {
                format!("  ({})", c.guide)
            };
            println!(
                "  {}  {:<22} {:<7} {}{guide}",
                c.code, c.name, sev, c.summary
            );
        }
        return Ok(0);
    };
    let Some(found) = Code::parse(code) else {
        let names = CODES.iter().map(|c| c.code.as_str());
        let hint = mend_compiler::suggest::did_you_mean(&code.to_uppercase(), names)
            .map(|s| format!("; {s}"))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "no diagnostic code `{code}`{hint} (`mend explain` lists them)"
        )));
    };
    print!("{}", found.info().doc);
    Ok(0)
}
