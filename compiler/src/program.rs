//! Loading: the files given, everything they import, parsed once each; import
//! cycles and missing imports reported; each file's scope of names built.

use crate::codes::Code;
use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceFile, SourceMap, SourceProvider};
use mend_grammar::ast::{self, Item, Span};
use mend_grammar::{SyntaxErrorKind, parse};
use std::collections::{BTreeMap, HashSet};

/// Every file of one compilation, parsed.
pub struct Program {
    pub sources: SourceMap,
    /// The parsed file, `None` when it did not parse.
    pub asts: Vec<Option<ast::File>>,
    /// Resolved imports of each file: (import span, imported file).
    pub imports: Vec<Vec<(Span, FileId)>>,
    /// The files the user named (not only imported).
    pub roots: Vec<FileId>,
}

impl Program {
    /// Loads `roots` (already read by the caller) and their imports.
    pub fn load(
        roots: Vec<SourceFile>,
        provider: &dyn SourceProvider,
        threads: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Program {
        let mut program = Program {
            sources: SourceMap::default(),
            asts: Vec::new(),
            imports: Vec::new(),
            roots: Vec::new(),
        };
        let mut queue = Vec::new();
        // Parsing is most of the work: the roots are parsed on all threads.
        let parsed = crate::parallel::map(roots, threads, |f| {
            let p = parse(&f.text);
            (f, p)
        });
        for (f, p) in parsed {
            let id = program.register(f, p, diags);
            program.roots.push(id);
            queue.push(id);
        }
        while let Some(id) = queue.pop() {
            let Some(file) = &program.asts[id.0] else {
                continue;
            };
            let imports: Vec<ast::Import> = file
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Import(imp) => Some(imp.clone()),
                    _ => None,
                })
                .collect();
            let from = program.sources.get(id).path.clone();
            for imp in imports {
                if !std::path::Path::new(&imp.path.value)
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("mend"))
                {
                    // Never read (and quote) an arbitrary file named in an import.
                    diags.push(
                        Diagnostic::new(
                            Code::E0110,
                            id,
                            format!("`{}` is not a `.mend` file", imp.path.value),
                        )
                        .primary(imp.path.span, "imported here")
                        .help("imports name other playbook files: `import \"common.mend\"`"),
                    );
                    continue;
                }
                let path = provider.resolve(&from, &imp.path.value);
                let target = if let Some(t) = program.sources.lookup(&path) {
                    t
                } else {
                    match provider.load(&path) {
                        Ok(text) => {
                            let t = program.add(SourceFile::new(path, text), diags);
                            queue.push(t);
                            t
                        }
                        Err(why) => {
                            diags.push(
                                Diagnostic::new(
                                    Code::E0110,
                                    id,
                                    format!(
                                        "cannot read imported file `{}`: {why}",
                                        imp.path.value
                                    ),
                                )
                                .primary(imp.path.span, "imported here")
                                .help("paths are relative to the importing file"),
                            );
                            continue;
                        }
                    }
                };
                program.imports[id.0].push((imp.path.span, target));
            }
        }
        program.report_cycles(diags);
        program
    }

    fn add(&mut self, file: SourceFile, diags: &mut Vec<Diagnostic>) -> FileId {
        if let Some(id) = self.sources.lookup(&file.path) {
            return id;
        }
        let parsed = parse(&file.text);
        self.register(file, parsed, diags)
    }

    fn register(
        &mut self,
        file: SourceFile,
        parsed: mend_grammar::Parsed,
        diags: &mut Vec<Diagnostic>,
    ) -> FileId {
        if let Some(id) = self.sources.lookup(&file.path) {
            return id;
        }
        let id = self.sources.add(file);
        for e in parsed.errors {
            let code = match e.kind {
                SyntaxErrorKind::Unexpected => Code::E0001,
                SyntaxErrorKind::BraceBlock => Code::E0002,
                SyntaxErrorKind::TooDeep => Code::E0003,
            };
            let mut d = Diagnostic::new(code, id, e.message).primary(e.span, e.label);
            if let Some(h) = e.help {
                d = d.help(h);
            }
            diags.push(d);
        }
        self.asts.push(parsed.file);
        self.imports.push(Vec::new());
        id
    }

    /// Reports each import cycle once, whole: `a.mend -> b.mend -> a.mend`.
    fn report_cycles(&self, diags: &mut Vec<Diagnostic>) {
        // 0 = unvisited, 1 = on the stack, 2 = done
        let mut state = vec![0u8; self.asts.len()];
        let mut stack: Vec<FileId> = Vec::new();
        for start in 0..self.asts.len() {
            if state[start] == 0 {
                self.dfs(FileId(start), &mut state, &mut stack, diags);
            }
        }
    }

    fn dfs(
        &self,
        at: FileId,
        state: &mut [u8],
        stack: &mut Vec<FileId>,
        diags: &mut Vec<Diagnostic>,
    ) {
        state[at.0] = 1;
        stack.push(at);
        for &(span, next) in &self.imports[at.0] {
            match state[next.0] {
                0 => self.dfs(next, state, stack, diags),
                1 => {
                    let from = stack.iter().position(|f| *f == next).unwrap_or(0);
                    let names: Vec<&str> = stack[from..]
                        .iter()
                        .chain(std::iter::once(&next))
                        .map(|f| self.sources.get(*f).path.as_str())
                        .collect();
                    diags.push(
                        Diagnostic::new(
                            Code::E0107,
                            at,
                            format!("import cycle `{}`", names.join(" -> ")),
                        )
                        .primary(span, "this import closes the cycle")
                        .help("move what both files need into a third file that both import"),
                    );
                }
                _ => {}
            }
        }
        stack.pop();
        state[at.0] = 2;
    }

    /// Files visible from `file`: itself and everything it imports, transitively.
    pub fn scope_files(&self, file: FileId) -> Vec<FileId> {
        // Scopes are small (a file and its few imports): a vector beats a set, and
        // nothing here may cost in proportion to the number of files.
        let mut out: Vec<FileId> = Vec::new();
        let mut stack = vec![file];
        while let Some(f) = stack.pop() {
            if out.contains(&f) {
                continue;
            }
            out.push(f);
            stack.extend(self.imports[f.0].iter().map(|(_, t)| *t));
        }
        out
    }
}

