//! A simulated machine for host tests.
//!
//! "Physical memory" is a 2 MiB-aligned heap buffer, zeroed lazily by the
//! OS as pages are first touched, that a test installs for its thread with
//! [`SimMachine::install`]; physical address `base` is the buffer's first
//! byte. Console output is captured per thread. Everything
//! else (TLB, address-space switch) is recorded so that tests can check it.
#![allow(unsafe_code)]
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "the simulated machine exists only in host tests: a misuse is a bug \
              in the test, reported by panicking like a failed assertion"
)]

use crate::arch::{FPU_FIRST_WORD, FPU_WORDS, REGISTER_WORDS};
use crate::types::PAddr;
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::cell::{Cell, RefCell};

struct Sim {
    base: u64,
    size: u64,
    /// The first byte of simulated RAM (physical address `base`), inside
    /// `block`.
    ptr: *mut u8,
    /// The allocation holding the RAM, and its layout.
    block: *mut u8,
    layout: Layout,
    /// Everything else it holds ([`SimMachine::save`] keeps a copy).
    dev: Devices,
    /// One bit per page of RAM that the kernel translated an address in
    /// since the last [`SimMachine::save`] (every access to simulated RAM
    /// goes through [`paddr_range_to_kptr`] or [`paddr_to_kptr`]), so that
    /// [`SimMachine::rollback`] copies back only those.
    touched: Box<[Cell<u64>]>,
    /// The same since the last [`SimMachine::clear_recent`] (and every
    /// page a rollback copied back): the fuzzer's checks compare only the
    /// slots in these pages with what they last read.
    recent: Box<[Cell<u64>]>,
    /// The machine as [`SimMachine::save`] left it.
    saved: Option<Box<Saved>>,
}

/// The simulated machine but its RAM and the bookkeeping of it: the
/// console, the address space, the interrupt lines and checks, the
/// flushes, the FPU, the clock.
#[derive(Clone)]
struct Devices {
    console: String,
    vspace: Option<(PAddr, u16)>,
    /// An interrupt becomes pending after this many more checks.
    irq_after: Option<u64>,
    /// Checks of `interrupt_pending` so far.
    irq_checks: u64,
    /// Unmasked IRQ lines (bit n = IRQ n).
    irq_unmasked: u128,
    /// TLB flushes since the last [`SimMachine::take_flushes`].
    flushes: Vec<Flush>,
    /// The FPU registers (f0..f31, fcsr).
    fpu: [u64; FPU_WORDS],
    /// Copies between the FPU and a TCB ([`fpu_save`], [`fpu_load`]).
    fpu_copies: u64,
    /// The simulated `time` counter ([`now`]); tests set it.
    time: u64,
    /// The one-shot timer's deadline as the kernel last programmed it
    /// ([`set_deadline`]; `None`: never programmed).
    deadline: Option<u64>,
}

impl Devices {
    fn new() -> Devices {
        Devices {
            console: String::new(),
            vspace: None,
            irq_after: None,
            irq_checks: 0,
            irq_unmasked: 0,
            flushes: Vec::new(),
            fpu: [0; FPU_WORDS],
            fpu_copies: 0,
            time: 0,
            deadline: None,
        }
    }
}

/// A saved machine: its RAM and everything else [`Sim`] holds.
struct Saved {
    ram: Vec<u8>,
    dev: Devices,
}

/// Bytes per page the touched-page bitmap tracks.
const PAGE: u64 = 4096;

/// A TLB flush the kernel asked for (recorded, so that tests can check
/// that every change to a live mapping is followed by one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flush {
    /// `sfence.vma` of everything.
    All,
    /// `sfence.vma x0, asid`.
    Asid(u16),
    /// `sfence.vma vaddr, asid`.
    Page(u64, u16),
}

/// Everything the simulated machine holds (RAM, recorded flushes and
/// address-space switch, IRQ masks, interrupt checks, console output), for
/// tests that check that an operation changed nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MachineSnapshot {
    ram: Vec<u8>,
    rest: MachineRest,
}

/// The simulated machine but its RAM.
#[derive(Clone, Debug, PartialEq, Eq)]
struct MachineRest {
    base: u64,
    console: String,
    vspace: Option<(PAddr, u16)>,
    irq_checks: u64,
    irq_unmasked: u128,
    flushes: Vec<Flush>,
    fpu: [u64; FPU_WORDS],
    fpu_copies: u64,
}

