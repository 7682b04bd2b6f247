//! The compiler's own table of words. The editor grammar
//! (`editors/vscode/syntaxes/mend.tmLanguage.json`) is tested against these lists,
//! so a word added here without a colour there fails the build.

/// Words that open a declaration or a structured step.
pub const KEYWORDS: &[&str] = &[
    "import",
    "component",
    "procedure",
    "on",
    "match",
    "when",
    "else",
    "each",
    "limit",
    "try",
    "catch",
    "finally",
    "call",
    "ask",
    "escalate",
    "accept",
    "loss",
    "secret",
    "timeout",
    "retry",
    "within",
];

/// The fault classes of the guide (§1, §2, §3) that a playbook can fire on.
pub const FAULTS: &[&str] = &["software_fault", "host_down", "hardware_fault"];

/// Properties a component may declare.
pub const PROPERTIES: &[&str] = &[
    "kind", "select", "store", "ip", "role", "engine", "database", "probe", "expect", "label",
];

/// Built-in targets.
pub const TARGETS: &[&str] = &["self", "peer"];

/// Actions with a contract in the checker.
pub const ACTIONS: &[&str] = &[
    "confirm",
    "lookup",
    "backup",
    "restore",
    "decommission",
    "recreate",
    "remove",
    "start",
    "stop",
    "restart",
    "probe",
    "verify",
    "wait",
    "set",
    "startup",
    "forced_switch",
    "restart_daemon",
    "exec",
];

/// Words that mark a dangerous step; editors make them stand out.
pub const DANGER: &[&str] = &[
    "accept",
    "loss",
    "escalate",
    "forced_switch",
    "recreate",
    "remove",
];
