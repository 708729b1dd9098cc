//! The fixed layout every protection domain gets: where its capabilities
//! sit in its CSpace and where the tool puts its stack and IPC buffer in
//! its address space.
//!
//! The slot numbers are seL4 Microkit's (its tool's CSpace layout, read
//! for the facts), so that a PD's view of its channels is the one
//! Microkit's `libmicrokit` has: channel `id` is found at
//! `BASE_NOTIFY + id`, `BASE_PPC + id` or `BASE_IRQ + id`. The SDK (issue
//! 14, item 5) and the loader (item 3) read the same constants from here.

/// Bits of a PD's CNode: 512 slots, as Microkit.
pub const CNODE_BITS: u8 = 9;
/// The guard of the cap to a PD's CNode, so that a capability pointer is
/// simply a slot number: 64 bits resolve as 55 guard bits (all zero) and
/// 9 index bits (53 and 11 for a [`WIDE_CNODE_BITS`] CNode).
pub const CNODE_GUARD_BITS: u8 = 64 - CNODE_BITS;

/// The PD's input: its endpoint if it has one (it is called or has
/// children), else its notification; the PD waits on it.
pub const INPUT: u64 = 1;
/// A child PD's fault endpoint: its parent's endpoint, badged.
pub const FAULT_EP: u64 = 2;
/// The PD's own VSpace (Microkit gives it for cache maintenance).
pub const VSPACE: u64 = 3;
/// The PD's reply object (MCS only; the classic kernel keeps the reply
/// capability in the thread).
pub const REPLY: u64 = 4;
/// Notifications to the other end of channel `id`: `BASE_NOTIFY + id`.
pub const BASE_NOTIFY: u64 = 10;
/// Endpoints for protected calls over channel `id`: `BASE_PPC + id`.
pub const BASE_PPC: u64 = BASE_NOTIFY + 64;
/// IRQ handlers of the PD's interrupt `id`: `BASE_IRQ + id`.
pub const BASE_IRQ: u64 = BASE_PPC + 64;
/// TCBs of the PD's child `id`: `BASE_CHILD_TCB + id`.
pub const BASE_CHILD_TCB: u64 = BASE_IRQ + 64;
/// Summary caps of channel `id` below 64 whose other end is a wide PD
/// notified through an extra notification: `BASE_SUMMARY + id`.
pub const BASE_SUMMARY: u64 = BASE_CHILD_TCB + 64;

/// Bits of the CNode of a PD with channel ids from 64 on: 2048 slots, so
/// that the slots below stay Microkit's and ids 64 to 255 get their own
/// ranges above 512.
pub const WIDE_CNODE_BITS: u8 = 11;
/// Notification caps of channel ids from 64 on: `HIGH_NOTIFY + id`.
pub const HIGH_NOTIFY: u64 = 512;
/// Protected-call caps of channel ids from 64 on: `HIGH_PPC + id`.
pub const HIGH_PPC: u64 = 768;
/// Summary caps of channel ids from 64 on: `HIGH_SUMMARY + id`.
pub const HIGH_SUMMARY: u64 = 1024;

/// The slot of the notification cap of channel `id`.
pub fn notify_slot(id: u64) -> u64 {
    if id < 64 {
        BASE_NOTIFY + id
    } else {
        HIGH_NOTIFY + id
    }
}

/// The slot of the protected-call cap of channel `id`.
pub fn ppc_slot(id: u64) -> u64 {
    if id < 64 {
        BASE_PPC + id
    } else {
        HIGH_PPC + id
    }
}

/// The slot of the summary cap of channel `id` (a second signal, to a
/// wide PD's own notification).
pub fn summary_slot(id: u64) -> u64 {
    if id < 64 {
        BASE_SUMMARY + id
    } else {
        HIGH_SUMMARY + id
    }
}