impl MachineSnapshot {
    /// Copies the machine into this snapshot again (reusing its buffer:
    /// tests take one before every operation).
    pub fn retake(&mut self) {
        SIM.with(|s| {
            let s = s.borrow();
            let m = s.as_ref().expect("no simulated machine installed");
            self.ram.resize(m.size as usize, 0);
            self.ram.copy_from_slice(m.ram());
            self.rest = m.rest();
        })
    }

    /// How the machine now differs from this snapshot (the first RAM byte
    /// that differs, or the other parts), if it does.
    pub fn difference(&self) -> Option<String> {
        SIM.with(|s| {
            let s = s.borrow();
            let m = s.as_ref().expect("no simulated machine installed");
            if m.ram() != self.ram.as_slice() {
                let i = m.ram().iter().zip(&self.ram).position(|(a, b)| a != b);
                return Some(format!(
                    "RAM at {:#x}",
                    m.base + i.unwrap_or(self.ram.len()) as u64
                ));
            }
            let rest = m.rest();
            (rest != self.rest).then(|| format!("{:?} became {:?}", self.rest, rest))
        })
    }
}

impl Sim {
    /// The simulated RAM.
    fn ram(&self) -> &[u8] {
        // SAFETY: `ptr` points to `size` initialised bytes (allocated
        // zeroed in `install`), alive as long as `self`; the kernel is not
        // running while a test holds this slice (tests are single-threaded
        // per machine), so nothing writes them meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.size as usize) }
    }

    fn rest(&self) -> MachineRest {
        MachineRest {
            base: self.base,
            console: self.dev.console.clone(),
            vspace: self.dev.vspace,
            irq_checks: self.dev.irq_checks,
            irq_unmasked: self.dev.irq_unmasked,
            flushes: self.dev.flushes.clone(),
            fpu: self.dev.fpu,
            fpu_copies: self.dev.fpu_copies,
        }
    }
}

/// The host's stand-in for the kernel root table's physical address
/// (outside simulated RAM: never dereferenced, only compared).
pub const HOST_KERNEL_ROOT: PAddr = PAddr(0x7FFF_F000);

impl Drop for Sim {
    fn drop(&mut self) {
        // SAFETY: `block` was returned by `alloc_zeroed(layout)` in
        // `lazy_zeroed` and is freed exactly once, here.
        unsafe { dealloc(self.block, self.layout) }
    }
}

thread_local! {
    static SIM: RefCell<Option<Sim>> = const { RefCell::new(None) };
}

/// Handle to the simulated machine of the current thread.
pub struct SimMachine;

impl SimMachine {
    /// Installs `size` bytes of zeroed simulated RAM at physical address
    /// `base` for the calling thread, replacing any previous machine (whose
    /// memory is freed: kernel objects in it must no longer be used).
    ///
    /// The memory is not written here: most tests touch a few hundred KiB
    /// of their 64 MiB, and zeroing all of it was half the host suite's
    /// system time. See [`lazy_zeroed`].
    pub fn install(base: u64, size: u64) {
        let (block, layout, ptr) = lazy_zeroed(size as usize);
        SIM.with(|s| {
            *s.borrow_mut() = Some(Sim {
                base,
                size,
                ptr,
                block,
                layout,
                dev: Devices::new(),
                touched: (0..size.div_ceil(PAGE * 64))
                    .map(|_| Cell::new(0))
                    .collect(),
                recent: (0..size.div_ceil(PAGE * 64))
                    .map(|_| Cell::new(0))
                    .collect(),
                saved: None,
            })
        });
    }

    /// Saves the whole machine, for [`SimMachine::rollback`] (the fuzzer
    /// boots once and rolls back before every input).
    pub fn save() {
        with_machine(|m| {
            let saved = Saved {
                ram: m.ram().to_vec(),
                dev: m.dev.clone(),
            };
            m.saved = Some(Box::new(saved));
            for w in m.touched.iter() {
                w.set(0);
            }
        })
    }

    /// Sets the simulated `time` counter (what [`now`] answers): tests
    /// choose the instant an MCS operation happens at.
    pub fn set_time(t: u64) {
        SIM.with(|s| {
            if let Some(m) = s.borrow_mut().as_mut() {
                m.dev.time = t;
            }
        })
    }

