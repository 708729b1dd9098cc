//! The unsafe inventory check: `docs/unsafe.md` must list every use of
//! `unsafe` in the repository's Rust sources, all workspaces and the xtask
//! included. Called by `lint` only.
//!
//! A use is an `unsafe` block, `unsafe fn`, `unsafe impl`, `unsafe trait`
//! or `unsafe extern` block (the `unsafe_code` lint's name is not one). The
//! document gives each file a heading `` ### `path` (N) `` followed by one
//! `- ` line per use; the check compares, file by file, the uses found in
//! the source, the N of the heading and the number of lines under it.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// The document, relative to the repository.
pub const DOC: &str = "docs/unsafe.md";

/// Checks the inventory of the repository at `root`.
pub fn check(root: &Path) -> Result<(), String> {
    let doc = root.join(DOC);
    let text = fs::read_to_string(&doc).map_err(|e| format!("{}: {e}", doc.display()))?;
    let listed = parse(&text)?;
    let mut found = BTreeMap::new();
    scan(root, root, &mut found)?;
    let mut problems = compare(&found, &listed);
    let readme = root.join(README);
    let text = fs::read_to_string(&readme).map_err(|e| format!("{}: {e}", readme.display()))?;
    problems.extend(check_readme(&text, &found));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{DOC} is out of date:\n{}", problems.join("\n")))
    }
}

/// The README, which states the count (issue 13: the count is in the
/// README, and cannot drift).
pub const README: &str = "README.md";

/// The words around the README's count: "N uses of `unsafe` (K in the
/// kernel)".
const README_PHRASE: &str = " uses of `unsafe` (";

/// The problem, if any, with the README's statement of the count: the
/// total `N` and the kernel's `K` in "N uses of `unsafe` (K in the
/// kernel)" must be those found.
fn check_readme(text: &str, found: &BTreeMap<String, usize>) -> Option<String> {
    let total: usize = found.values().sum();
    let kernel: usize = found
        .iter()
        .filter(|(p, _)| p.starts_with("kernel/"))
        .map(|(_, n)| n)
        .sum();
    let want = format!("{total}{README_PHRASE}{kernel} in the kernel)");
    let stated = text.find(README_PHRASE).map(|i| {
        let start = text[..i]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |j| j + 1);
        let end = text[i..].find(')').map_or(text.len(), |j| i + j + 1);
        text[start..end].to_string()
    });
    match stated {
        Some(s) if s == want => None,
        Some(s) => Some(format!(
            "{README} says \"{s}\"; the sources have \"{want}\""
        )),
        None => Some(format!("{README} does not state the count: \"{want}\"")),
    }
}

/// A file's entry in the document: the count of its heading and the
/// number of lines listed under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Listed {
    count: usize,
    lines: usize,
}

/// Reads the `` ### `path` (N) `` headings and the `- ` lines under each.
fn parse(text: &str) -> Result<BTreeMap<String, Listed>, String> {
    let mut listed = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('#') {
            current = None;
            let Some(rest) = line.strip_prefix("### `") else {
                continue;
            };
            let parsed = rest.split_once("` (").and_then(|(path, n)| {
                let count = n.strip_suffix(')')?.parse().ok()?;
                Some((path.to_string(), count))
            });
            let Some((path, count)) = parsed else {
                return Err(format!("{DOC}: malformed heading {line:?}"));
            };
            if listed
                .insert(path.clone(), Listed { count, lines: 0 })
                .is_some()
            {
                return Err(format!("{DOC}: {path} listed twice"));
            }
            current = Some(path);
        } else if let (Some(path), true) = (&current, line.starts_with("- ")) {
            if let Some(entry) = listed.get_mut(path) {
                entry.lines += 1;
            }
        }
    }
    Ok(listed)
}

/// Counts the uses of `unsafe` in every `.rs` file under `dir`, skipping
/// build output (`target`) and hidden directories.
fn scan(root: &Path, dir: &Path, found: &mut BTreeMap<String, usize>) -> Result<(), String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                scan(root, &path, found)?;
            }
        } else if name.ends_with(".rs") {
            let src = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let n = count_uses(&src);
            if n > 0 {
                let rel = path.strip_prefix(root).unwrap_or(&path);
                found.insert(rel.to_string_lossy().into_owned(), n);
            }
        }
    }
    Ok(())
}

/// The problems, one line each, between the uses found and those listed.
fn compare(found: &BTreeMap<String, usize>, listed: &BTreeMap<String, Listed>) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, &n) in found {
        match listed.get(path) {
            None => problems.push(format!("{path}: {n} unsafe, not listed")),
            Some(l) if l.count != n => {
                problems.push(format!("{path}: {n} unsafe, listed as {}", l.count))
            }
            Some(_) => {}
        }
    }
    for (path, l) in listed {
        if !found.contains_key(path) {
            problems.push(format!("{path}: listed, but has no unsafe (or is gone)"));
        }
        if l.lines != l.count {
            problems.push(format!(
                "{path}: heading says {}, {} lines listed under it",
                l.count, l.lines
            ));
        }
    }
    problems
}

