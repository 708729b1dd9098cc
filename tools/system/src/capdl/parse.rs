//! Reading textual CapDL: [`parse`] turns a spec in the syntax capDL-tool
//! reads (its `doc/capDL.md` grammar and `Parser.hs`) into a [`Spec`],
//! for RISC-V (`arch riscv`).
//!
//! Two steps: this module reads the text into declarations (the syntax,
//! with positions), and [`super::resolve`] gives them meaning (arrays and
//! ranges expanded, slots numbered, names and copies looked up), as
//! capDL-tool's `MakeModel` does.

use super::ast::{
    CapMapping, CapParam, CapSource, CdtChild, CdtDecl, Decl, NameRef, Nested, ObjDecl, ObjParam,
    Range, SlotRefAst,
};
use super::lex::{Lexer, Tok};
use super::resolve;
use super::Spec;
use crate::diag::{Diagnostic, Pos};

/// Reads the CapDL text `text` (from `file`, for the messages).
pub fn parse(file: &str, text: &str) -> Result<Spec, Vec<Diagnostic>> {
    let err = |(pos, message): (Pos, String)| {
        vec![Diagnostic {
            file: file.to_string(),
            pos,
            message,
        }]
    };
    let mut p = Parser::new(text).map_err(err)?;
    let (arch, decls) = p.module().map_err(err)?;
    resolve::resolve(file, arch, decls)
}

type PResult<T> = Result<T, (Pos, String)>;

struct Parser<'t> {
    lex: Lexer<'t>,
    tok: Tok,
    pos: Pos,
    /// One token of lookahead beyond `tok`.
    next: Option<(Tok, Pos)>,
}