/// The names visible in one file.
#[derive(Default)]
pub struct Scope<'a> {
    pub components: BTreeMap<&'a str, (FileId, &'a ast::Component)>,
    pub procedures: BTreeMap<&'a str, (FileId, &'a ast::Procedure)>,
}

impl<'a> Scope<'a> {
    /// Builds the scope of `file`, reporting duplicates (once, in the file that
    /// defines the second one).
    pub fn build(
        program: &'a Program,
        file: FileId,
        diags: &mut Vec<Diagnostic>,
        reported: &mut HashSet<(FileId, usize)>,
    ) -> Self {
        let mut scope = Scope::default();
        let mut files = program.scope_files(file);
        files.sort();
        for f in files {
            let Some(ast) = &program.asts[f.0] else {
                continue;
            };
            for item in &ast.items {
                let (name, span, kind) = match item {
                    Item::Component(c) => {
                        let prev = scope.components.insert(&c.name.name, (f, c));
                        (prev.map(|p| (p.0, p.1.name.span)), c.name.span, "component")
                    }
                    Item::Procedure(p) => {
                        let prev = scope.procedures.insert(&p.name.name, (f, p));
                        (prev.map(|p| (p.0, p.1.name.span)), p.name.span, "procedure")
                    }
                    _ => continue,
                };
                if let Some((pf, pspan)) = name
                    && reported.insert((f, span.start))
                {
                    let text = &program.sources.get(f).text[span.start..span.end];
                    diags.push(
                        Diagnostic::new(
                            Code::E0106,
                            f,
                            format!("{kind} `{text}` is defined twice"),
                        )
                        .primary(span, "defined again here")
                        .secondary_in(pf, pspan, "first defined here")
                        .help(format!("rename one of them or remove the second `{kind}`")),
                    );
                }
            }
        }
        scope
    }
}
