//! Preemption of a long revoke (issue: "a test that revokes a derivation
//! subtree of at least 100 000 capabilities while a timer interrupt is
//! pending shows the interrupt taken after a bounded number of
//! instructions, independent of the subtree's size").
//!
//! An untyped `pool` gets `n` endpoint children (placed in one big CNode,
//! 256 per Retype), then one `Revoke` of the pool deletes all `n`. The
//! kernel's 2 ms tick keeps arriving meanwhile: each time, the revoke is
//! preempted at its next preemption point, the tick is handled and the
//! syscall restarts. The kernel measures how late each tick was handled
//! (`cairn: bench:` line); its maximum must not grow with `n`.

use cairn_rt::println;
use core::fmt;
use sel4::cap::init_caps;
use sel4::{benchmark, BootInfo, CNode, Error, ObjectType, Word};

/// Subtree sizes measured.
const SIZES: [Word; 3] = [1_000, 10_000, 100_000];
/// Radix of the CNode that holds the caps: 2^17 = 131 072 slots.
const CNODE_RADIX: Word = 17;
/// The pool: 2 MiB holds 131 072 16-byte endpoints.
const POOL_BITS: Word = 21;
/// Objects per Retype (seL4's `CONFIG_RETYPE_FAN_OUT_LIMIT`).
const FAN_OUT: Word = 256;

const ROOT: CNode = init_caps::CNODE;

/// Why the benchmark could not run.
pub struct Failed(&'static str, Error);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0, self.1)
    }
}

/// Runs the revoke benchmark for every size in [`SIZES`].
pub fn run(bi: &BootInfo) -> Result<(), Failed> {
    let big = bi
        .untypeds()
        .filter(|u| !u.is_device && Word::from(u.size_bits) > CNODE_RADIX + 5)
        .min_by_key(|u| u.size_bits)
        .ok_or(Failed(
            "no untyped for the CNode",
            Error::NotEnoughMemory { available: 0 },
        ))?;
    let empty = bi.empty();
    let (cnode, pool) = (empty.start, empty.start + 1);
    big.cap
        .retype(ObjectType::CapTable, CNODE_RADIX, ROOT, 0, 0, cnode, 1)
        .map_err(|e| Failed("retyping the CNode", e))?;
    big.cap
        .retype(ObjectType::Untyped, POOL_BITS, ROOT, 0, 0, pool, 1)
        .map_err(|e| Failed("retyping the pool", e))?;
    let pool_cap = sel4::Untyped::from_bits(pool);
    for n in SIZES {
        let mut done = 0;
        while done < n {
            let count = FAN_OUT.min(n - done);
            pool_cap
                .retype(ObjectType::Endpoint, 0, ROOT, cnode, 64, done, count)
                .map_err(|e| Failed("retyping endpoints", e))?;
            done += count;
        }
        benchmark::reset_log();
        let start = benchmark::cycles();
        let r = ROOT.revoke(pool, 64);
        let instructions = benchmark::cycles().wrapping_sub(start);
        r.map_err(|e| Failed("revoking the pool", e))?;
        println!("bench revoke caps={n} instructions={instructions}");
        benchmark::finalize_log();
    }
    Ok(())
}