impl<'t> Parser<'t> {
    fn new(text: &'t str) -> PResult<Parser<'t>> {
        let mut lex = Lexer::new(text);
        let (tok, pos) = lex.next()?;
        Ok(Parser {
            lex,
            tok,
            pos,
            next: None,
        })
    }

    fn advance(&mut self) -> PResult<(Tok, Pos)> {
        let (t, p) = match self.next.take() {
            Some(n) => n,
            None => self.lex.next()?,
        };
        let old_tok = std::mem::replace(&mut self.tok, t);
        let old_pos = std::mem::replace(&mut self.pos, p);
        Ok((old_tok, old_pos))
    }

    fn peek2(&mut self) -> PResult<&Tok> {
        if self.next.is_none() {
            self.next = Some(self.lex.next()?);
        }
        Ok(self.next.as_ref().map_or(&Tok::End, |(t, _)| t))
    }

    fn unexpected<T>(&self, wanted: &str) -> PResult<T> {
        Err((
            self.pos,
            format!("expected {wanted}, found {}", self.tok.describe()),
        ))
    }

    fn is_sym(&self, c: char) -> bool {
        self.tok == Tok::Sym(c)
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(&self.tok, Tok::Ident(s) if s == w)
    }

    fn sym(&mut self, c: char) -> PResult<Pos> {
        if self.is_sym(c) {
            Ok(self.advance()?.1)
        } else {
            self.unexpected(&format!("'{c}'"))
        }
    }

    fn eat_sym(&mut self, c: char) -> PResult<bool> {
        if self.is_sym(c) {
            self.advance()?;
            return Ok(true);
        }
        Ok(false)
    }

    fn ident(&mut self) -> PResult<(String, Pos)> {
        match self.advance()? {
            (Tok::Ident(s), p) => Ok((s, p)),
            (t, p) => Err((p, format!("expected a name, found {}", t.describe()))),
        }
    }

    fn number(&mut self) -> PResult<u64> {
        match self.tok {
            Tok::Num(n) => {
                self.advance()?;
                Ok(n)
            }
            _ => self.unexpected("a number"),
        }
    }

    fn module(&mut self) -> PResult<(String, Vec<Decl>)> {
        if !self.is_word("arch") {
            return self.unexpected("'arch'");
        }
        self.advance()?;
        let (arch, apos) = self.ident()?;
        if arch != "riscv" {
            return Err((
                apos,
                format!("Cairn runs on RISC-V: the spec must say 'arch riscv', not '{arch}'"),
            ));
        }
        let mut decls = Vec::new();
        loop {
            match &self.tok {
                Tok::End if !decls.is_empty() => return Ok((arch, decls)),
                Tok::Ident(w) if w == "objects" => {
                    self.advance()?;
                    self.sym('{')?;
                    while !self.eat_sym('}')? {
                        decls.push(Decl::Object(self.obj_decl()?));
                    }
                }
                Tok::Ident(w) if w == "caps" => {
                    self.advance()?;
                    self.caps(&mut decls)?;
                }
                Tok::IrqMaps => {
                    self.advance()?;
                    self.sym('{')?;
                    while !self.eat_sym('}')? {
                        let slot = self.maybe_slot()?;
                        decls.push(Decl::Irq(slot, self.name_ref()?));
                        self.eat_sym(';')?;
                    }
                }
                Tok::Ident(w) if w == "cdt" => {
                    self.advance()?;
                    self.sym('{')?;
                    while !self.eat_sym('}')? {
                        decls.push(Decl::Cdt(self.cdt_decl()?));
                    }
                }
                Tok::Ident(w) if w == "domains" => {
                    self.advance()?;
                    self.domains(&mut decls)?;
                }
                _ => return self.unexpected("'objects', 'caps', 'irq maps', 'cdt' or 'domains'"),
            }
        }
    }

    fn name_ref(&mut self) -> PResult<NameRef> {
        let (name, pos) = self.ident()?;
        let ranges = if self.is_sym('[') {
            self.advance()?;
            let mut rs = Vec::new();
            if !self.eat_sym(']')? {
                loop {
                    rs.push(self.range()?);
                    if self.eat_sym(']')? {
                        break;
                    }
                    self.sym(',')?;
                }
            }
            Some(rs)
        } else {
            None
        };
        Ok(NameRef { name, ranges, pos })
    }

    fn range(&mut self) -> PResult<Range> {
        if self.tok == Tok::DotDot {
            self.advance()?;
            return Ok(Range::To(self.number()?));
        }
        let a = self.number()?;
        if self.tok != Tok::DotDot {
            return Ok(Range::Only(a));
        }
        self.advance()?;
        if let Tok::Num(b) = self.tok {
            self.advance()?;
            return Ok(Range::FromTo(a, b));
        }
        Ok(Range::From(a))
    }

    fn obj_decl(&mut self) -> PResult<ObjDecl> {
        let pos = self.pos;
        let mut qname = vec![self.name_ref()?];
        while self.eat_sym('/')? {
            qname.push(self.name_ref()?);
        }
        self.sym('=')?;
        let (kind, _) = self.ident()?;
        let mut params = Vec::new();
        // `()` is an empty list: the first eat takes '(', the second ')'.
        if self.eat_sym('(')? && !self.eat_sym(')')? {
            loop {
                let ppos = self.pos;
                params.push((self.obj_param()?, ppos));
                if self.eat_sym(')')? {
                    break;
                }
                self.sym(',')?;
            }
        }
        let mut nested = Vec::new();
        if self.eat_sym('{')? {
            while !self.eat_sym('}')? {
                // A declaration has '=' after its (qualified) name.
                let is_decl = matches!(self.peek2()?, Tok::Sym('=') | Tok::Sym('/'))
                    || (matches!(self.peek2()?, Tok::Sym('[')) && self.bracketed_decl_ahead());
                if is_decl {
                    nested.push(Nested::Decl(self.obj_decl()?));
                } else {
                    nested.push(Nested::Ref(self.name_ref()?));
                }
                self.eat_sym(',')?;
            }
        }
        Ok(ObjDecl {
            qname,
            kind,
            params,
            nested,
            pos,
        })
    }

    /// Whether `name[...]` ahead is followed by `=` or `/` (a declaration)
    /// rather than being a reference: looks at the raw text after the
    /// brackets.
    fn bracketed_decl_ahead(&self) -> bool {
        let rest = self.lex_rest_after_bracket();
        let trimmed = rest.trim_start();
        trimmed.starts_with('=') || trimmed.starts_with('/')
    }

    fn lex_rest_after_bracket(&self) -> String {
        // The lexer stands just after the '[' we peeked; its text up to
        // the matching ']' is skipped here.
        let rest = self.lex_rest();
        match rest.find(']') {
            Some(i) => rest.get(i + 1..).unwrap_or("").to_string(),
            None => String::new(),
        }
    }

    fn lex_rest(&self) -> &'t str {
        self.lex.remaining()
    }