/// The uses of `unsafe` in Rust source `src`, outside comments, string
/// and character literals.
fn count_uses(src: &str) -> usize {
    let code = strip_comments_and_literals(src);
    let b = code.as_bytes();
    let mut n = 0;
    let mut at = 0;
    while let Some(i) = code
        .get(at..)
        .and_then(|s| s.find("unsafe"))
        .map(|i| i + at)
    {
        at = i + "unsafe".len();
        let before_ok = i == 0
            || !b
                .get(i - 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        let rest = code.get(at..).unwrap_or("");
        let next = rest.trim_start();
        let word_ends = !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
        let follows = next.starts_with('{')
            || ["fn", "impl", "trait", "extern"].iter().any(|w| {
                next.strip_prefix(w).is_some_and(|r| {
                    !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
            });
        if before_ok && word_ends && follows {
            n += 1;
        }
    }
    n
}

/// `src` with comments and the contents of string and character literals
/// replaced by spaces (lines are kept). Raw strings, escapes, nested block
/// comments and lifetimes (`'a`, not a literal) are understood.
fn strip_comments_and_literals(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let ch = at(i);
        if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && at(i) != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            loop {
                if at(i) == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if at(i) == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else if i >= c.len() {
                    break;
                } else {
                    blank(&mut out, at(i));
                    i += 1;
                }
            }
        } else if ch == 'r'
            && (at(i + 1) == '"' || (at(i + 1) == '#' && !is_ident(at(i.wrapping_sub(1)))))
        {
            // A raw string: r"..." or r#"..."#, closed by " and as many #.
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                out.push(ch);
                i += 1;
                continue;
            }
            i = j + 1;
            while i < c.len() && !(at(i) == '"' && (1..=hashes).all(|k| at(i + k) == '#')) {
                blank(&mut out, at(i));
                i += 1;
            }
            i += 1 + hashes;
        } else if ch == '"' {
            i += 1;
            while i < c.len() && at(i) != '"' {
                if at(i) == '\\' {
                    i += 1;
                }
                blank(&mut out, at(i));
                i += 1;
            }
            i += 1;
        } else if ch == '\'' && (at(i + 1) == '\\' || at(i + 2) == '\'') {
            // A character literal ('x', '\n', '\''); otherwise a lifetime.
            i += 2;
            while i < c.len() && at(i) != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(ch);
            i += 1;
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_states_the_count_found() {
        let found: BTreeMap<String, usize> = [
            ("kernel/src/a.rs".to_string(), 3),
            ("kernel/src/b.rs".to_string(), 1),
            ("user/x.rs".to_string(), 2),
        ]
        .into();
        let ok = "It has 6 uses of `unsafe` (4 in the kernel), each listed.";
        assert_eq!(check_readme(ok, &found), None);
        let stale = "It has 5 uses of `unsafe` (4 in the kernel), each listed.";
        assert_eq!(
            check_readme(stale, &found).as_deref(),
            Some(
                "README.md says \"5 uses of `unsafe` (4 in the kernel)\"; \
                 the sources have \"6 uses of `unsafe` (4 in the kernel)\""
            )
        );
        assert!(check_readme("no count", &found)
            .is_some_and(|p| p.contains("does not state the count")));
    }

    #[test]
    fn counts_blocks_fns_impls_and_externs_only_in_code() {
        let src = concat!(
            "#![deny(unsafe_code)]\n",
            "// SAFETY: an unsafe { comment }\n",
            "/* unsafe { /* nested */ unsafe fn } */\n",
            "pub unsafe fn f<'a>(x: &'a u8) -> char { let q = '\"'; unsafe { g() }; 'x' }\n",
            "unsafe impl Sync for S {}\n",
            "unsafe extern \"C\" { fn h(); }\n",
            "const S: &str = \"unsafe { }\"; const R: &str = r#\"unsafe fn \"# ;\n",
            "let not_unsafe {}; let unsafe_fn = 1; unsafe\n  {}\n",
        );
        assert_eq!(count_uses(src), 5);
        assert_eq!(count_uses(""), 0);
        // Lines survive stripping, so positions stay meaningful.
        assert_eq!(
            strip_comments_and_literals(src).lines().count(),
            src.lines().count()
        );
    }

    #[test]
    fn parses_headings_and_the_lines_under_them() {
        let doc = "# Title\n- not counted\n### `a.rs` (2)\n- one\n- two\n\n### `b/c.rs` (1)\n- x\n## Next\n- not counted\n";
        let l = parse(doc).unwrap();
        assert_eq!(l["a.rs"], Listed { count: 2, lines: 2 });
        assert_eq!(l["b/c.rs"], Listed { count: 1, lines: 1 });
        assert_eq!(l.len(), 2);
        assert!(parse("### `a.rs` (x)\n").is_err());
        assert!(parse("### `a.rs` (1)\n### `a.rs` (1)\n").is_err());
    }

    #[test]
    fn names_every_difference() {
        let found = BTreeMap::from([("a.rs".to_string(), 2), ("new.rs".to_string(), 1)]);
        let listed = BTreeMap::from([
            ("a.rs".to_string(), Listed { count: 3, lines: 2 }),
            ("gone.rs".to_string(), Listed { count: 1, lines: 1 }),
        ]);
        assert_eq!(
            compare(&found, &listed),
            [
                "a.rs: 2 unsafe, listed as 3",
                "new.rs: 1 unsafe, not listed",
                "a.rs: heading says 3, 2 lines listed under it",
                "gone.rs: listed, but has no unsafe (or is gone)",
            ]
        );
        let same = BTreeMap::from([("a.rs".to_string(), Listed { count: 2, lines: 2 })]);
        let found = BTreeMap::from([("a.rs".to_string(), 2)]);
        assert!(compare(&found, &same).is_empty());
    }
}
