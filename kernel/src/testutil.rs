//! Shared helpers for host tests of invocations: boot a simulated machine
//! with a root task (as `boot::tests` does), then make system calls as the
//! root thread and read the kernel's reply.
//!
//! ```ignore
//! let k = testutil::boot();
//! let ut = k.find_untyped(16, false).unwrap();
//! let r = k.call(ut, label::UNTYPED_RETYPE, &[2, 0, 0, 0, k.first_empty, 1], &[init::CNODE]);
//! assert_eq!(r, Outcome::Reply { label: 0, mrs: vec![] });
//! ```

#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test support, also built for the fuzzer (feature `fuzzing`) \
              and so not `cfg(test)`: a panic here is a failed check"
)]

use crate::arch::host::SimMachine;
use crate::arch::{CAP_REGISTER, MSG_INFO_REGISTER};
use crate::boot::{boot_root_task, BootParams};
use crate::cap::cte::{cnode_slot, SlotRef};
use crate::cap::Cap;
use crate::ipc::message::MessageRegs;
use crate::object::access::{copy_in, write_word};
use crate::object::tcb::{Tcb, TcbRef, ThreadState, TCB_CTABLE};
use crate::types::{PAddr, Region};
use cairn_abi::image::ImageHeader;
use cairn_abi::message::MessageInfo;

/// Start of simulated RAM.
pub const RAM: u64 = 0x8000_0000;
/// Size of simulated RAM.
pub const RAM_SIZE: u64 = 64 << 20;
/// Where the simulated kernel image starts and ends.
pub const KERNEL_START: u64 = 0x8020_0000;
pub const KERNEL_END: u64 = 0x8040_0000;
/// Where the simulated root task's image is (3 pages).
pub const USER_PA: u64 = 0x8030_0000;
use crate::ipc::transfer::CAPS_OR_BADGES_WORD;

/// The boot image header of the simulated root task: 3 pages at 0x10000.
pub fn image_header() -> ImageHeader {
    ImageHeader {
        magic: ImageHeader::MAGIC,
        version: ImageHeader::VERSION,
        image_size: KERNEL_END - KERNEL_START,
        user_offset: 0x1000,
        user_size: 0x3000,
        user_v_start: 0x10000,
        user_v_end: 0x13000,
        user_entry: 0x10040,
        reserved: [0; 8],
    }
}

/// A booted simulated kernel and its root thread.
pub struct TestKernel {
    /// The root thread (the caller of [`TestKernel::call`]).
    pub tcb: TcbRef,
    /// Physical address of the root CNode.
    pub cnode: PAddr,
    /// Radix of the root CNode.
    pub radix: u32,
    /// The first empty slot after the boot caps (bootinfo `empty.start`).
    pub first_empty: u64,
    /// The untyped caps' slots (bootinfo `untyped`).
    pub untypeds: core::ops::Range<u64>,
    /// The next slot [`TestKernel::make`] fills (counting down from the
    /// top of the root CNode, away from the slots tests pick by hand).
    next_made: core::cell::Cell<u64>,
}

/// What a system call did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The kernel replied: the label (0 = success, else the error code) and
    /// the message registers.
    Reply { label: u64, mrs: Vec<u64> },
    /// The operation was preempted; the thread will restart the syscall.
    Preempted,
}

/// MCS: the clock reads `t`, and the kernel's time is `t` as if an entry
/// had just read it (seL4's `updateTimestamp`: the running context's
/// uncharged usage grows to `t`; the budget is not checked). The kernel
/// takes the time once per entry (`sched::mcs::cur_time`), so a test that
/// invokes the kernel without an entry moves both; a clock set back sets
/// the kernel's time back too.
#[cfg(feature = "mcs")]
pub fn set_time(t: u64) {
    SimMachine::set_time(t);
    let ms = crate::state::kernel().mcs();
    ms.update_time(t);
    ms.rewind_time(t);
}

/// Boots the root task on a fresh simulated machine (64 MiB of RAM at
/// 0x8000_0000) and returns it, its thread being the current one.
pub fn boot() -> TestKernel {
    boot_with_ram(RAM_SIZE)
}

/// [`boot`] with `ram_size` bytes of RAM (at least 8 MiB), for tests that
/// copy the whole machine often.
pub fn boot_with_ram(ram_size: u64) -> TestKernel {
    crate::state::reset();
    SimMachine::install(RAM, ram_size);
    let header = image_header();
    copy_in(PAddr(USER_PA), &[0xAB; 0x3000]);
    let ram = [Region::new(RAM, RAM + ram_size)];
    let reserved = [Region::new(KERNEL_START, KERNEL_END)];
    let r = boot_root_task(&BootParams {
        ram: &ram,
        reserved: &reserved,
        kernel_devices: &[Region::new(0xC00_0000, 0xC60_0000)],
        header: &header,
        user_image_paddr: USER_PA,
        dtb: None,
        boot_reuse: Region::default(),
    });
    assert_eq!(r, Ok(()), "boot");
    let tcb = crate::sched::schedule().expect("root thread");
    let Cap::CNode { ptr, radix, .. } = Tcb::slot(tcb, TCB_CTABLE).get().cap() else {
        panic!("root thread has no CNode")
    };
    let radix = radix as u32;
    // The untyped caps follow the boot caps; the first empty slot follows them.
    let mut i = 0;
    while i < 1u64 << radix && !matches!(cnode_slot(ptr, i).get().cap(), Cap::Untyped { .. }) {
        i += 1;
    }
    let start = i;
    while i < 1u64 << radix && matches!(cnode_slot(ptr, i).get().cap(), Cap::Untyped { .. }) {
        i += 1;
    }
    TestKernel {
        tcb,
        cnode: ptr,
        radix,
        first_empty: i,
        untypeds: start..i,
        next_made: core::cell::Cell::new(1 << radix),
    }
}