    fn obj_param(&mut self) -> PResult<ObjParam> {
        if let Tok::Num(n) = self.tok {
            self.advance()?;
            let (unit, upos) = self.ident()?;
            return match unit.as_str() {
                "bits" => Ok(ObjParam::Bits(n)),
                "k" => Ok(ObjParam::VmSize(n << 10)),
                "M" => Ok(ObjParam::VmSize(n << 20)),
                _ => Err((upos, format!("expected 'bits', 'k' or 'M' after {n}"))),
            };
        }
        let (word, wpos) = self.ident()?;
        self.sym(':')?;
        match word.as_str() {
            "resume" | "fpu_disabled" => {
                let (v, vpos) = self.ident()?;
                match v.as_str() {
                    "True" => Ok(ObjParam::Flag(word, true)),
                    "False" => Ok(ObjParam::Flag(word, false)),
                    _ => Err((vpos, format!("{word} is True or False, not '{v}'"))),
                }
            }
            "init" => {
                self.sym('[')?;
                let mut list = Vec::new();
                if !self.eat_sym(']')? {
                    loop {
                        list.push(self.number()?);
                        if self.eat_sym(']')? {
                            break;
                        }
                        self.sym(',')?;
                    }
                }
                Ok(ObjParam::Init(list))
            }
            "fill" => self.fill(),
            "addr" | "ip" | "sp" | "prio" | "max_prio" | "affinity" | "dom" | "fault_ep"
            | "paddr" | "period" | "budget" | "data" | "asid_high" | "level" => {
                Ok(ObjParam::Named(word, self.number()?))
            }
            _ => Err((
                wpos,
                format!("object parameter '{word}' is not one capDL has for RISC-V"),
            )),
        }
    }

    /// `fill: [...]`: the current token is '['; the words inside are read
    /// raw from the text after it.
    fn fill(&mut self) -> PResult<ObjParam> {
        if self.tok != Tok::Sym('[') || self.next.is_some() {
            return self.unexpected("'[' after 'fill:'");
        }
        let entries = self.lex.fill_after_bracket()?;
        let (tok, pos) = self.lex.next()?;
        self.tok = tok;
        self.pos = pos;
        Ok(ObjParam::Fill(entries))
    }

    fn caps(&mut self, decls: &mut Vec<Decl>) -> PResult<()> {
        self.sym('{')?;
        while !self.eat_sym('}')? {
            // `name = (obj, slot)` names a slot; `obj { ... }` fills one.
            if matches!(self.peek2()?, Tok::Sym('=')) {
                let (name, pos) = self.ident()?;
                self.sym('=')?;
                self.sym('(')?;
                let obj = self.name_ref()?;
                self.sym(',')?;
                let slot = self.slot()?;
                self.sym(')')?;
                decls.push(Decl::CapName(name, obj, slot, pos));
                continue;
            }
            let container = self.name_ref()?;
            self.sym('{')?;
            let mut maps = Vec::new();
            while !self.eat_sym('}')? {
                maps.push(self.cap_mapping()?);
                self.eat_sym(';')?;
            }
            decls.push(Decl::Caps(container, maps));
        }
        Ok(())
    }

    fn slot(&mut self) -> PResult<u64> {
        if let Tok::Num(n) = self.tok {
            self.advance()?;
            return Ok(n);
        }
        let (w, pos) = self.ident()?;
        super::build::slot::NAMES
            .iter()
            .find(|(n, _)| *n == w)
            .map(|(_, s)| *s)
            .ok_or((
                pos,
                format!("'{w}' is not a slot (a number or a TCB slot name)"),
            ))
    }

    fn maybe_slot(&mut self) -> PResult<Option<u64>> {
        let is_slot = match &self.tok {
            Tok::Num(_) => true,
            Tok::Ident(w) => {
                super::build::slot::NAMES.iter().any(|(n, _)| n == w)
                    && matches!(self.peek2()?, Tok::Sym(':'))
            }
            _ => false,
        };
        if !is_slot {
            return Ok(None);
        }
        let s = self.slot()?;
        self.sym(':')?;
        Ok(Some(s))
    }

