//! `sensor` of examples/control.system (priority 200): the driver of its
//! "sensor", QEMU virt's ns16550a UART. It takes the UART's receive
//! interrupt (channel 0), reads each typed character as a temperature
//! reading (a digit; Enter ends the input), appends it to the `samples`
//! region and notifies the controller (channel 1) and the logger
//! (channel 2).
#![no_std]
#![no_main]

use cairn_microkit::{memory_region, println, protection_domain, Channel, Handler};

/// The UART's interrupt, the controller and the logger.
const IRQ: Channel = Channel::new(0);
const CONTROLLER: Channel = Channel::new(1);
const LOGGER: Channel = Channel::new(2);

memory_region!(UART = "uart_base", 8);
memory_region!(SAMPLES = "samples", 0x1000);

/// ns16550a registers (QEMU virt: one byte apart).
const RBR: usize = 0;
const IER: usize = 1;
const MCR: usize = 4;
const LSR: usize = 5;
const LSR_DATA_READY: u8 = 1;

/// The `samples` region: word 0 the count, then the samples in a ring.
pub const RING: u64 = 500;
/// The sample that ends the input (Enter).
pub const END: u64 = u64::MAX;

struct Sensor {
    count: u64,
}

impl Sensor {
    fn sample(&mut self, value: u64) {
        SAMPLES.write_u64(8 * (1 + (self.count % RING) as usize), value);
        self.count += 1;
        SAMPLES.write_u64(0, self.count);
        CONTROLLER.notify();
        LOGGER.notify();
    }
}

impl Handler for Sensor {
    fn notified(&mut self, channel: Channel) {
        if channel != IRQ {
            return;
        }
        while UART.read_u8(LSR) & LSR_DATA_READY != 0 {
            match UART.read_u8(RBR) {
                c @ b'0'..=b'9' => {
                    println!("sensor: sample {}", c - b'0');
                    self.sample(u64::from(c - b'0'));
                }
                b'\r' | b'\n' => {
                    println!("sensor: end of input");
                    self.sample(END);
                }
                _ => {}
            }
        }
        if let Err(e) = IRQ.irq_ack() {
            println!("sensor: IRQ ack failed: {e:?}");
        }
    }
}

fn init() -> Sensor {
    UART.write_u8(MCR, 0x0B); // DTR, RTS, OUT2 (the interrupt output)
    UART.write_u8(IER, 0x01); // interrupt when data is received
    if let Err(e) = IRQ.irq_ack() {
        println!("sensor: IRQ ack failed: {e:?}");
    }
    println!("sensor: ready; type a line of temperatures (digits 0-9), then Enter");
    Sensor { count: 0 }
}

protection_domain!(init);