    /// The deadline the kernel last programmed the timer for
    /// ([`set_deadline`]), if it has programmed it at all.
    pub fn deadline() -> Option<u64> {
        SIM.with(|s| s.borrow().as_ref().and_then(|m| m.dev.deadline))
    }

    /// Puts the machine back as [`SimMachine::save`] left it: the RAM
    /// pages touched since (the others cannot have changed) and everything
    /// else. Returns the number of pages copied back, or `None` if this
    /// machine was never saved (e.g. a test installed a new one since).
    pub fn rollback() -> Option<usize> {
        with_machine(|m| {
            let saved = m.saved.take()?;
            let mut pages = 0;
            for (i, w) in m.touched.iter().enumerate() {
                let mut bits = w.replace(0);
                if let Some(r) = m.recent.get(i) {
                    r.set(r.get() | bits);
                }
                while bits != 0 {
                    let page = i * 64 + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let start = page * PAGE as usize;
                    let end = (start + PAGE as usize).min(m.size as usize);
                    let Some(src) = saved.ram.get(start..end) else {
                        continue;
                    };
                    // SAFETY: `saved.ram` holds `size` bytes, so `[start,
                    // end)`, found in it, lies inside the `size` bytes at
                    // `ptr`; nothing else references them while the kernel
                    // is not running (tests are single-threaded per
                    // machine), and `saved.ram` is a separate buffer.
                    let ram =
                        unsafe { std::slice::from_raw_parts_mut(m.ptr.add(start), end - start) };
                    ram.copy_from_slice(src);
                    pages += 1;
                }
            }
            m.dev.clone_from(&saved.dev);
            m.saved = Some(saved);
            Some(pages)
        })
    }

    /// Takes the console output captured so far.
    pub fn take_console() -> String {
        SIM.with(|s| {
            s.borrow_mut()
                .as_mut()
                .map(|m| std::mem::take(&mut m.dev.console))
                .unwrap_or_default()
        })
    }

    /// Makes an interrupt pending from the `n`-th next check of
    /// `interrupt_pending` on (`None`: never).
    pub fn set_interrupt_pending_after(n: Option<u64>) {
        SIM.with(|s| {
            if let Some(m) = s.borrow_mut().as_mut() {
                m.dev.irq_after = n;
                m.dev.irq_checks = 0;
            }
        })
    }

    /// Copies into `out` one bit per 4 KiB page of RAM (bit `n % 64` of
    /// word `n / 64` for page `n`): whether the kernel translated an
    /// address in it (so could have written it) since the last
    /// [`SimMachine::clear_recent`], or a rollback copied it back.
    pub fn recent_pages(out: &mut Vec<u64>) {
        with_machine(|m| {
            out.clear();
            out.extend(m.recent.iter().map(Cell::get));
        })
    }

    /// Forgets the pages [`SimMachine::recent_pages`] reports.
    pub fn clear_recent() {
        with_machine(|m| m.recent.iter().for_each(|w| w.set(0)))
    }

    /// Whether IRQ line `irq` is unmasked.
    pub fn irq_unmasked(irq: u16) -> bool {
        SIM.with(|s| {
            s.borrow()
                .as_ref()
                .is_some_and(|m| irq < 128 && m.dev.irq_unmasked & (1 << irq) != 0)
        })
    }

    /// Takes the TLB flushes recorded so far.
    pub fn take_flushes() -> Vec<Flush> {
        SIM.with(|s| {
            s.borrow_mut()
                .as_mut()
                .map(|m| std::mem::take(&mut m.dev.flushes))
                .unwrap_or_default()
        })
    }

    /// A copy of the whole machine (see [`MachineSnapshot`]).
    pub fn snapshot() -> MachineSnapshot {
        SIM.with(|s| {
            let s = s.borrow();
            let m = s.as_ref().expect("no simulated machine installed");
            MachineSnapshot {
                ram: m.ram().to_vec(),
                rest: m.rest(),
            }
        })
    }

    /// The simulated FPU registers (f0..f31, fcsr).
    pub fn fpu() -> [u64; FPU_WORDS] {
        with_machine(|m| m.dev.fpu)
    }

    /// Sets the simulated FPU registers, as a user thread owning the FPU
    /// would by computing.
    pub fn set_fpu(v: [u64; FPU_WORDS]) {
        with_machine(|m| m.dev.fpu = v)
    }

    /// Copies between the FPU and a TCB so far.
    pub fn fpu_copies() -> u64 {
        with_machine(|m| m.dev.fpu_copies)
    }