/// The SDK's variable with the number of extra notifications of a wide PD
/// (set by the image builder; 0, the initial value, otherwise).
pub const SDK_GROUPS: &str = "__cairn_microkit_groups";
/// The SDK's variables with the bitmap of the PD's channel ids whose
/// `notify` also signals the summary cap: ids `64 i` to `64 i + 63` in
/// `__cairn_microkit_two_step_i`.
pub const SDK_TWO_STEP: [&str; 4] = [
    "__cairn_microkit_two_step_0",
    "__cairn_microkit_two_step_1",
    "__cairn_microkit_two_step_2",
    "__cairn_microkit_two_step_3",
];

/// Badge bit of a protected call on the callee's endpoint (the channel id
/// is in the low bits), as Microkit.
pub const PPC_BADGE: u64 = 1 << 63;
/// Badge bit of a child's fault on its parent's endpoint (the child's id is
/// in the low bits), as Microkit.
pub const FAULT_BADGE: u64 = 1 << 62;

/// IRQ and child ids go from 0 to this, inclusive, and so do channel ids
/// of a PD whose notification carries them all: each is one bit of a
/// notification badge, and the top two bits are the PPC and fault flags
/// above (Microkit's tool enforces the same; its manual says "less than
/// 63").
pub const MAX_ID: u64 = 61;

/// Channel ids (`<end id=..>`) go from 0 to this, inclusive. A PD that is
/// notified on an id above [`MAX_ID`] is *wide*: its notification keeps
/// ids 0 to 60 as bits and bit [`SUMMARY_BIT`] as a summary, and ids from
/// [`FIRST_GROUP_ID`] on arrive through up to [`MAX_GROUPS`] extra
/// notifications of [`GROUP_BITS`] ids each (docs/system.md, "More than
/// 62 channels").
pub const MAX_CHANNEL_ID: u64 = 255;
/// The bit of a wide PD's notification that says "an extra notification
/// has bits": the senders of ids from [`FIRST_GROUP_ID`] on set it after
/// signalling the extra notification.
pub const SUMMARY_BIT: u64 = 61;
/// The first id a wide PD receives through an extra notification.
pub const FIRST_GROUP_ID: u64 = 61;
/// Ids per extra notification (all 64 badge bits: they are only polled,
/// never seen beside an endpoint's badge).
pub const GROUP_BITS: u64 = 64;
/// Extra notifications of a wide PD, at most.
pub const MAX_GROUPS: u64 = (MAX_CHANNEL_ID - FIRST_GROUP_ID) / GROUP_BITS + 1;
/// The wide PD's read caps to its extra notifications: group `g` (from 1)
/// at `BASE_GROUP + g - 1` (slots 5 to 8, free in Microkit's layout).
pub const BASE_GROUP: u64 = 5;

/// Highest priority a PD may have (255 is kept for the system, as in
/// Microkit).
pub const MAX_PRIORITY: u64 = 254;

/// The first virtual address kept for the tool: `map`s must end at or
/// below it. Above it lie the stack, a guard page and the IPC buffer;
/// `seL4_UserTop` (0x3f_ffff_f000) ends the Sv39 user address space.
pub const PD_MAP_LIMIT: u64 = 0x3f_0000_0000;
/// The IPC buffer's page (the last page below `seL4_UserTop`).
pub const IPC_BUFFER_VADDR: u64 = 0x3f_ffff_e000;
/// The top of the stack. The page between it and the IPC buffer stays
/// unmapped as a guard, and so does the memory below `stack_bottom`, so
/// that a stack overflow faults instead of writing over a mapping.
pub const STACK_TOP: u64 = 0x3f_ffff_d000;

/// The lowest address of a stack of `size` bytes.
pub fn stack_bottom(size: u64) -> u64 {
    STACK_TOP.saturating_sub(size)
}

/// Default and limits of `stack_size`, as Microkit: 8 KiB, 4 KiB to 16 MiB.
pub const STACK_DEFAULT: u64 = 0x2000;
/// The smallest stack.
pub const STACK_MIN: u64 = 0x1000;
/// The largest stack.
pub const STACK_MAX: u64 = 16 << 20;

/// Page sizes a memory region may use on RISC-V 64 (Sv39), as Microkit:
/// 4 KiB and 2 MiB.
pub const PAGE_SIZES: [u64; 2] = [0x1000, 0x20_0000];

