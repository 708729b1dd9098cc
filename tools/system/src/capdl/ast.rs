//! The declarations of textual CapDL as [`super::parse`] reads them:
//! names with their ranges and positions, object and cap declarations,
//! `cdt`, `irq maps` and `domains` items, before [`super::resolve`] gives
//! them meaning.
//!
//! The fields are the grammar's parts (capDL-tool's `doc/capDL.md`).

use crate::diag::Pos;

/// `name` or `name[ranges]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameRef {
    pub name: String,
    /// `None`: no brackets; `Some(vec![])`: `name[]`, every element.
    pub ranges: Option<Vec<Range>>,
    pub pos: Pos,
}

/// One range inside brackets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    Only(u64),
    FromTo(u64, u64),
    From(u64),
    To(u64),
}

/// An object parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObjParam {
    Bits(u64),
    /// A frame size in bytes.
    VmSize(u64),
    Named(String, u64),
    Flag(String, bool),
    Init(Vec<u64>),
    Fill(Vec<Vec<String>>),
}

/// `qname = type (params) { nested }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjDecl {
    pub qname: Vec<NameRef>,
    pub kind: String,
    pub params: Vec<(ObjParam, Pos)>,
    pub nested: Vec<Nested>,
    pub pos: Pos,
}

/// Inside an untyped's braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Nested {
    Decl(ObjDecl),
    Ref(NameRef),
}

/// A cap parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapParam {
    Rights(String),
    Masked(String),
    Named(String, u64),
    Flag(String),
    Asid(u64, u64),
    Mapping(NameRef, u64),
}

/// The cap of a slot: a mapping to an object or a copy of a named cap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CapSource {
    Object(NameRef),
    CopyOf(NameRef),
}

/// `slot: name = target (params) - child_of parent`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapMapping {
    pub slot: Option<u64>,
    pub name: Option<NameRef>,
    pub source: CapSource,
    pub params: Vec<(CapParam, Pos)>,
    pub parent: Option<SlotRefAst>,
    pub pos: Pos,
}

/// `(object, slot)` or a cap name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotRefAst {
    Slot(NameRef, u64),
    Name(NameRef),
}

/// `parent { children }` in `cdt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdtDecl {
    pub parent: SlotRefAst,
    pub children: Vec<CdtChild>,
}

/// A child in a `cdt` declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CdtChild {
    Leaf(SlotRefAst),
    Tree(CdtDecl),
}

/// A top-level declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decl {
    Object(ObjDecl),
    Caps(NameRef, Vec<CapMapping>),
    CapName(String, NameRef, u64, Pos),
    Irq(Option<u64>, NameRef),
    Cdt(CdtDecl),
    Schedule(Vec<(u64, u64)>, Pos),
    Start(Option<u64>, Pos),
    Shift(u64, Pos),
}
