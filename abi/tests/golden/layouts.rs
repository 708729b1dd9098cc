//! Groups of layouts: the words packed by bitfields (message info, cap
//! rights, CNode cap data) and the structs shared through memory (bootinfo,
//! IPC buffer, `seL4_UserContext`). Struct members are compared by
//! `offset_of!` on cairn-abi's `repr(C)` types, so a reordered or resized
//! member fails even if no constant changed.

use core::mem::{align_of, offset_of, size_of};

use cairn_abi::bootinfo::{self, BootInfo, BootInfoHeader, SlotRegion, UntypedDesc};
use cairn_abi::cap::{self, CapRights};
use cairn_abi::context::{self, UserContext};
use cairn_abi::message::{self, ipc_buffer_offset, IpcBuffer, MessageInfo};
use cairn_abi::Word;

use crate::check;
use crate::table::Check;

/// A cairn-abi accessor of a bitfield: its description, and the function.
type Reader<'a> = (&'a str, &'a dyn Fn(Word) -> Word);

/// Compares one bitfield `ty.field` with cairn-abi's encoding of it:
/// `only` is the word cairn-abi builds when given all ones for this field
/// and zero for the others (described by `build`); `read`, if cairn-abi
/// has one, is its accessor of the field.
fn bitfield(
    c: &mut Check,
    ty: &str,
    field: &str,
    (build, only): (&str, Word),
    read: Option<Reader>,
) {
    let shift_name = format!("{ty}.{field}.shift");
    let width_name = format!("{ty}.{field}.width");
    let shift = c.golden(&shift_name);
    let width = c.golden(&width_name);
    c.compare(
        &shift_name,
        shift,
        &format!("{build}.trailing_zeros()"),
        only.trailing_zeros().into(),
    );
    c.compare(
        &width_name,
        width,
        &format!("{build}.count_ones()"),
        only.count_ones().into(),
    );
    let (Ok(shift), Ok(width)) = (u32::try_from(shift), u32::try_from(width)) else {
        return;
    };
    let Some((reader, read)) = read else {
        return;
    };
    if shift + width > Word::BITS {
        return;
    }
    // The accessor must see exactly the golden bits: all of them set in a
    // word where only they are set, none in a word where all others are.
    let ones = ((1u128 << width) - 1) as Word;
    let field_mask = ones << shift;
    c.compare(
        &format!("{ty}.{field} of {field_mask:#x}"),
        ones.into(),
        &format!("{reader} of {field_mask:#x}"),
        read(field_mask).into(),
    );
    c.compare(
        &format!("{ty}.{field} of {:#x}", !field_mask),
        0,
        &format!("{reader} of {:#x}", !field_mask),
        read(!field_mask).into(),
    );
}

pub fn message_info_layout(c: &mut Check) {
    let m = MessageInfo::new;
    bitfield(
        c,
        "seL4_MessageInfo",
        "label",
        ("MessageInfo::new(!0, 0, 0, 0).0", m(!0, 0, 0, 0).0),
        Some(("MessageInfo::label", &|w| MessageInfo(w).label())),
    );
    bitfield(
        c,
        "seL4_MessageInfo",
        "capsUnwrapped",
        ("MessageInfo::new(0, !0, 0, 0).0", m(0, !0, 0, 0).0),
        Some(("MessageInfo::caps_unwrapped", &|w| {
            MessageInfo(w).caps_unwrapped()
        })),
    );
    bitfield(
        c,
        "seL4_MessageInfo",
        "extraCaps",
        ("MessageInfo::new(0, 0, !0, 0).0", m(0, 0, !0, 0).0),
        Some(("MessageInfo::extra_caps", &|w| MessageInfo(w).extra_caps())),
    );
    bitfield(
        c,
        "seL4_MessageInfo",
        "length",
        ("MessageInfo::new(0, 0, 0, !0).0", m(0, 0, 0, !0).0),
        Some(("MessageInfo::length", &|w| MessageInfo(w).length())),
    );
    check!(c,
        "seL4_MsgLengthBits" => message::MSG_LENGTH_BITS,
        "seL4_MsgExtraCapBits" => message::MSG_EXTRA_CAP_BITS,
        "seL4_MsgMaxLength" => message::MSG_MAX_LENGTH,
        "seL4_MsgMaxExtraCaps" => message::MSG_MAX_EXTRA_CAPS,
        "n_msgRegisters" => message::N_MSG_REGISTERS,
    );
}

