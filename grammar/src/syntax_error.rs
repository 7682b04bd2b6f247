//! Syntax errors, with pest's rule names turned into what a person types.
//!
//! `rule_display` has no `_ =>` arm on purpose: a rule added to the grammar without a
//! display name does not compile.

use crate::ast::Span;
use crate::parser::Rule;

/// The kinds of syntax error; the compiler gives each its own code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyntaxErrorKind {
    /// The text does not follow the grammar.
    Unexpected,
    /// `{ … }` written where a block of steps `< … >` belongs.
    BraceBlock,
    /// Nesting deeper than the parser accepts.
    TooDeep,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    pub span: Span,
    /// Lowercase, names in backticks.
    pub message: String,
    /// Short text under the caret.
    pub label: String,
    pub help: Option<String>,
}

/// The text of a rule in "expected …" messages.
pub(crate) fn rule_display(rule: Rule) -> &'static str {
    match rule {
        Rule::EOI => "end of file",
        Rule::WHITESPACE | Rule::COMMENT => "whitespace",
        Rule::file => "a file",
        Rule::item => "`import`, `component`, `procedure` or `on`",
        Rule::property => "a property",
        Rule::any_block => "`<`",
        Rule::step_body => "a step",
        Rule::arg => "an argument",
        Rule::modifier | Rule::modifier_kw => "`on`, `timeout`, `retry` or `within`",
        Rule::ident_char => "a letter, digit or `_`",
        Rule::reserved => "a keyword",
        Rule::import => "`import`",
        Rule::component => "`component`",
        Rule::procedure => "`procedure`",
        Rule::playbook => "`on`",
        Rule::prop_kind => "`kind`",
        Rule::prop_select => "`select`",
        Rule::prop_store => "`store`",
        Rule::prop_ip => "`ip`",
        Rule::prop_role => "`role`",
        Rule::role_zk => "`zk`",
        Rule::role_entry => "a role number",
        Rule::prop_engine => "`engine`",
        Rule::prop_database => "`database`",
        Rule::prop_probe => "`probe`",
        Rule::prop_expect => "`expect`",
        Rule::unknown_property => "a property",
        Rule::block => "`<`",
        Rule::brace_block => "`<`",
        Rule::seq | Rule::parallel | Rule::step => "a step",
        Rule::attribute => "`@allow`",
        Rule::match_step => "`match`",
        Rule::arm => "a match arm",
        Rule::when_step => "`when`",
        Rule::condition => "a condition",
        Rule::each_step => "`each`",
        Rule::try_step => "`try`",
        Rule::call_step => "`call`",
        Rule::ask_step => "`ask`",
        Rule::escalate_step => "`escalate`",
        Rule::accept_step => "`accept`",
        Rule::action => "an action",
        Rule::secret_ref => "`secret`",
        Rule::on_mod => "`on`",
        Rule::timeout_mod => "`timeout`",
        Rule::retry_mod => "`retry`",
        Rule::within_mod => "`within`",
        Rule::ident => "a name",
        Rule::word => "a word",
        Rule::string => "a string",
        Rule::string_inner => "string text",
        Rule::number => "a number",
        Rule::duration => "a duration such as `10m`",
        Rule::kw_import => "`import`",
        Rule::kw_component => "`component`",
        Rule::kw_procedure => "`procedure`",
        Rule::kw_on => "`on`",
        Rule::kw_match => "`match`",
        Rule::kw_when => "`when`",
        Rule::kw_else => "`else`",
        Rule::kw_each => "`each`",
        Rule::kw_limit => "`limit`",
        Rule::kw_try => "`try`",
        Rule::kw_catch => "`catch`",
        Rule::kw_finally => "`finally`",
        Rule::kw_call => "`call`",
        Rule::kw_ask => "`ask`",
        Rule::kw_escalate => "`escalate`",
        Rule::kw_accept => "`accept`",
        Rule::kw_loss => "`loss`",
        Rule::kw_secret => "`secret`",
        Rule::kw_timeout => "`timeout`",
        Rule::kw_retry => "`retry`",
        Rule::kw_within => "`within`",
        Rule::kw_allow => "`allow`",
        Rule::kw_kind => "`kind`",
        Rule::kw_select => "`select`",
        Rule::kw_label => "`label`",
        Rule::kw_store => "`store`",
        Rule::kw_ip => "`ip`",
        Rule::kw_role => "`role`",
        Rule::kw_zk => "`zk`",
        Rule::kw_engine => "`engine`",
        Rule::kw_database => "`database`",
        Rule::kw_probe => "`probe`",
        Rule::kw_expect => "`expect`",
        Rule::semi => "`;`",
        Rule::amp => "`&`",
        Rule::lt => "`<`",
        Rule::gt => "`>`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::arrow => "`=>`",
        Rule::pipe => "`|`",
        Rule::eqeq => "`==`",
        Rule::eq => "`=`",
        Rule::at => "`@`",
    }
}

/// Joins `a`, `b` and `c` as "a, b or c".
fn one_of(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub(crate) fn from_pest(source: &str, err: &pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let pos = pos.min(source.len());
    // Underline the token found there (up to the next space), at least one byte.
    let rest = &source[pos..];
    let found_len = rest
        .char_indices()
        .find(|(_, c)| c.is_whitespace())
        .map_or(rest.len(), |(i, _)| i)
        .clamp(usize::from(!rest.is_empty()), 40);
    let found_len = (0..=found_len)
        .rev()
        .find(|&n| rest.is_char_boundary(n))
        .unwrap_or(0);
    let span = Span::new(pos, pos + found_len);
    let found = if rest.is_empty() {
        "end of file".to_string()
    } else {
        let first = rest.chars().next().unwrap_or(' ');
        if first.is_alphanumeric() || first == '_' {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            format!("`{word}`")
        } else {
            format!("`{first}`")
        }
    };
    let (message, label) = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } if !positives.is_empty() => {
            let mut names: Vec<&str> = positives.iter().map(|r| rule_display(*r)).collect();
            names.sort_unstable();
            names.dedup();
            (
                format!("expected {}, found {found}", one_of(&names)),
                format!("expected {}", one_of(&names)),
            )
        }
        ErrorVariant::ParsingError { .. } => (
            format!("unexpected {found}"),
            "not expected here".to_string(),
        ),
        ErrorVariant::CustomError { message } => {
            if message.contains("call limit") {
                (
                    "the file is too complex to parse".to_string(),
                    "gave up here".to_string(),
                )
            } else {
                (message.clone(), "here".to_string())
            }
        }
    };
    let help = hint(source, pos, &message);
    SyntaxError {
        kind: SyntaxErrorKind::Unexpected,
        span,
        message,
        label,
        help,
    }
}

/// Hints for the mistakes operators make most.
fn hint(source: &str, pos: usize, message: &str) -> Option<String> {
    let before = source[..pos].trim_end();
    let after = &source[pos..];
    if message.contains("`;`") && !after.is_empty() && !before.ends_with(';') {
        let next: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !next.is_empty() {
            return Some(format!(
                "steps are separated by `;`: add one before `{next}`"
            ));
        }
    }
    if after.starts_with('{') && message.contains("`<`") {
        return Some("a block of steps is written `< … >`, not `{ … }`".into());
    }
    if after.starts_with('\'') {
        return Some("strings are written with double quotes: `\"…\"`".into());
    }
    None
}
