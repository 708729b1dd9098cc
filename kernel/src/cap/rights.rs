//! Capability rights, badges and CNode guards as Copy, Mint, Mutate and
//! Rotate change them (ch. 3 Capability Spaces, *Capability Rights*,
//! *Mint*; ABI ref §4 "seL4_CapRights_t", "seL4_CNode_CapData", "Badges",
//! §11 frame rights). Rights only ever shrink.

use super::cap::{Cap, VmRights};
use cairn_abi::cap::{CapRights, GUARD_SIZE_BITS};

/// seL4's `maskVMRights` (ABI ref §11): Read keeps ReadOnly; ReadWrite
/// needs Read and keeps Write only with Write; anything else (write-only
/// included) becomes KernelOnly.
pub fn mask_vm_rights(r: VmRights, mask: CapRights) -> VmRights {
    match r {
        VmRights::ReadOnly if mask.read() => VmRights::ReadOnly,
        VmRights::ReadWrite if mask.read() && mask.write() => VmRights::ReadWrite,
        VmRights::ReadWrite if mask.read() => VmRights::ReadOnly,
        VmRights::KernelOnly | VmRights::ReadOnly | VmRights::ReadWrite => VmRights::KernelOnly,
    }
}

/// seL4's `maskCapRights`: the capability with its rights reduced by
/// `mask`. Endpoints: Send←Write, Receive←Read, Grant, GrantReply;
/// notifications: Send←Write, Receive←Read; reply caps: Grant; frames: VM
/// rights. Other capabilities have no rights and are unchanged. In place,
/// as [`update_cap_data`].
pub fn mask_cap_rights(mask: CapRights, cap: &mut Cap) {
    match cap {
        Cap::Endpoint { rights, .. } => *rights = rights.mask(mask),
        // Only Write and Read mean anything on a notification.
        Cap::Notification { rights, .. } => *rights = rights.mask(CapRights(mask.0 | 0xC)),
        Cap::Reply { can_grant, .. } => *can_grant &= mask.grant(),
        #[cfg(any(feature = "mcs", test))]
        Cap::ReplyObject { can_grant, .. } => *can_grant &= mask.grant(),
        Cap::Frame { rights, .. } => *rights = mask_vm_rights(*rights, mask),
        // No rights to mask. Listed, not `_`: a new capability type must
        // be placed here on purpose.
        Cap::Null
        | Cap::Untyped { .. }
        | Cap::CNode { .. }
        | Cap::Thread { .. }
        | Cap::IrqControl
        | Cap::IrqHandler { .. }
        | Cap::Zombie { .. }
        | Cap::Domain
        | Cap::PageTable { .. }
        | Cap::AsidControl
        | Cap::AsidPool { .. } => {}
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { .. } | Cap::SchedControl { .. } => {}
    }
}

/// seL4's `updateCapData`: applies Mint's badge or a CNode's new guard.
/// `preserve` (Mutate, Rotate) forbids badging: an endpoint or notification
/// then becomes null, as does one that already has a badge. CNode data is
/// `(guard << 6) | guard_size`; a guard size that with the radix exceeds 64
/// gives null; the guard is masked to `guard_size` bits. A null result means
/// IllegalOperation to the caller. Other capabilities ignore the data.
/// Out of line and in place, for the same reasons as `derive_cap`.
#[inline(never)]
pub fn update_cap_data(preserve: bool, data: u64, cap: &mut Cap) {
    match cap {
        Cap::Endpoint { badge, .. } | Cap::Notification { badge, .. } => match (preserve, *badge) {
            (false, 0) => *badge = data,
            _ => *cap = Cap::Null,
        },
        Cap::CNode {
            radix,
            guard_size,
            guard,
            ..
        } => {
            let size = data & ((1 << GUARD_SIZE_BITS) - 1);
            if size + *radix as u64 > 64 {
                *cap = Cap::Null;
                return;
            }
            let mask = 1u64.checked_shl(size as u32).map_or(u64::MAX, |b| b - 1);
            *guard_size = size as u8;
            *guard = (data >> GUARD_SIZE_BITS) & mask;
        }
        // No badge or guard to set (listed, not `_`, as above).
        Cap::Null
        | Cap::Untyped { .. }
        | Cap::Reply { .. }
        | Cap::Thread { .. }
        | Cap::IrqControl
        | Cap::IrqHandler { .. }
        | Cap::Zombie { .. }
        | Cap::Domain
        | Cap::Frame { .. }
        | Cap::PageTable { .. }
        | Cap::AsidControl
        | Cap::AsidPool { .. } => {}
        #[cfg(any(feature = "mcs", test))]
        Cap::SchedContext { .. } | Cap::SchedControl { .. } | Cap::ReplyObject { .. } => {}
    }
}

/// [`update_cap_data`] of a copy of `cap` (the tests' and the refinement
/// model's form).
#[cfg(test)]
pub fn updated(preserve: bool, data: u64, mut cap: Cap) -> Cap {
    update_cap_data(preserve, data, &mut cap);
    cap
}

