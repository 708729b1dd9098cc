//! What the tests share: the root task's allocators and BootInfo
//! (`Ctx`), the priorities, and the one stack and IPC page on which each
//! test starts its thread.

use cairn_rt::alloc::{create_object, SlotAllocator, UntypedAllocator};
use cairn_rt::println;
use cairn_rt::thread::{IpcPage, Stack, ThreadSpec};
use sel4::cap::init_caps;
use sel4::{BootInfo, CPtr, CapRights, Error, ObjectType};
use sel4::{SchedControl, Tcb, Word};

/// The root thread's priority while the tests run: below the thread's.
pub(crate) const ROOT_PRIO: Word = 100;
pub(crate) const THREAD_PRIO: Word = 200;

static STACK: Stack<16384> = Stack::new();
static PAGE: IpcPage = IpcPage::new();

pub(crate) type Outcome = Result<(), &'static str>;

pub(crate) struct Ctx<'a> {
    pub(crate) bi: &'a BootInfo<'a>,
    pub(crate) untypeds: UntypedAllocator,
    pub(crate) slots: SlotAllocator,
}

impl Ctx<'_> {
    pub(crate) fn make(&mut self, t: ObjectType, size_bits: u32) -> Result<CPtr, &'static str> {
        create_object(&mut self.untypeds, &mut self.slots, t, size_bits)
            .map_err(|_| "cannot create an object")
    }

    /// The SchedControl cap of core 0.
    pub(crate) fn sched_control(&self) -> SchedControl {
        SchedControl::from_bits(self.bi.sched_control().start)
    }

    /// A copy of `src` with `rights` and `badge` in a fresh slot.
    pub(crate) fn mint(&mut self, src: CPtr, rights: CapRights, badge: Word) -> Result<CPtr, &'static str> {
        let d = self.slots.alloc().ok_or("no slot")?;
        let cn = init_caps::CNODE;
        cn.mint(d.0, 64, cn, src.0, 64, rights, badge)
            .map_err(|_| "mint")?;
        Ok(d)
    }
}

pub(crate) fn expect(r: Result<(), Error>, want: Result<(), Error>, what: &'static str) -> Outcome {
    if r == want {
        return Ok(());
    }
    println!("  {what}: got {r:?}, want {want:?}");
    Err(what)
}

/// Prepares `tcb` to run `entry(arg)` at `THREAD_PRIO` on `STACK` and
/// `PAGE` (not yet resumed). One test's thread at a time uses them: each
/// test stops its thread before it returns.
pub(crate) fn prepare_thread(ctx: &Ctx, tcb: Tcb, entry: fn(usize), arg: usize) -> Outcome {
    let spec = ThreadSpec {
        tcb,
        entry,
        arg,
        stack_top: STACK.top(),
        priority: THREAD_PRIO,
        fault_ep: CPtr::NULL,
    };
    // SAFETY: STACK and PAGE serve one thread at a time: each test's thread
    // is stopped (it suspends itself, or its test suspends it) before the
    // test returns, so before the next one prepares another; the root
    // thread never uses them.
    unsafe { cairn_rt::thread::prepare(ctx.bi, &spec, &PAGE) }.map_err(|_| "prepare")
}