/// IRQs user space may take on QEMU `virt`: the PLIC's sources 1 to 95
/// (Cairn's kernel keeps 96, `maxIRQ`, for its timer).
pub const IRQ_RANGE: std::ops::RangeInclusive<u64> = 1..=95;

/// MCS defaults, as Microkit: a budget of 1000 µs, the period equal to the
/// budget.
pub const BUDGET_DEFAULT_US: u64 = 1000;

/// The monitor (docs/system.md, "The monitor"): a thread the tool adds to
/// every system, as Microkit does. It is the fault handler of every
/// top-level PD (their faults arrive on its endpoint with the badge
/// [`monitor_badge`] and it prints the PD's name and the fault), and
/// under MCS it takes a passive PD's scheduling context after `init`
/// (unbound from the PD's thread, bound to its notification). Its
/// objects are named `monitor_*`, which no PD's can be (PD objects start
/// with their kind: `tcb_P`, `ntfn_P`, ...), and no PD may be called
/// `monitor` (its page tables would share names with the monitor's).
pub const MONITOR: &str = "monitor";
/// The monitor runs above every PD (255, which PDs may not take), so a
/// fault is reported before anything else runs.
pub const MONITOR_PRIORITY: u64 = 255;
/// Slot of a passive PD's cap to the monitor's endpoint (write only,
/// badge [`PASSIVE_BADGE`] | [`monitor_badge`]): the SDK sends on it once
/// `init` is done. Free in Microkit's layout (its BASE_NOTIFY is 10).
pub const MONITOR_EP: u64 = 9;
/// Badge bit of a passive PD's request on the monitor's endpoint.
pub const PASSIVE_BADGE: u64 = 1 << 63;

/// The badge by which the monitor knows PD `index` (of `System::pds`):
/// `index + 1`, so that no cap to it is unbadged.
pub fn monitor_badge(index: usize) -> u64 {
    index as u64 + 1
}

/// The monitor's CSpace: its endpoint at [`INPUT`], its reply object at
/// [`REPLY`] (MCS), and for each passive PD `i` its scheduling context,
/// thread and notification at `MON_BASE + 3 i` (+ 0, 1, 2).
pub const MON_BASE: u64 = 16;
/// The monitor's CNode: 2^9 slots, more when passive PDs need them.
pub fn monitor_cnode_bits(pds: usize) -> u8 {
    let need = MON_BASE + 3 * pds as u64;
    (CNODE_BITS..64).find(|b| need <= 1u64 << b).unwrap_or(63)
}

/// The monitor's variable with the PDs' names (a PD's badge `b` is the
/// `b`-th, from 1), each followed by a zero byte; the image builder
/// writes it. Its size in the monitor's program is [`MONITOR_NAMES_BYTES`].
pub const MONITOR_NAMES: &str = "__cairn_monitor_names";
/// Room for the names: 4 KiB.
pub const MONITOR_NAMES_BYTES: usize = 4096;
/// The physical address of QEMU `virt`'s UART (an NS16550A), where the
/// monitor writes its reports itself: the kernel's `seL4_DebugPutChar`
/// exists only in debug kernels.
pub const UART_PADDR: u64 = 0x1000_0000;
/// Where the monitor maps the page (or large page) holding the UART:
/// 1 GiB, below every program and above the monitor's own (at 0x10000).
pub const MONITOR_UART_VADDR: u64 = 0x4000_0000;
/// The monitor's variable with the UART's address in its address space
/// (the image builder writes it; 0: print through the kernel instead).
pub const MONITOR_UART: &str = "__cairn_monitor_uart";
/// The SDK's variable that silences `println!` (1: the kernel has no
/// `seL4_DebugPutChar`, `debug=off`); the image builder writes it.
pub const SDK_QUIET: &str = "__cairn_microkit_quiet";
/// The SDK's variable that makes a PD passive (1) after `init`.
pub const SDK_PASSIVE: &str = "__cairn_microkit_passive";