    /// The last address space switched to.
    pub fn vspace() -> Option<(PAddr, u16)> {
        SIM.with(|s| s.borrow().as_ref().and_then(|m| m.dev.vspace))
    }
}

/// Alignment of simulated RAM in host memory, so that objects aligned in
/// simulated physical memory (up to 2 MiB pages) are as aligned in the
/// host's.
const RAM_ALIGN: usize = 1 << 21;

/// `size` zeroed bytes aligned to [`RAM_ALIGN`]: returns the allocation,
/// its layout and the aligned pointer inside it.
///
/// Allocated with the allocator's own alignment and aligned by hand, so
/// that `alloc_zeroed` is the C library's `calloc`; for a block this large
/// glibc maps fresh pages, which the OS supplies zeroed on first touch, and
/// writes nothing. An alignment beyond the allocator's would make the
/// standard library zero every byte itself (64 MiB per test boot).
fn lazy_zeroed(size: usize) -> (*mut u8, Layout, *mut u8) {
    let layout = Layout::from_size_align(size + RAM_ALIGN, 16).expect("layout");
    // SAFETY: the layout has a non-zero size.
    let block = unsafe { alloc_zeroed(layout) };
    assert!(!block.is_null(), "simulated RAM allocation failed");
    let pad = block.align_offset(RAM_ALIGN);
    assert!(pad < RAM_ALIGN, "cannot align simulated RAM");
    // SAFETY: `pad < RAM_ALIGN`, so `block + pad .. + size` lies inside
    // the `size + RAM_ALIGN` bytes allocated.
    (block, layout, unsafe { block.add(pad) })
}

/// Kernel pointer of simulated physical address `pa`. Panics (a test bug)
/// if `pa` is outside the installed RAM. Records `pa`'s page as touched.
pub fn paddr_to_kptr(pa: PAddr) -> usize {
    paddr_range_to_kptr(pa, 0)
}

/// Kernel pointer of the range `[pa, pa + len)`. Panics (a test bug) if
/// the range is not inside the installed RAM. Records its pages as
/// touched (for [`SimMachine::rollback`]).
pub fn paddr_range_to_kptr(pa: PAddr, len: u64) -> usize {
    SIM.with(|s| {
        let s = s.borrow();
        let m = s.as_ref().expect("no simulated machine installed");
        let end = pa.0.checked_add(len);
        assert!(
            pa.0 >= m.base && end.is_some_and(|e| e <= m.base + m.size),
            "paddr {:#x} (+{len:#x}) outside simulated RAM",
            pa.0
        );
        let off = pa.0 - m.base;
        // The pages of [off, off + len), or off's page for an empty range
        // (a word access), none past the end.
        let first = off / PAGE;
        let last = (off + len.max(1)).div_ceil(PAGE).min(m.size.div_ceil(PAGE));
        for page in first..last {
            let (i, bit) = ((page / 64) as usize, 1 << (page % 64));
            if let Some(w) = m.touched.get(i) {
                w.set(w.get() | bit);
            }
            if let Some(w) = m.recent.get(i) {
                w.set(w.get() | bit);
            }
        }
        m.ptr as usize + off as usize
    })
}

/// Physical address of kernel pointer `p` into simulated RAM.
pub fn kptr_to_paddr(p: usize) -> PAddr {
    SIM.with(|s| {
        let s = s.borrow();
        let m = s.as_ref().expect("no simulated machine installed");
        let off = p
            .checked_sub(m.ptr as usize)
            .expect("pointer below simulated RAM") as u64;
        assert!(off <= m.size, "pointer above simulated RAM");
        PAddr(m.base + off)
    })
}

/// Captures console output.
pub fn console_putchar(c: u8) {
    SIM.with(|s| {
        if let Some(m) = s.borrow_mut().as_mut() {
            m.dev.console.push(c as char);
        }
    })
}

/// On the host a halt ends the test thread.
pub fn halt(success: bool) -> ! {
    panic!("simulated machine halted (success = {success})")
}

/// The simulated MMU tags TLB entries with every ASID (as QEMU's does).
pub fn asids_tagged() -> bool {
    true
}

/// Records the address-space switch (with tagged ASIDs: the same).
pub fn set_vspace_tagged(w: crate::types::VSpaceWord) {
    set_vspace(w)
}