impl TestKernel {
    /// Slot `index` of the root CNode.
    pub fn slot(&self, index: u64) -> SlotRef {
        assert!(index < 1 << self.radix);
        cnode_slot(self.cnode, index)
    }

    /// The capability in slot `index` of the root CNode.
    pub fn cap(&self, index: u64) -> Cap {
        self.slot(index).get().cap()
    }

    /// The slot of the first untyped with exactly `size_bits` and the given
    /// device flag.
    pub fn find_untyped(&self, size_bits: u8, device: bool) -> Option<u64> {
        self.untypeds.clone().find(|&i| {
            matches!(self.cap(i), Cap::Untyped { size_bits: b, is_device: d, .. }
                if b == size_bits && d == device)
        })
    }

    /// `seL4_Untyped_Retype(untyped, ty, size_bits, root CNode, 0, 0,
    /// offset, count)`: the caps go to the root CNode at `offset`.
    pub fn retype(
        &self,
        untyped: u64,
        ty: u64,
        size_bits: u64,
        offset: u64,
        count: u64,
    ) -> Outcome {
        self.call(
            untyped,
            cairn_abi::invocation::label::UNTYPED_RETYPE,
            &[ty, size_bits, 0, 0, offset, count],
            &[cairn_abi::cap::init::CNODE],
        )
    }

    /// The largest RAM untyped's slot.
    pub fn ram_untyped(&self) -> u64 {
        self.untypeds
            .clone()
            .filter(|&i| {
                matches!(
                    self.cap(i),
                    Cap::Untyped {
                        is_device: false,
                        ..
                    }
                )
            })
            .max_by_key(|&i| match self.cap(i) {
                Cap::Untyped { size_bits, .. } => size_bits,
                _ => 0,
            })
            .expect("a RAM untyped")
    }

    /// Retypes `n` objects of `ty` (with `size`) from the largest RAM
    /// untyped into fresh root slots at the top of the CNode; returns the
    /// slots. Panics if the kernel refuses.
    pub fn make(&self, ty: cairn_abi::object::ObjectType, size: u64, n: u64) -> Vec<u64> {
        let first = self.next_made.get() - n;
        self.next_made.set(first);
        let r = self.retype(self.ram_untyped(), ty as u64, size, first, n);
        assert_eq!(r, ok(), "retype {ty:?} into {first}");
        (first..first + n).collect()
    }

    /// `n` new threads at priority `prio`, Running but in no queue, with
    /// the root thread's CSpace, VSpace and IPC buffer frame (so that they
    /// can take part in IPC) and a master reply cap.
    pub fn threads(&self, prio: u64, n: u64) -> Vec<TcbRef> {
        self.make(cairn_abi::object::ObjectType::Tcb, 0, n)
            .into_iter()
            .map(|slot| self.thread_in(slot, prio))
            .collect()
    }

    /// The new TCB whose cap is in root slot `slot`, set up as
    /// [`Self::threads`] sets up each of its threads.
    pub fn thread_in(&self, slot: u64, prio: u64) -> TcbRef {
        use crate::cap::derive::cte_insert;
        use crate::object::tcb::{TCB_BUFFER, TCB_VTABLE};
        let Cap::Thread { tcb } = self.cap(slot) else {
            panic!("no TCB in {slot}")
        };
        let t = TcbRef::new(tcb);
        for i in [TCB_CTABLE, TCB_VTABLE, TCB_BUFFER] {
            let src = Tcb::slot(self.tcb, i);
            cte_insert(src.get().cap(), src, Tcb::slot(t, i));
        }
        t.get().set_ipc_buffer(self.tcb.get().ipc_buffer());
        #[cfg(not(feature = "mcs"))]
        crate::ipc::setup_reply_master(t);
        t.get().set_priority(prio);
        t.get().set_state(ThreadState::Running);
        // MCS: a thread runs only on a SchedContext; each gets its own
        // (round robin, so that it runs as a classic thread does), and a
        // reply object named by its reply register (so that its Recv and
        // ReplyRecv need no more set-up).
        #[cfg(feature = "mcs")]
        {
            self.give_sched_context(t);
            self.give_reply(t);
        }
        t
    }

    /// MCS: a new reply object in a fresh root slot, named by `t`'s reply
    /// register; returns the slot.
    #[cfg(feature = "mcs")]
    pub fn give_reply(&self, t: TcbRef) -> u64 {
        let slot = self.make(cairn_abi::object::ObjectType::Reply, 0, 1)[0];
        t.get().set_reg(crate::arch::REPLY_REGISTER, slot);
        slot
    }

