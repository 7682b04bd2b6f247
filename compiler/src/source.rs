//! Source files, and the one trait through which the compiler reads them.
//!
//! The compiler does no IO: the CLI hands it a [`SourceProvider`] over the file system,
//! tests hand it an in-memory one.

use serde::Serialize;
use std::collections::BTreeMap;

/// Index of a file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Default)]
pub struct FileId(pub usize);

#[derive(Debug, Clone)]
pub struct SourceFile {
    /// As given by the user or resolved from an import: the path shown in messages.
    pub path: String,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, col + 1)
    }
}

/// All files of one compilation.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
    by_path: BTreeMap<String, FileId>,
}

impl SourceMap {
    pub fn add(&mut self, file: SourceFile) -> FileId {
        if let Some(id) = self.by_path.get(&file.path) {
            return *id;
        }
        let id = FileId(self.files.len());
        self.by_path.insert(file.path.clone(), id);
        self.files.push(file);
        id
    }

    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0]
    }

    pub fn lookup(&self, path: &str) -> Option<FileId> {
        self.by_path.get(path).copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i), f))
    }
}

/// How the compiler obtains the text of an imported file.
pub trait SourceProvider {
    /// The canonical path of `import` as written in the file at `from`.
    fn resolve(&self, from: &str, import: &str) -> String;
    /// The file's text, or a message saying why it cannot be had.
    fn load(&self, path: &str) -> Result<String, String>;
}

/// Files held in memory: for tests, the fuzzer and the editor.
#[derive(Debug, Clone, Default)]
pub struct MemoryProvider {
    pub files: BTreeMap<String, String>,
}

impl MemoryProvider {
    pub fn with(mut self, path: &str, text: &str) -> Self {
        self.files.insert(path.to_string(), text.to_string());
        self
    }
}

impl SourceProvider for MemoryProvider {
    fn resolve(&self, from: &str, import: &str) -> String {
        join_relative(from, import)
    }

    fn load(&self, path: &str) -> Result<String, String> {
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_string())
    }
}

/// `a/b/x.mend` + `../c.mend` → `a/c.mend`, lexically.
pub fn join_relative(from: &str, import: &str) -> String {
    if import.starts_with('/') {
        return import.to_string();
    }
    let mut parts: Vec<&str> = from.split('/').collect();
    parts.pop();
    for p in import.split('/') {
        match p {
            "." | "" => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            _ => parts.push(p),
        }
    }
    parts.join("/")
}
