//! `cairn-hello`: the smallest useful root task. Prints one line and halts.
#![no_std]
#![no_main]

fn main(_bootinfo: &sel4::BootInfo) {
    cairn_rt::println!("hello from a standalone root task");
    sel4::debug::halt();
}

cairn_rt::entry!(main);