    fn cap_mapping(&mut self) -> PResult<CapMapping> {
        let pos = self.pos;
        let slot = self.maybe_slot()?;
        let mut name = None;
        let source = if self.eat_sym('<')? {
            let r = self.name_ref()?;
            self.sym('>')?;
            CapSource::CopyOf(r)
        } else {
            let first = self.name_ref()?;
            if self.eat_sym('=')? {
                name = Some(first);
                if self.eat_sym('<')? {
                    let r = self.name_ref()?;
                    self.sym('>')?;
                    CapSource::CopyOf(r)
                } else {
                    CapSource::Object(self.name_ref()?)
                }
            } else {
                CapSource::Object(first)
            }
        };
        let mut params = Vec::new();
        if self.eat_sym('(')? {
            loop {
                let ppos = self.pos;
                params.push((self.cap_param()?, ppos));
                if self.eat_sym(')')? {
                    break;
                }
                self.sym(',')?;
            }
        }
        let parent = if self.tok == Tok::ChildOf {
            self.advance()?;
            Some(self.slot_ref()?)
        } else {
            None
        };
        Ok(CapMapping {
            slot,
            name,
            source,
            params,
            parent,
            pos,
        })
    }

    fn cap_param(&mut self) -> PResult<CapParam> {
        let (word, wpos) = self.ident()?;
        if word.chars().all(|c| "RWGXP".contains(c)) {
            return Ok(CapParam::Rights(word));
        }
        match word.as_str() {
            "reply" | "master_reply" | "cached" | "uncached" => return Ok(CapParam::Flag(word)),
            _ => {}
        }
        self.sym(':')?;
        match word.as_str() {
            "masked" => {
                let (r, rpos) = self.ident()?;
                if !r.chars().all(|c| "RWGXP".contains(c)) {
                    return Err((
                        rpos,
                        format!("'{r}' is not a set of rights (R, W, G, X, P)"),
                    ));
                }
                Ok(CapParam::Masked(r))
            }
            "guard" | "guard_size" | "badge" | "core" => Ok(CapParam::Named(word, self.number()?)),
            "asid" => {
                self.sym('(')?;
                let hi = self.number()?;
                self.sym(',')?;
                let lo = self.number()?;
                self.sym(')')?;
                Ok(CapParam::Asid(hi, lo))
            }
            "mapping" => {
                self.sym('(')?;
                let obj = self.name_ref()?;
                self.sym(',')?;
                let slot = self.slot()?;
                self.sym(')')?;
                Ok(CapParam::Mapping(obj, slot))
            }
            _ => Err((wpos, format!("unknown cap parameter '{word}'"))),
        }
    }

    fn slot_ref(&mut self) -> PResult<SlotRefAst> {
        if self.eat_sym('(')? {
            let obj = self.name_ref()?;
            self.sym(',')?;
            let slot = self.slot()?;
            self.sym(')')?;
            return Ok(SlotRefAst::Slot(obj, slot));
        }
        Ok(SlotRefAst::Name(self.name_ref()?))
    }

    fn cdt_decl(&mut self) -> PResult<CdtDecl> {
        let parent = self.slot_ref()?;
        let children = self.cdt_body()?;
        Ok(CdtDecl { parent, children })
    }

    /// `{ child; child { grandchildren } }`.
    fn cdt_body(&mut self) -> PResult<Vec<CdtChild>> {
        self.sym('{')?;
        let mut children = Vec::new();
        while !self.eat_sym('}')? {
            let r = self.slot_ref()?;
            if self.is_sym('{') {
                let sub = self.cdt_body()?;
                children.push(CdtChild::Tree(CdtDecl {
                    parent: r,
                    children: sub,
                }));
            } else {
                children.push(CdtChild::Leaf(r));
            }
            self.eat_sym(';')?;
        }
        Ok(children)
    }

    fn domains(&mut self, decls: &mut Vec<Decl>) -> PResult<()> {
        self.sym('{')?;
        while !self.eat_sym('}')? {
            let (w, pos) = self.ident()?;
            self.sym(':')?;
            match w.as_str() {
                "schedule" => {
                    self.sym('[')?;
                    let mut items = Vec::new();
                    while !self.eat_sym(']')? {
                        self.sym('(')?;
                        let d = self.number()?;
                        self.sym(',')?;
                        let t = self.number()?;
                        self.sym(')')?;
                        items.push((d, t));
                        self.eat_sym(',')?;
                    }
                    decls.push(Decl::Schedule(items, pos));
                }
                "domain_set_start" => {
                    let start = if self.is_word("no_start") {
                        self.advance()?;
                        None
                    } else {
                        Some(self.number()?)
                    };
                    decls.push(Decl::Start(start, pos));
                }
                "index_shift" => decls.push(Decl::Shift(self.number()?, pos)),
                _ => {
                    return Err((
                        pos,
                        format!(
                            "expected 'schedule', 'domain_set_start' or 'index_shift', found '{w}'"
                        ),
                    ))
                }
            }
        }
        Ok(())
    }
}