/// Records the address-space switch.
pub fn set_vspace(w: crate::types::VSpaceWord) {
    SIM.with(|s| {
        if let Some(m) = s.borrow_mut().as_mut() {
            m.dev.vspace = Some((w.root(), w.asid()));
        }
    })
}

fn record(f: Flush) {
    SIM.with(|s| {
        if let Some(m) = s.borrow_mut().as_mut() {
            m.dev.flushes.push(f);
        }
    })
}

fn with_machine<R>(f: impl FnOnce(&mut Sim) -> R) -> R {
    SIM.with(|s| {
        f(s.borrow_mut()
            .as_mut()
            .expect("no simulated machine installed"))
    })
}

/// Stores the simulated FPU registers into `regs`' FPU words.
pub fn fpu_save(regs: &[Cell<u64>; REGISTER_WORDS]) {
    with_machine(|m| {
        m.dev.fpu_copies += 1;
        for (r, v) in regs.iter().skip(FPU_FIRST_WORD).zip(m.dev.fpu) {
            r.set(v);
        }
    })
}

/// Loads the simulated FPU registers from `regs`' FPU words.
pub fn fpu_load(regs: &[Cell<u64>; REGISTER_WORDS]) {
    with_machine(|m| {
        m.dev.fpu_copies += 1;
        for (v, r) in m.dev.fpu.iter_mut().zip(regs.iter().skip(FPU_FIRST_WORD)) {
            *v = r.get();
        }
    })
}

/// Records a full flush.
pub fn sfence_vma_all() {
    record(Flush::All);
}

/// Records a flush of one page of one address space.
pub fn sfence_vma_page(vaddr: u64, asid: u16) {
    record(Flush::Page(vaddr, asid));
}

/// Records a flush of one address space.
pub fn sfence_vma_asid(asid: u16) {
    record(Flush::Asid(asid));
}

/// See [`HOST_KERNEL_ROOT`].
pub fn kernel_vspace_root() -> PAddr {
    HOST_KERNEL_ROOT
}

/// The simulated kernel half: for root entries 256..512 a global,
/// supervisor-only 1 GiB leaf, as the real kernel window has (so that
/// tests can see the entries copied; nothing walks them); 0 elsewhere.
pub fn kernel_global_pte(index: usize) -> u64 {
    use crate::arch::vspace::{PTE_A, PTE_D, PTE_G, PTE_R, PTE_V, PTE_W, PTE_X};
    match index {
        256..=511 => {
            let pa = ((index as u64) - 256) << 30;
            ((pa >> 12) << 10) | PTE_V | PTE_R | PTE_W | PTE_X | PTE_G | PTE_A | PTE_D
        }
        _ => 0,
    }
}

/// Masks or unmasks a simulated IRQ line (recorded for tests).
pub fn irq_set_masked(irq: u16, masked: bool) {
    SIM.with(|s| {
        if let (Some(m), true) = (s.borrow_mut().as_mut(), irq < 128) {
            if masked {
                m.dev.irq_unmasked &= !(1 << irq);
            } else {
                m.dev.irq_unmasked |= 1 << irq;
            }
        }
    })
}

/// The simulated timebase: QEMU virt's 10 MHz.
pub fn timebase_hz() -> u64 {
    10_000_000
}

/// The simulated `time` counter, in timebase units: 0 on a new machine,
/// then whatever [`SimMachine::set_time`] set; it does not advance by
/// itself, so that tests are deterministic.
pub fn now() -> u64 {
    SIM.with(|s| s.borrow().as_ref().map_or(0, |m| m.dev.time))
}

/// MCS: programs the simulated one-shot timer (recorded for the tests:
/// [`SimMachine::deadline`]; nothing fires by itself, a test delivers the
/// interrupt).
pub fn set_deadline(deadline: u64) {
    with_machine(|m| m.dev.deadline = Some(deadline));
}

/// The cycle counter: the host has none that means anything (0).
pub fn cycles() -> u64 {
    0
}

/// Whether an interrupt is pending (the test decides; see
/// [`SimMachine::set_interrupt_pending_after`]).
pub fn interrupt_pending() -> bool {
    SIM.with(|s| {
        let mut s = s.borrow_mut();
        let Some(m) = s.as_mut() else { return false };
        m.dev.irq_checks += 1;
        matches!(m.dev.irq_after, Some(n) if m.dev.irq_checks >= n)
    })
}
