//! IRQ control and IRQ handler capabilities (ch. 8 I/O). For now the kernel
//! only records interrupts that arrive; delivery to notifications comes with
//! the interrupt issue.

/// An external interrupt arrived. Until IRQ handler caps exist no line is
/// enabled, so this only counts spurious arrivals.
pub fn handle_interrupt(irq: u32) {
    kprintln!("cairn: spurious external interrupt {}", irq);
}