/// seL4's `hasCancelSendRights`: an endpoint capability with all four
/// rights (CancelBadgedSends needs it).
pub fn has_cancel_send_rights(cap: &Cap) -> bool {
    matches!(*cap, Cap::Endpoint { rights, .. } if rights.mask(CapRights::ALL) == CapRights::ALL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cap::FrameSize;
    use crate::types::PAddr;

    fn masked(mask: CapRights, mut cap: Cap) -> Cap {
        mask_cap_rights(mask, &mut cap);
        cap
    }

    fn ep(badge: u64, rights: u64) -> Cap {
        Cap::Endpoint {
            ptr: PAddr(0x9000_0000),
            badge,
            rights: CapRights(rights),
        }
    }

    #[test]
    fn endpoint_and_notification_rights_only_shrink() {
        assert_eq!(masked(CapRights(0b0101), ep(0, 0xF)), ep(0, 0b0101));
        assert_eq!(masked(CapRights::ALL, ep(0, 0b0011)), ep(0, 0b0011));
        let n = |r| Cap::Notification {
            ptr: PAddr(0x9000_0000),
            badge: 0,
            rights: CapRights(r),
        };
        assert_eq!(masked(CapRights::CAN_READ, n(0b11)), n(0b10));
        assert_eq!(masked(CapRights::CAN_WRITE, n(0b11)), n(0b01));
        let reply = |g| Cap::Reply {
            tcb: PAddr(0x9000_0000),
            master: false,
            can_grant: g,
        };
        assert_eq!(masked(CapRights::READ_WRITE, reply(true)), reply(false));
        assert_eq!(masked(CapRights::CAN_GRANT, reply(true)), reply(true));
    }

    #[test]
    fn frame_rights_follow_mask_vm_rights() {
        use VmRights::*;
        let rw = CapRights::READ_WRITE;
        assert_eq!(mask_vm_rights(ReadWrite, rw), ReadWrite);
        assert_eq!(mask_vm_rights(ReadWrite, CapRights::CAN_READ), ReadOnly);
        assert_eq!(mask_vm_rights(ReadWrite, CapRights::CAN_WRITE), KernelOnly);
        assert_eq!(mask_vm_rights(ReadOnly, rw), ReadOnly);
        assert_eq!(mask_vm_rights(ReadOnly, CapRights::CAN_WRITE), KernelOnly);
        assert_eq!(mask_vm_rights(KernelOnly, CapRights::ALL), KernelOnly);
        let f = Cap::Frame {
            base: PAddr(0x9000_0000),
            size: FrameSize::Small,
            rights: ReadWrite,
            is_device: false,
            mapping: None,
        };
        let Cap::Frame { rights, .. } = masked(CapRights::CAN_READ, f) else {
            panic!()
        };
        assert_eq!(rights, ReadOnly);
    }

    #[test]
    fn badges_apply_once_and_never_with_preserve() {
        assert_eq!(updated(false, 7, ep(0, 0xF)), ep(7, 0xF));
        assert_eq!(updated(false, 7, ep(3, 0xF)), Cap::Null);
        assert_eq!(updated(true, 7, ep(0, 0xF)), Cap::Null);
        assert_eq!(updated(true, 0, ep(0, 0xF)), Cap::Null);
        assert_eq!(updated(true, 9, Cap::Domain), Cap::Domain);
    }

    #[test]
    fn cnode_guards_are_masked_and_bounded() {
        let cn = |gs, g| Cap::CNode {
            ptr: PAddr(0x9000_0000),
            radix: 10,
            guard_size: gs,
            guard: g,
        };
        let data = cairn_abi::cap::cnode_cap_data(0b1_0110, 4);
        assert_eq!(updated(true, data, cn(0, 0)), cn(4, 0b0110));
        assert_eq!(updated(false, data, cn(0, 0)), cn(4, 0b0110));
        assert_eq!(updated(true, 54, cn(0, 0)), cn(54, 0));
        assert_eq!(updated(true, 55, cn(0, 0)), Cap::Null);
        assert_eq!(updated(true, u64::MAX, cn(0, 0)), Cap::Null);
    }

    #[test]
    fn cancel_badged_sends_needs_all_rights() {
        assert!(has_cancel_send_rights(&ep(5, 0xF)));
        assert!(!has_cancel_send_rights(&ep(5, 0x7)));
        assert!(!has_cancel_send_rights(&Cap::Domain));
    }

    #[test]
    fn mcs_caps_have_no_rights_badge_or_guard() {
        let sc = Cap::SchedContext {
            ptr: PAddr(0x9000_0400),
            size_bits: 10,
        };
        let ctl = Cap::SchedControl { core: 2 };
        for cap in [sc, ctl] {
            assert_eq!(masked(CapRights(0), cap), cap);
            assert_eq!(updated(false, 0x55, cap), cap);
            assert_eq!(updated(true, 0x55, cap), cap);
            assert!(!has_cancel_send_rights(&cap));
        }
    }

    /// An MCS reply cap's only right is Grant (seL4's maskCapRights);
    /// Mint's data leaves it unchanged.
    #[test]
    fn reply_object_caps_mask_grant_only() {
        let reply = |can_grant| Cap::ReplyObject {
            ptr: PAddr(0x9000_0020),
            can_grant,
        };
        assert_eq!(masked(CapRights::READ_WRITE, reply(true)), reply(false));
        assert_eq!(masked(CapRights::CAN_GRANT, reply(true)), reply(true));
        assert_eq!(masked(CapRights::ALL, reply(false)), reply(false));
        assert_eq!(updated(false, 0x55, reply(true)), reply(true));
    }
}