    /// MCS: `t` lets go of the SchedContext [`Self::thread_in`] gave it,
    /// for tests that bind one of their own (or need a passive thread).
    #[cfg(feature = "mcs")]
    pub fn without_sched_context(&self, t: TcbRef) {
        if let Some(sc) = t.get().sched_context() {
            crate::sched::mcs::unbind_tcb(sc);
        }
    }

    /// MCS: binds a fresh round-robin SchedContext (5 ms, the root's
    /// timeslice, released now) to `t`, so that it can run as a classic
    /// thread does (seL4's MCS threads without one never run); returns
    /// its root slot.
    #[cfg(feature = "mcs")]
    pub fn give_sched_context(&self, t: TcbRef) -> u64 {
        use crate::object::sched_context::{bind_tcb, SchedContextRef};
        let bits = cairn_abi::object::MIN_SCHED_CONTEXT_BITS as u64;
        let slot = self.make(cairn_abi::object::ObjectType::SchedContext, bits, 1)[0];
        let Cap::SchedContext { ptr, size_bits } = self.cap(slot) else {
            panic!("no SchedContext in {slot}")
        };
        let sc = SchedContextRef::new(ptr, size_bits);
        let clock = crate::sched::ticks::Clock::new(crate::arch::timebase_hz());
        let slice = clock.us_to_ticks(5_000).expect("5 ms");
        sc.configure_min_refills(
            slice,
            slice,
            crate::sched::mcs::cur_time(),
            clock.min_budget(),
        );
        bind_tcb(sc, t);
        slot
    }

    /// MCS: `n` new passive threads (as [`Self::threads`], but without a
    /// SchedContext: they run only on one lent to them).
    #[cfg(feature = "mcs")]
    pub fn passive_threads(&self, prio: u64, n: u64) -> Vec<TcbRef> {
        let ts = self.threads(prio, n);
        for &t in &ts {
            if let Some(sc) = t.get().sched_context() {
                crate::sched::mcs::unbind_tcb(sc);
            }
        }
        ts
    }

    /// Caps for random invocations to aim at: four boot untypeds and two
    /// fresh objects of every classic type (cptrs).
    pub fn objects_of_every_type(&self) -> Vec<u64> {
        use cairn_abi::object::ObjectType as T;
        let mut v: Vec<u64> = self.untypeds.clone().take(4).collect();
        for (t, size) in [
            (T::Endpoint, 0),
            (T::Notification, 0),
            (T::Tcb, 0),
            (T::CapTable, 4),
            (T::SmallPage, 0),
            (T::PageTable, 0),
            (T::Untyped, 16),
        ] {
            v.extend(self.make(t, size, 2));
        }
        v
    }

    /// Makes a `seL4_Call` as the root thread on `cptr` with `label`, the
    /// message registers `mrs` and the extra caps `extra` (cptrs), and
    /// returns the kernel's reply.
    pub fn call(&self, cptr: u64, label: u64, mrs: &[u64], extra: &[u64]) -> Outcome {
        self.load(cptr, label, mrs, extra);
        crate::api::invoke::handle_invocation(self.tcb, true, true);
        if self.tcb.get().state() == ThreadState::Restart {
            return Outcome::Preempted;
        }
        self.reply()
    }

    /// Writes an invocation into the root thread's registers and IPC
    /// buffer, as user space would before the system call.
    pub fn load(&self, cptr: u64, label: u64, mrs: &[u64], extra: &[u64]) {
        let t = self.tcb.get();
        let regs = MessageRegs::of(self.tcb, true);
        for (i, w) in mrs.iter().enumerate() {
            assert!(regs.set(i, *w), "MR {i} not writable");
        }
        for (i, c) in extra.iter().enumerate() {
            let at = regs
                .buffer_word(CAPS_OR_BADGES_WORD + i)
                .expect("IPC buffer");
            write_word(at, *c);
        }
        let info = MessageInfo::new(label, 0, extra.len() as u64, mrs.len() as u64);
        t.set_reg(CAP_REGISTER, cptr);
        t.set_reg(MSG_INFO_REGISTER, info.0);
        t.set_state(ThreadState::Running);
        crate::state::kernel().reset_work_units();
    }

    /// The kernel's reply in the root thread's registers and IPC buffer
    /// (meaningful if the thread is running).
    pub fn reply(&self) -> Outcome {
        let info = MessageInfo(self.tcb.get().reg(MSG_INFO_REGISTER));
        let regs = MessageRegs::of(self.tcb, false);
        Outcome::Reply {
            label: info.label(),
            mrs: (0..info.length() as usize).map(|i| regs.get(i)).collect(),
        }
    }
}

/// The successful empty reply.
pub fn ok() -> Outcome {
    Outcome::Reply {
        label: 0,
        mrs: vec![],
    }
}

/// An error reply: the error code and its message registers.
pub fn err(code: u64, mrs: &[u64]) -> Outcome {
    Outcome::Reply {
        label: code,
        mrs: mrs.to_vec(),
    }
}