pub fn cap_rights_and_cap_data(c: &mut Check) {
    let r = CapRights::new;
    bitfield(
        c,
        "seL4_CapRights",
        "capAllowWrite",
        (
            "CapRights::new(false, false, false, true).0",
            r(false, false, false, true).0,
        ),
        Some(("CapRights::write", &|w| CapRights(w).write().into())),
    );
    bitfield(
        c,
        "seL4_CapRights",
        "capAllowRead",
        (
            "CapRights::new(false, false, true, false).0",
            r(false, false, true, false).0,
        ),
        Some(("CapRights::read", &|w| CapRights(w).read().into())),
    );
    bitfield(
        c,
        "seL4_CapRights",
        "capAllowGrant",
        (
            "CapRights::new(false, true, false, false).0",
            r(false, true, false, false).0,
        ),
        Some(("CapRights::grant", &|w| CapRights(w).grant().into())),
    );
    bitfield(
        c,
        "seL4_CapRights",
        "capAllowGrantReply",
        (
            "CapRights::new(true, false, false, false).0",
            r(true, false, false, false).0,
        ),
        Some(("CapRights::grant_reply", &|w| {
            CapRights(w).grant_reply().into()
        })),
    );
    // Masking keeps only the seL4_CapRightsBits rights bits.
    let rights_bits = c.golden("seL4_CapRightsBits");
    c.compare(
        "all ones masked to seL4_CapRightsBits bits",
        (1i128 << rights_bits) - 1,
        "CapRights(!0).mask(CapRights(!0)).0",
        CapRights(!0).mask(CapRights(!0)).0.into(),
    );
    check!(c,
        "seL4_AllRights" => CapRights::ALL.0,
        "seL4_ReadWrite" => CapRights::READ_WRITE.0,
        "seL4_CanRead" => CapRights::CAN_READ.0,
        "seL4_CanWrite" => CapRights::CAN_WRITE.0,
        "seL4_CanGrant" => CapRights::CAN_GRANT.0,
        "seL4_CanGrantReply" => CapRights::CAN_GRANT_REPLY.0,
        "seL4_NoWrite" => CapRights::NO_WRITE.0,
        "seL4_NoRead" => CapRights::NO_READ.0,
        "seL4_NoRights" => CapRights::NONE.0,
        "seL4_CapRightsBits" => CapRights::ALL.0.count_ones(),
    );
    // cairn-abi has only the constructor of seL4_CNode_CapData.
    bitfield(
        c,
        "seL4_CNode_CapData",
        "guard",
        ("cnode_cap_data(!0, 0)", cap::cnode_cap_data(!0, 0)),
        None,
    );
    bitfield(
        c,
        "seL4_CNode_CapData",
        "guardSize",
        ("cnode_cap_data(0, !0)", cap::cnode_cap_data(0, !0)),
        None,
    );
    check!(c,
        "seL4_GuardSizeBits" => cap::GUARD_SIZE_BITS,
        "seL4_GuardBits" => cap::GUARD_BITS,
        "seL4_BadgeBits" => cap::BADGE_BITS,
    );
}

pub fn bootinfo_layout(c: &mut Check) {
    check!(c,
        "seL4_BootInfo.SIZEOF" => size_of::<BootInfo>(),
        "seL4_BootInfo.SIZEOF" => bootinfo::BOOT_INFO_SIZE,
        "seL4_BootInfo.extraLen" => offset_of!(BootInfo, extra_len),
        "seL4_BootInfo.nodeID" => offset_of!(BootInfo, node_id),
        "seL4_BootInfo.numNodes" => offset_of!(BootInfo, num_nodes),
        "seL4_BootInfo.numIOPTLevels" => offset_of!(BootInfo, num_io_pt_levels),
        "seL4_BootInfo.ipcBuffer" => offset_of!(BootInfo, ipc_buffer),
        "seL4_BootInfo.empty" => offset_of!(BootInfo, empty),
        "seL4_BootInfo.sharedFrames" => offset_of!(BootInfo, shared_frames),
        "seL4_BootInfo.userImageFrames" => offset_of!(BootInfo, user_image_frames),
        "seL4_BootInfo.userImagePaging" => offset_of!(BootInfo, user_image_paging),
        "seL4_BootInfo.ioSpaceCaps" => offset_of!(BootInfo, io_space_caps),
        "seL4_BootInfo.extraBIPages" => offset_of!(BootInfo, extra_bi_pages),
        "seL4_BootInfo.initThreadCNodeSizeBits" => offset_of!(BootInfo, init_thread_cnode_size_bits),
        "seL4_BootInfo.initThreadDomain" => offset_of!(BootInfo, init_thread_domain),
        "seL4_BootInfo.untyped" => offset_of!(BootInfo, untyped),
        "seL4_BootInfo.untypedList" => offset_of!(BootInfo, untyped_list),
    );
    #[cfg(feature = "mcs")]
    check!(c, "seL4_BootInfo.schedcontrol" => offset_of!(BootInfo, schedcontrol));
    check!(c,
        "seL4_SlotRegion.SIZEOF" => size_of::<SlotRegion>(),
        "seL4_SlotRegion.start" => offset_of!(SlotRegion, start),
        "seL4_SlotRegion.end" => offset_of!(SlotRegion, end),
        "seL4_UntypedDesc.SIZEOF" => size_of::<UntypedDesc>(),
        "seL4_UntypedDesc.paddr" => offset_of!(UntypedDesc, paddr),
        "seL4_UntypedDesc.sizeBits" => offset_of!(UntypedDesc, size_bits),
        "seL4_UntypedDesc.isDevice" => offset_of!(UntypedDesc, is_device),
        "seL4_UntypedDesc.padding" => offset_of!(UntypedDesc, padding),
        "seL4_BootInfoHeader.SIZEOF" => size_of::<BootInfoHeader>(),
        "seL4_BootInfoHeader.id" => offset_of!(BootInfoHeader, id),
        "seL4_BootInfoHeader.len" => offset_of!(BootInfoHeader, len),
    );
    // The untyped list runs to the end of the struct: its length follows
    // from the golden layout alone.
    let list = c.golden("seL4_BootInfo.SIZEOF") - c.golden("seL4_BootInfo.untypedList");
    let entries = list / c.golden("seL4_UntypedDesc.SIZEOF");
    c.compare(
        "untypedList entries (SIZEOF - untypedList) / sizeof(seL4_UntypedDesc)",
        entries,
        "bootinfo::MAX_BOOTINFO_UNTYPED_CAPS",
        bootinfo::MAX_BOOTINFO_UNTYPED_CAPS as i128,
    );
}

