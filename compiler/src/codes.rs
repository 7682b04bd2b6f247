//! The table of diagnostic codes: one row per code, with its page in
//! `docs/diagnostics/`. A test checks that every code has a page and a fixture.

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// What a code is about, for grouping in `mend explain` and SARIF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Syntax,
    Names,
    Safety,
    Order,
    Graph,
    Hygiene,
    Repository,
}

pub struct CodeInfo {
    pub code: Code,
    /// A short kebab-case name, accepted wherever a code is (`@allow(no-backup, …)`).
    pub name: &'static str,
    /// One line, lowercase.
    pub summary: &'static str,
    pub severity: Severity,
    pub category: Category,
    /// The guide section the rule protects, if any.
    pub guide: &'static str,
    /// The page, `docs/diagnostics/CODE.md`.
    pub doc: &'static str,
}

macro_rules! codes {
    ($($code:ident $name:literal $sev:ident $cat:ident $guide:literal $summary:literal;)*) => {
        /// Every diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($code,)* }

        pub const CODES: &[CodeInfo] = &[$(CodeInfo {
            code: Code::$code,
            name: $name,
            summary: $summary,
            severity: Severity::$sev,
            category: Category::$cat,
            guide: $guide,
            doc: include_str!(concat!("../../docs/diagnostics/", stringify!($code), ".md")),
        },)*];

        impl Code {
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }
        }
    };
}

codes! {
    E0001 "syntax-error"       Error Syntax "" "the text does not follow the grammar";
    E0002 "brace-block"        Error Syntax "" "a block of steps written with braces";
    E0003 "too-deep"           Error Syntax "" "blocks nested too deep";
    E0101 "unknown-component"  Error Names "" "unknown component";
    E0102 "unknown-fault"      Error Names "§1, §2, §3" "unknown fault";
    E0103 "unknown-action"     Error Names "" "unknown action";
    E0104 "unknown-procedure"  Error Names "" "unknown procedure";
    E0105 "bad-arguments"      Error Names "" "wrong arguments";
    E0106 "duplicate"          Error Names "" "defined twice";
    E0107 "import-cycle"       Error Names "" "files import each other in a cycle";
    E0108 "unknown-target"     Error Names "" "unknown target";
    E0109 "bad-property"       Error Names "" "invalid component property";
    E0110 "import-not-found"   Error Names "" "imported file cannot be read";
    E0111 "bad-allow"          Error Names "" "invalid `@allow`";
    E0112 "bad-match"          Error Names "" "unknown match subject or value";
    E0201 "role-unknown"       Error Safety "§3.2, §4.2" "role-dependent step where the role is not known";
    E0202 "no-backup"          Error Safety "§3, §3.2" "store destroyed with no backup";
    E0203 "loss-not-accepted"  Error Safety "§3.2" "data loss not accepted";
    E0204 "split-brain"        Error Safety "§4.2" "node made writable while its peer may be writable";
    E0205 "mode-not-restored"  Error Safety "§4.1.3" "lenient apply mode or parallel apply off not switched back";
    E0206 "forced-switch-control" Error Safety "§4.1.2" "forced switch on a control database";
    E0301 "start-before-restore" Error Order "§3.2" "started before its store is restored";
    E0302 "ip-not-kept"        Error Order "§3.2" "recreate does not keep a fixed IP";
    E0303 "after-escalate"     Error Order "" "step after `escalate`";
    E0304 "cycle"              Error Graph "" "procedures call each other in a cycle";
    E0305 "unreachable"        Error Graph "" "step or arm no path reaches";
    E0306 "match-not-exhaustive" Error Graph "§3.2, §4.1.3" "`match` misses a value";
    E0401 "no-verify"          Error Hygiene "every expected result" "a path succeeds without `verify`";
    E0402 "unbounded-wait"     Error Hygiene "§4.1.3" "wait with no bound";
    E0403 "plaintext-secret"   Error Hygiene "§2.4" "credential in plain text";
    E0404 "alert-not-confirmed" Error Hygiene "every background" "acting on an alert never confirmed";
    E0501 "duplicate-playbook" Error Repository "" "two playbooks fire on the same fault of the same component";
    E0502 "unused-component"   Warning Repository "" "component declared and never used";
    E0503 "unused-procedure"   Warning Repository "" "procedure never called";
}

impl Code {
    pub fn info(self) -> &'static CodeInfo {
        CODES
            .iter()
            .find(|c| c.code == self)
            .expect("every code is in the table")
    }

    /// A code from its text (`E0202`) or its name (`no-backup`).
    pub fn parse(text: &str) -> Option<Code> {
        CODES
            .iter()
            .find(|c| {
                c.code.as_str().eq_ignore_ascii_case(text) || c.name == text.replace('_', "-")
            })
            .map(|c| c.code)
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
