//! One object of each classic type from RAM, the 1 GiB frame and the other
//! objects a device untyped may and may not make, and the emptiness of a
//! new CNode (ch. 2 Objects, *Untyped Memory*, *Device Memory*; ABI ref §5).

use crate::fixture::{
    device_untyped, expect_err, expect_ok, expect_tag, failure, id, missing, retype, revoke, Env,
    FULL, ROOT,
};
use crate::framework::{Ctx, TestResult};
use sel4::{tag, CNode, Error, ObjectType, Word};

pub(super) fn one_type(ctx: &Ctx<'_>, t: ObjectType, size_bits: Word, want: Word) -> TestResult {
    let env = Env::new(ctx)?;
    let slot = env.slot()?;
    expect_ok(retype(env.pool(), t, size_bits, slot, 1), "Retype")?;
    expect_tag(slot, want, "the new cap")
}

pub(super) fn giga_page(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    // Device memory is not zeroed, so a device untyped makes a 1 GiB frame
    // cheaply. Without one there is nothing to check.
    let Some(dev) = device_untyped(ctx, 30) else {
        return Ok(());
    };
    let slot = env.slot()?;
    let r = retype(dev.cap, ObjectType::GigaPage, 0, slot, 1);
    let tag_now = id(slot);
    let _ = revoke(dev.cap.bits());
    expect_ok(r, "Retype of a 1 GiB frame")?;
    crate::check_eq!(tag_now, tag::FRAME, "the new cap's type");
    Ok(())
}

pub(super) fn device_kernel_objects(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let Some(dev) = device_untyped(ctx, 14) else {
        return Err(failure!("no device untyped of 16 KiB or more"));
    };
    let slot = env.slot()?;
    let cases = [
        (ObjectType::Tcb, 0),
        (ObjectType::Endpoint, 0),
        (ObjectType::Notification, 0),
        (ObjectType::CapTable, 1),
        (ObjectType::PageTable, 0),
    ];
    let mut result = Ok(());
    for (t, bits) in cases {
        let r = retype(dev.cap, t, bits, slot, 1);
        if r != Err(Error::InvalidArgument { index: 1 }) {
            result = Err(failure!(
                "{t:?} from a device untyped: {r:?}, expected InvalidArgument(1)"
            ));
            break;
        }
    }
    let _ = revoke(dev.cap.bits());
    result?;
    expect_tag(slot, tag::NULL, "destination")
}

pub(super) fn device_frames(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let Some(dev) = device_untyped(ctx, 14) else {
        return Err(failure!("no device untyped of 16 KiB or more"));
    };
    let s = env.slots(2)?;
    let frame = retype(dev.cap, ObjectType::SmallPage, 0, s, 1);
    let untyped = retype(dev.cap, ObjectType::Untyped, 12, s + 1, 1);
    let tags = (id(s), id(s + 1));
    let _ = revoke(dev.cap.bits());
    expect_ok(frame, "Retype of a frame from a device untyped")?;
    expect_ok(untyped, "Retype of an untyped from a device untyped")?;
    crate::check_eq!(tags, (tag::FRAME, tag::UNTYPED), "the new caps' types");
    Ok(())
}

pub(super) fn new_cnode_empty(ctx: &Ctx<'_>) -> TestResult {
    let env = Env::new(ctx)?;
    let cn = env.cnode(3)?;
    let out = env.slot()?;
    for i in 0..8 {
        expect_err(
            ROOT.move_(out, FULL, CNode::from_bits(cn), i, 3),
            missing(true, 3),
            "Move from a slot of a new CNode",
        )?;
    }
    Ok(())
}
