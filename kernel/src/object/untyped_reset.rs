//! Resetting an untyped capability (ch. 2 Kernel Services and Objects,
//! *Kernel Memory Allocation*; ABI ref §6.6): before the first Retype of
//! an untyped that has no children, its memory is zeroed (unless it is
//! device memory) and its free index goes back to 0.
//!
//! Zeroing a large untyped takes long, so it is preemptible: memory is
//! cleared from the watermark down in chunks of `2^RESET_CHUNK_BITS`
//! bytes with a preemption point after each; when one preempts, the
//! untyped cap's free index records the progress (everything above it is
//! zero). A
//! restarted Retype decodes again, still finds no children, and continues
//! from the recorded free index. Called only by `object::untyped`.

use crate::cap::{Cap, SlotRef};
use crate::object::access::zero;
use crate::preempt::preemption_point;
use crate::types::round_down;
use crate::types::Preempted;

/// seL4's `CONFIG_RESET_CHUNK_BITS` default: 256-byte chunks between two
/// preemption points.
pub const RESET_CHUNK_BITS: u32 = 8;

/// Resets the untyped capability in `slot` (seL4's `resetUntypedCap`):
/// zeroes `[0, free_index)` (rounded up to a chunk) from the top down,
/// lowering the free index when it stops. `Err(Preempted)` leaves a valid,
/// partially reset cap behind.
pub fn reset_untyped(slot: SlotRef) -> Result<(), Preempted> {
    let Cap::Untyped {
        ptr,
        size_bits,
        free_index,
        is_device,
    } = slot.get().cap()
    else {
        return Ok(());
    };
    if free_index == 0 {
        return Ok(());
    }
    let size = 1u64 << size_bits;
    let set_free_index = |free_index| {
        slot.get().set_cap(Cap::Untyped {
            ptr,
            size_bits,
            free_index,
            is_device,
        })
    };
    if is_device || (size_bits as u32) < RESET_CHUNK_BITS {
        if !is_device {
            zero(ptr, size);
        }
        set_free_index(0);
        return Ok(());
    }
    let chunk = 1u64 << RESET_CHUNK_BITS;
    let mut offset = round_down(free_index.min(size) - 1, RESET_CHUNK_BITS);
    loop {
        zero(ptr.add(offset), chunk);
        // The free index is seen only once the kernel stops: it is written
        // when the reset is preempted or done, not after every chunk (the
        // capability's encoding cost as much as clearing the chunk).
        if let Err(p) = preemption_point() {
            set_free_index(offset);
            return Err(p);
        }
        match offset.checked_sub(chunk) {
            Some(next) => offset = next,
            None => {
                set_free_index(0);
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::arch::host::SimMachine;
    use crate::cap::cte::empty_slot;
    use crate::cap::Cap;
    use crate::object::access::{copy_in, copy_out};
    use crate::testutil::{self, ok, Outcome, TestKernel};
    use crate::types::PAddr;
    use cairn_abi::object::ObjectType as T;

    const EP: u64 = T::Endpoint as u64;
    const NTFN: u64 = T::Notification as u64;
    const PAGE: u64 = T::SmallPage as u64;
    /// A notification's size (MCS's is twice the classic one).
    const NTFN_SIZE: u64 = 1 << cairn_abi::object::NOTIFICATION_BITS;

    fn untyped(k: &TestKernel, slot: u64) -> (PAddr, u64) {
        match k.cap(slot) {
            Cap::Untyped {
                ptr, free_index, ..
            } => (ptr, free_index),
            c => panic!("{c:?}"),
        }
    }

    fn bytes(pa: PAddr, len: usize) -> Vec<u8> {
        let mut v = vec![0; len];
        copy_out(pa, &mut v);
        v
    }

    #[test]
    fn first_retype_zeroes_a_dirty_untyped() {
        let k = testutil::boot();
        let ut = k.find_untyped(16, false).unwrap();
        let (base, _) = untyped(&k, ut);
        copy_in(base, &[0xEE; 1 << 16]);
        assert_eq!(k.retype(ut, EP, 0, k.first_empty, 1), ok());
        assert!(bytes(base, 1 << 16).iter().all(|&b| b == 0));
        assert_eq!(untyped(&k, ut).1, 16);
    }

    #[test]
    fn untyped_without_children_is_reset_again() {
        let k = testutil::boot();
        let ut = k.find_untyped(16, false).unwrap();
        let f = k.first_empty;
        let (base, _) = untyped(&k, ut);
        assert_eq!(k.retype(ut, NTFN, 0, f, 3), ok());
        assert_eq!(untyped(&k, ut).1, 3 * NTFN_SIZE);
        // With children, allocation goes on from the watermark.
        assert_eq!(k.retype(ut, EP, 0, f + 3, 1), ok());
        assert!(
            matches!(k.cap(f + 3), Cap::Endpoint { ptr, .. } if ptr == base.add(3 * NTFN_SIZE))
        );
        // Delete every child: the next Retype resets and starts at 0.
        for s in f..f + 4 {
            empty_slot(k.slot(s));
        }
        copy_in(base, &[0x5A; 112]);
        assert_eq!(k.retype(ut, PAGE, 0, f, 1), ok());
        assert!(matches!(k.cap(f), Cap::Frame { base: b, .. } if b == base));
        assert_eq!(untyped(&k, ut).1, 4096);
        assert!(bytes(base, 4096).iter().all(|&b| b == 0));
    }

    #[test]
    fn untyped_smaller_than_a_chunk_is_reset_at_once() {
        let k = testutil::boot();
        let ut = k.find_untyped(16, false).unwrap();
        let f = k.first_empty;
        assert_eq!(k.retype(ut, T::Untyped as u64, 7, f, 1), ok());
        assert_eq!(k.retype(f, EP, 0, f + 1, 1), ok());
        empty_slot(k.slot(f + 1));
        let (base, free) = untyped(&k, f);
        assert_eq!(free, 16);
        copy_in(base, &[0x77; 128]);
        SimMachine::set_interrupt_pending_after(Some(0));
        assert_eq!(k.retype(f, EP, 0, f + 1, 8), ok(), "no preemption point");
        SimMachine::set_interrupt_pending_after(None);
        assert!(bytes(base, 128).iter().all(|&b| b == 0));
        assert_eq!(untyped(&k, f).1, 128);
    }

    #[test]
    fn device_untyped_reset_touches_no_memory() {
        let k = testutil::boot();
        // 1 GiB of device memory outside the simulated RAM: touching it
        // would panic.
        let dev = k.find_untyped(30, true).unwrap();
        assert_eq!(k.retype(dev, T::GigaPage as u64, 0, k.first_empty, 1), ok());
        assert!(matches!(
            k.cap(k.first_empty),
            Cap::Frame {
                is_device: true,
                ..
            }
        ));
    }

    /// Retypes 4 notifications from the 64 KiB untyped, with an interrupt
    /// pending at the first preemption check of each of `preemptions`
    /// attempts; returns the resulting caps, watermark and memory.
    fn run(preemptions: usize) -> (Vec<Cap>, u64, Vec<u8>) {
        let k = testutil::boot();
        let ut = k.find_untyped(16, false).unwrap();
        let f = k.first_empty;
        let (base, full) = untyped(&k, ut);
        assert_eq!(full, 1 << 16);
        copy_in(base, &[0xEE; 1 << 16]);
        let mut expect_free = full;
        for _ in 0..preemptions {
            SimMachine::set_interrupt_pending_after(Some(1));
            assert_eq!(k.retype(ut, NTFN, 0, f, 4), Outcome::Preempted);
            // 100 work units (chunks) between checks: 25 600 bytes per attempt.
            expect_free -= 100 << super::RESET_CHUNK_BITS;
            let (_, free) = untyped(&k, ut);
            assert_eq!(free, expect_free, "progress recorded in the cap");
            let mem = bytes(base, 1 << 16);
            assert!(mem[..free as usize].iter().all(|&b| b == 0xEE));
            assert!(mem[free as usize..].iter().all(|&b| b == 0));
            assert!((f..f + 4).all(|s| k.cap(s).is_null()), "nothing created");
            assert_eq!(crate::cap::derive::ensure_no_children(k.slot(ut)), Ok(()));
        }
        SimMachine::set_interrupt_pending_after(None);
        assert_eq!(k.retype(ut, NTFN, 0, f, 4), ok());
        assert_eq!(crate::state::kernel().preemptions(), preemptions as u64);
        let caps = (f..f + 4).map(|s| k.cap(s)).collect();
        (caps, untyped(&k, ut).1, bytes(base, 1 << 16))
    }

    #[test]
    fn preempted_reset_resumes_and_matches_an_unpreempted_run() {
        let plain = run(0);
        assert_eq!(plain.1, 4 * NTFN_SIZE);
        assert!(plain.2.iter().all(|&b| b == 0));
        assert_eq!(run(1), plain);
        assert_eq!(run(2), plain);
    }
}
