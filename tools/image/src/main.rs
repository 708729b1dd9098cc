//! `cairn-mkimage KERNEL_ELF ROOT_TASK_ELF OUTPUT`: packs a Cairn boot image.
//!
//! Exit status 0 on success; 1 if an input is refused (nothing is written);
//! 2 on a usage error.
#![forbid(unsafe_code)]

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: cairn-mkimage KERNEL_ELF ROOT_TASK_ELF OUTPUT\n\
    Packs the Cairn kernel and a statically linked RISC-V 64 root task into\n\
    one flat boot image for `qemu-system-riscv64 -bios default -kernel OUTPUT`.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let [kernel, root, out] = args.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    match cairn_image::write_image(Path::new(kernel), Path::new(root), Path::new(out)) {
        Ok(p) => {
            let h = &p.header;
            println!(
                "{out}: {} bytes; header at {:#x}; root task [{:#x}, {:#x}) entry {:#x}",
                h.image_size, p.header_paddr, h.user_v_start, h.user_v_end, h.user_entry
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cairn-mkimage: {e}");
            ExitCode::FAILURE
        }
    }
}
