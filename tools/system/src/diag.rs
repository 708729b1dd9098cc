//! Diagnostics: an error with the place in the input it is about.
//!
//! Every check of the tool reports through [`Diagnostic`], so that the
//! command prints each problem as `FILE:LINE:COLUMN: error: MESSAGE`
//! (the form compilers use, which editors turn into links), sorted by
//! position, all of them at once instead of stopping at the first.

use std::fmt;

/// A line and column in the input, both counted from 1 (columns in
/// characters, as roxmltree and editors count them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    /// Line, from 1.
    pub line: u32,
    /// Column, from 1.
    pub col: u32,
}

impl Pos {
    /// The position at `line`, `col`.
    pub fn new(line: u32, col: u32) -> Pos {
        Pos { line, col }
    }
}

/// One problem in one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// What is wrong, in one sentence without the position.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: error: {}",
            self.file, self.pos.line, self.pos.col, self.message
        )
    }
}

/// The problems found in one file, in the order of their positions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    file: String,
    list: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty list for `file`.
    pub fn new(file: &str) -> Diagnostics {
        Diagnostics {
            file: file.to_string(),
            list: Vec::new(),
        }
    }

    /// Records `message` at `pos`.
    pub fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.list.push(Diagnostic {
            file: self.file.clone(),
            pos,
            message: message.into(),
        });
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems, sorted by position (a stable sort: two problems at one
    /// place keep the order in which the checks found them).
    pub fn into_sorted(mut self) -> Vec<Diagnostic> {
        self.list.sort_by_key(|d| d.pos);
        self.list
    }
}

/// Formats `diags`, one per line.
pub fn render(diags: &[Diagnostic]) -> String {
    let mut s = String::new();
    for d in diags {
        s.push_str(&d.to_string());
        s.push('\n');
    }
    s
}
