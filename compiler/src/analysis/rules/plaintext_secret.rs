//! E0403: a credential written into a playbook. Guide §2.4: the Ark scripts carry
//! passwords and access keys in `-e` variables; a playbook takes them by reference
//! (`secret "dbpaas/admin"`), so they never land in a repository, a log or a ticket.
//!
//! The patterns aim at the forms in the guide with few false positives: a value
//! after `password=`/`passwd=`/`pwd=`/`secret=`/`token=`/`access_key=`/`secret_key=`/
//! `accessKeySecret=` (any case, `:` or `=`), MySQL's `-pVALUE`, and AWS-style
//! `AKIA…` key ids. Placeholders (`<password>`, `{password}`, `${PASS}`, `$PASS`,
//! `***`, `<redacted>`) are not credentials.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::FileId;
use mend_grammar::ast::{self, Arg, Item, StepKind};

/// Longest first: `accessKeySecret` is a key, not a `secret`.
const KEYS: &[&str] = &[
    "access_key_secret",
    "accesskeysecret",
    "private_key",
    "access_key",
    "secret_key",
    "accesskey",
    "secretkey",
    "password",
    "api_key",
    "passwd",
    "apikey",
    "secret",
    "token",
    "pwd",
];

/// Checks every string of a file.
pub fn check_file(file: &ast::File, id: FileId, out: &mut Vec<Diagnostic>) {
    let mut strings = Vec::new();
    for item in &file.items {
        match item {
            Item::Procedure(p) => block_strings(&p.body, &mut strings),
            Item::Playbook(p) => block_strings(&p.body, &mut strings),
            Item::Component(c) => {
                for p in &c.properties {
                    if let ast::PropertyKind::ProbeCommand(s) = &p.kind {
                        strings.push(s);
                    }
                }
            }
            Item::Import(_) => {}
        }
    }
    for s in strings {
        if let Some(what) = find_credential(&s.value) {
            out.push(
                Diagnostic::new(Code::E0403, id, format!("this string holds a plaintext {what}"))
                    .primary(s.span, "credential in the playbook")
                    .help("refer to it instead: `secret \"name\"`, resolved at run time from the inventory (environment or file)"),
            );
        }
    }
}

fn block_strings<'a>(b: &'a ast::Block, out: &mut Vec<&'a ast::StringLit>) {
    for step in b.seq.iter().flatten() {
        step_strings(step, out);
    }
}

fn step_strings<'a>(step: &'a ast::Step, out: &mut Vec<&'a ast::StringLit>) {
    match &step.kind {
        StepKind::Block(b) => block_strings(b, out),
        StepKind::Match { arms, .. } => arms.iter().for_each(|a| step_strings(&a.body, out)),
        StepKind::When {
            then, otherwise, ..
        } => {
            block_strings(then, out);
            if let Some(o) = otherwise {
                block_strings(o, out);
            }
        }
        StepKind::Each { body, .. } => block_strings(body, out),
        StepKind::Try {
            body,
            catch,
            finally,
        } => {
            block_strings(body, out);
            for b in [catch, finally].into_iter().flatten() {
                block_strings(b, out);
            }
        }
        StepKind::Ask(s) | StepKind::Escalate(s) | StepKind::AcceptLoss(s) => out.push(s),
        StepKind::Action { args, .. } => {
            for a in args {
                if let Arg::Str(s) = a {
                    out.push(s);
                }
            }
        }
        StepKind::Call { .. } => {}
    }
}

/// What kind of credential `text` holds in plain, if any.
pub fn find_credential(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    for key in KEYS {
        let mut from = 0;
        while let Some(pos) = lower[from..].find(key) {
            let start = from + pos;
            from = start + key.len();
            // whole word on the left: `mypassword=` still counts, `passwords` does not
            let after = &text[from..];
            let Some(rest) = after
                .strip_prefix('=')
                .or_else(|| after.strip_prefix(':'))
                .or_else(|| after.strip_prefix("\":\""))
            else {
                continue;
            };
            let value: String = rest
                .trim_start_matches(['"', '\'', ' '])
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"',;&".contains(*c))
                .collect();
            if is_real_value(&value) {
                return Some(if key.contains("key") || *key == "token" {
                    "access key or token"
                } else {
                    "password"
                });
            }
        }
    }
    // mysql -pSECRET (not -P3306, not -p alone, not -p<password>)
    for word in text.split_whitespace() {
        if let Some(v) = word.strip_prefix("-p")
            && is_real_value(v)
            && text.contains("mysql")
        {
            return Some("password");
        }
        if word.len() >= 20
            && word.starts_with("AKIA")
            && word[4..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Some("access key or token");
        }
    }
    None
}

fn is_real_value(v: &str) -> bool {
    if v.len() < 3 {
        return false;
    }
    let placeholder = (v.starts_with('<') && v.ends_with('>'))
        || v.starts_with('{')
        || v.starts_with('$')
        || v.chars().all(|c| c == '*' || c == 'x' || c == 'X')
        || v.eq_ignore_ascii_case("redacted");
    !placeholder
}

#[cfg(test)]
mod tests {
    use super::find_credential;

    #[test]
    fn catches_the_guide_forms() {
        for s in [
            "mysql -h127.0.0.1 -P3306 -uadmin -pS3cr3t!",
            "-e jdbc.password=hunter22",
            "-e accessKeySecret=abcDEF123",
            "ACCESS_KEY=AKIAIOSFODNN7EXAMPLE",
            "secret_key: wJalrXUtnFEMI",
            "check_arms.sh --accessKeyId=LTAI4FoQ3kTq9cXzR8v2 --accessKeySecret=9fKq3XmZ0pLrT5vW8yB1nC4dE7hJ2s",
            "mysqladmin -h127.0.0.1 -P3306 --user=admin --password=Ark_2018_admin ping",
        ] {
            assert!(find_credential(s).is_some(), "{s}");
        }
    }

    #[test]
    fn ignores_placeholders_and_prose() {
        for s in [
            "mysql -h127.0.0.1 -P<port> -u<admin> -p<password>",
            "password=${DB_PASS}",
            "password=<redacted>",
            "reset the password in the console",
            "the secret store is ready",
            "scale up node {ip} with spec 8c16g",
            "passwords: see the vault",
        ] {
            assert!(find_credential(s).is_none(), "{s}");
        }
    }
}
