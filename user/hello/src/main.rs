//! `cairn-hello`: the smallest useful root task. Prints one line and halts.
//! Built for the MCS kernel it first checks MCS IPC (`mcs`): a passive
//! server answering Calls on its client's SchedContext.
#![no_std]
#![no_main]

#[cfg(sel4_mcs)]
mod mcs;

fn main(_bootinfo: &sel4::BootInfo) {
    #[cfg(sel4_mcs)]
    mcs::passive_server(_bootinfo);
    cairn_rt::println!("hello from a standalone root task");
    sel4::debug::halt();
}

cairn_rt::entry!(main);
