//! `cairn-demo`: the demo root task. It greets, summarises the boot
//! information the kernel handed over, runs a user-level UART driver that
//! echoes one typed line (`uart`), and halts the machine.
#![no_std]
#![no_main]
#![deny(unsafe_op_in_unsafe_fn)]

mod uart;

use cairn_rt::println;
use sel4::bootinfo::region_len;
use sel4::BootInfo;

fn main(bootinfo: &BootInfo) {
    println!("cairn-demo: hello from the root task");
    let (mut n, mut ram, mut device) = (0u64, 0u64, 0u64);
    for ut in bootinfo.untypeds() {
        n += 1;
        let size = ut.size().unwrap_or(0);
        if ut.is_device {
            device += 1;
        } else {
            ram = ram.saturating_add(size);
        }
    }
    println!(
        "cairn-demo: {n} untypeds ({device} device), {} KiB of RAM in untypeds",
        ram / 1024
    );
    let empty = bootinfo.empty();
    println!(
        "cairn-demo: {} empty slots [{:#x}, {:#x}) in a CNode of 2^{} slots",
        region_len(empty),
        empty.start,
        empty.end,
        bootinfo.cnode_size_bits()
    );
    let mut slots = cairn_rt::alloc::SlotAllocator::new(empty);
    match uart::run(bootinfo, &mut slots) {
        Ok((line, len)) => {
            let text = core::str::from_utf8(line.get(..len).unwrap_or(&[])).unwrap_or("?");
            println!("cairn-demo: the driver echoed {len} characters: {text}");
        }
        Err(cairn_rt::uart::Failed(what, e)) => {
            println!("cairn-demo: UART driver failed: {what}: {e}")
        }
    }
    println!("cairn-demo: done");
    sel4::debug::halt();
}

cairn_rt::entry!(main);
