//! Which caps Copy and Mint may derive (seL4's `deriveCap`): not
//! IRQControl, not an unmapped page table; mapped tables, frames, the ASID
//! and domain caps and the root CNode may be copied (ch. 3 Capability
//! Spaces, *Capability Derivation Tree*).

use crate::fixture::{
    copy, expect_err, expect_ok, expect_tag, expect_tags, mint, move_, Env, FULL,
};
use crate::framework::{Ctx, TestResult};
use sel4::{init, tag, CNode, CapRights, Error, ObjectType, Word};

pub(super) fn copy_irq_control(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let d = env.slot()?;
    expect_err(
        copy(d, init::IRQ_CONTROL, CapRights::ALL),
        Error::IllegalOperation,
        "Copy of IRQControl",
    )?;
    expect_err(
        mint(d, init::IRQ_CONTROL, CapRights::ALL, 0),
        Error::IllegalOperation,
        "Mint of IRQControl",
    )?;
    expect_tags(
        &[(d, tag::NULL), (init::IRQ_CONTROL, tag::IRQ_CONTROL)],
        "after the failures",
    )
}

pub(super) fn copy_unmapped_pt(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let pt = env.create(ObjectType::PageTable, 0)?;
    let d = env.slot()?;
    expect_err(
        copy(d, pt, CapRights::ALL),
        Error::IllegalOperation,
        "Copy of an unmapped page table",
    )?;
    expect_err(
        mint(d, pt, CapRights::ALL, 0),
        Error::IllegalOperation,
        "Mint of an unmapped page table",
    )?;
    expect_tag(d, tag::NULL, "destination")?;
    // Move needs no derivation.
    expect_ok(move_(d, pt), "Move of an unmapped page table")?;
    expect_tag(d, tag::PAGE_TABLE, "moved page table")
}

pub(super) fn copy_arch_caps(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let frame = env.create(ObjectType::SmallPage, 0)?;
    let d = env.slots(6)?;
    let copies = [
        (
            init::VSPACE,
            tag::PAGE_TABLE,
            "Copy of the root VSpace (a mapped page table)",
        ),
        (
            init::IPC_BUFFER,
            tag::FRAME,
            "Copy of the mapped IPC buffer frame",
        ),
        (frame, tag::FRAME, "Copy of an unmapped frame"),
        (init::ASID_CONTROL, tag::ASID_CONTROL, "Copy of ASIDControl"),
        (
            init::ASID_POOL,
            tag::ASID_POOL,
            "Copy of the root ASID pool",
        ),
        (init::DOMAIN, tag::DOMAIN, "Copy of the DomainSet cap"),
    ];
    for (i, (src, want, what)) in copies.into_iter().enumerate() {
        let dest = d + i as Word;
        expect_ok(copy(dest, src, CapRights::ALL), what)?;
        expect_tag(dest, want, what)?;
    }
    // The copies stay: deleting them would only add a risk (finalising a
    // boot-time object by mistake) for no check.
    Ok(())
}

pub(super) fn copy_root_cnode(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let c = env.slot()?;
    expect_ok(
        copy(c, init::CNODE, CapRights::NONE),
        "Copy of the root CNode",
    )?;
    expect_tag(c, tag::CNODE, "the copy")?;
    let croot = CNode::from_bits(c);
    let (a, b) = (env.slot()?, env.slot()?);
    expect_ok(
        croot.copy(a, FULL, croot, init::TCB, FULL, CapRights::ALL),
        "Copy invoked on the copy (rights do not apply to CNodes)",
    )?;
    expect_ok(move_(b, a), "Move")?;
    expect_tags(&[(a, tag::NULL), (b, tag::THREAD)], "after Copy and Move")
}