pub fn ipc_buffer_layout(c: &mut Check) {
    check!(c,
        "seL4_IPCBuffer.SIZEOF" => size_of::<IpcBuffer>(),
        "seL4_IPCBuffer.tag" => offset_of!(IpcBuffer, tag),
        "seL4_IPCBuffer.msg" => offset_of!(IpcBuffer, msg),
        "seL4_IPCBuffer.msg" => ipc_buffer_offset::MSG,
        "seL4_IPCBuffer.userData" => offset_of!(IpcBuffer, user_data),
        "seL4_IPCBuffer.userData" => ipc_buffer_offset::USER_DATA,
        "seL4_IPCBuffer.caps_or_badges" => offset_of!(IpcBuffer, caps_or_badges),
        "seL4_IPCBuffer.caps_or_badges" => ipc_buffer_offset::CAPS_OR_BADGES,
        "seL4_IPCBuffer.receiveCNode" => offset_of!(IpcBuffer, receive_cnode),
        "seL4_IPCBuffer.receiveCNode" => ipc_buffer_offset::RECEIVE_CNODE,
        "seL4_IPCBuffer.receiveIndex" => offset_of!(IpcBuffer, receive_index),
        "seL4_IPCBuffer.receiveIndex" => ipc_buffer_offset::RECEIVE_INDEX,
        "seL4_IPCBuffer.receiveDepth" => offset_of!(IpcBuffer, receive_depth),
        "seL4_IPCBuffer.receiveDepth" => ipc_buffer_offset::RECEIVE_DEPTH,
        "seL4_IPCBufferSizeBits" => message::IPC_BUFFER_SIZE_BITS,
    );
    // libsel4 aligns the C type to its size; the kernel relies on a buffer
    // never crossing a frame.
    let size_bits = c.golden("seL4_IPCBufferSizeBits");
    c.compare(
        "1 << seL4_IPCBufferSizeBits (alignment)",
        1 << size_bits,
        "align_of::<IpcBuffer>()",
        align_of::<IpcBuffer>() as i128,
    );
}

/// `seL4_UserContext` members that are arrays in cairn-abi: golden name
/// prefix, array offset, number of registers (cairn-abi's: a register too
/// many has no golden name, one too few moves the next array).
fn register_arrays() -> [(&'static str, usize, usize); 3] {
    let ctx = UserContext::default();
    [
        ("s", offset_of!(UserContext, s), ctx.s.len()),
        ("a", offset_of!(UserContext, a), ctx.a.len()),
        ("t", offset_of!(UserContext, t), ctx.t.len()),
    ]
}

pub fn user_context_order(c: &mut Check) {
    check!(c,
        "seL4_UserContext.SIZEOF" => size_of::<UserContext>(),
        "seL4_UserContext.pc" => offset_of!(UserContext, pc),
        "seL4_UserContext.ra" => offset_of!(UserContext, ra),
        "seL4_UserContext.sp" => offset_of!(UserContext, sp),
        "seL4_UserContext.gp" => offset_of!(UserContext, gp),
        "seL4_UserContext.tp" => offset_of!(UserContext, tp),
        "n_frameRegisters" => context::FRAME_REGISTERS,
        "n_gpRegisters" => context::GP_REGISTERS,
    );
    for (prefix, base, len) in register_arrays() {
        for i in 0..len {
            let name = format!("seL4_UserContext.{prefix}{i}");
            let golden = c.golden(&name);
            c.compare(
                &name,
                golden,
                &format!("offset_of!(UserContext, {prefix}) + 8 * {i}"),
                (base + size_of::<Word>() * i) as i128,
            );
        }
    }
    let words = c.golden("seL4_UserContext.SIZEOF") >> c.golden("seL4_WordSizeBits");
    c.compare(
        "seL4_UserContext.SIZEOF in words",
        words,
        "context::USER_CONTEXT_WORDS",
        context::USER_CONTEXT_WORDS as i128,
    );
}
