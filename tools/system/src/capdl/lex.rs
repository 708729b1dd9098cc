//! The tokens of textual CapDL (capDL-tool's lexer, from its
//! `ParserUtils.hs`: `--` and nested `/* */` comments, identifiers of
//! letters, digits and `-_@.`, numbers in decimal, `0x` hexadecimal or
//! `0o` octal, and two reserved phrases with a space, `irq maps` and
//! `- child_of`).
//!
//! The parser pulls tokens one at a time, so that it can read a frame's
//! `fill: [...]` list, whose words are not tokens, as raw text.

use crate::diag::Pos;

/// A token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An identifier or keyword.
    Ident(String),
    /// A number.
    Num(u64),
    /// One of `{}()[],;:=<>/`.
    Sym(char),
    /// `..`.
    DotDot,
    /// `irq maps`.
    IrqMaps,
    /// `- child_of`.
    ChildOf,
    /// The end of the input.
    End,
}

impl Tok {
    /// How the token reads in a message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Num(n) => format!("number {n}"),
            Tok::Sym(c) => format!("'{c}'"),
            Tok::DotDot => "'..'".into(),
            Tok::IrqMaps => "'irq maps'".into(),
            Tok::ChildOf => "'- child_of'".into(),
            Tok::End => "the end of the file".into(),
        }
    }
}

/// A cursor over the text.
pub struct Lexer<'t> {
    text: &'t str,
    at: usize,
    line: u32,
    col: u32,
}

/// A lexical error: where and what.
pub type LexError = (Pos, String);

impl<'t> Lexer<'t> {
    /// A lexer at the start of `text`.
    pub fn new(text: &'t str) -> Lexer<'t> {
        Lexer {
            text,
            at: 0,
            line: 1,
            col: 1,
        }
    }

    fn rest(&self) -> &'t str {
        self.text.get(self.at..).unwrap_or("")
    }

    fn peek_char(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.at += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.col = 1;
        } else {
            self.col += 1;
        }
        Some(c)
    }

    /// The position of the next character.
    pub fn pos(&self) -> Pos {
        Pos::new(self.line, self.col)
    }

    /// Skips white space and comments.
    fn skip(&mut self) -> Result<(), LexError> {
        loop {
            let rest = self.rest();
            if rest.starts_with("--") && !rest.starts_with("- child_of") {
                while self.peek_char().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else if rest.starts_with("/*") {
                let start = self.pos();
                let mut depth = 0u32;
                loop {
                    let r = self.rest();
                    if r.starts_with("/*") {
                        depth += 1;
                        self.bump();
                        self.bump();
                    } else if r.starts_with("*/") {
                        depth -= 1;
                        self.bump();
                        self.bump();
                        if depth == 0 {
                            break;
                        }
                    } else if self.bump().is_none() {
                        return Err((start, "unterminated comment".into()));
                    }
                }
            } else if self.peek_char().is_some_and(char::is_whitespace) {
                self.bump();
            } else {
                return Ok(());
            }
        }
    }

    /// The next token and where it starts.
    pub fn next(&mut self) -> Result<(Tok, Pos), LexError> {
        self.skip()?;
        let pos = self.pos();
        let rest = self.rest();
        let Some(c) = self.peek_char() else {
            return Ok((Tok::End, pos));
        };
        if let Some(after) = rest.strip_prefix("irq maps") {
            if !after.starts_with(is_ident_char) {
                for _ in 0.."irq maps".len() {
                    self.bump();
                }
                return Ok((Tok::IrqMaps, pos));
            }
        }
        if rest.starts_with("- child_of") {
            for _ in 0.."- child_of".len() {
                self.bump();
            }
            return Ok((Tok::ChildOf, pos));
        }
        if rest.starts_with("..") {
            self.bump();
            self.bump();
            return Ok((Tok::DotDot, pos));
        }
        if c.is_ascii_alphabetic() {
            let mut s = String::new();
            while let Some(c) = self.peek_char().filter(|c| is_ident_char(*c)) {
                // `a..b` never occurs after a name, but `x[1..2]` must not
                // eat the dots; a name ends before `..`.
                if c == '.' && self.rest().starts_with("..") {
                    break;
                }
                s.push(c);
                self.bump();
            }
            return Ok((Tok::Ident(s), pos));
        }
        if c.is_ascii_digit() {
            return self.number(pos).map(|n| (Tok::Num(n), pos));
        }
        if "{}()[],;:=<>/".contains(c) {
            self.bump();
            return Ok((Tok::Sym(c), pos));
        }
        Err((pos, format!("unexpected character '{c}'")))
    }

    fn number(&mut self, pos: Pos) -> Result<u64, LexError> {
        let rest = self.rest();
        let (radix, skip) = if rest.starts_with("0x") || rest.starts_with("0X") {
            (16, 2)
        } else if rest.starts_with("0o") || rest.starts_with("0O") {
            (8, 2)
        } else {
            (10, 0)
        };
        for _ in 0..skip {
            self.bump();
        }
        let mut digits = String::new();
        while let Some(c) = self.peek_char().filter(|c| c.is_digit(radix)) {
            digits.push(c);
            self.bump();
        }
        u64::from_str_radix(&digits, radix).map_err(|e| {
            (
                pos,
                format!("bad number '{}': {e}", &rest[..skip + digits.len()]),
            )
        })
    }

    /// The text not read yet.
    pub fn remaining(&self) -> &'t str {
        self.rest()
    }

    /// A frame's fill list after its '[' (already read as a token):
    /// `{w w w}, {w w} ]`, each entry's words as written.
    pub fn fill_after_bracket(&mut self) -> Result<Vec<Vec<String>>, LexError> {
        let start = self.pos();
        let mut entries = Vec::new();
        loop {
            self.skip()?;
            match self.bump() {
                Some(']') => return Ok(entries),
                Some(',') => {}
                Some('{') => {
                    let mut words = Vec::new();
                    let mut word = String::new();
                    loop {
                        match self.bump() {
                            None => return Err((start, "unterminated fill entry".into())),
                            Some('}') => break,
                            Some(c) if c.is_whitespace() => {
                                if !word.is_empty() {
                                    words.push(std::mem::take(&mut word));
                                }
                            }
                            Some(c) => word.push(c),
                        }
                    }
                    if !word.is_empty() {
                        words.push(word);
                    }
                    entries.push(words);
                }
                _ => return Err((self.pos(), "expected '{' or ']' in a fill list".into())),
            }
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_@.".contains(c)
}
