//! Interrupts and domains on `tests_ipc::world()`, with an IRQ node,
//! IRQControl in root slot 8 and the Domain cap in slot 9.

use crate::cap::{Cap, Kind};
use crate::domain;
use crate::error::{LookupFault, SyscallError};
use crate::irq::{Line, ACK, CLEAR, ISSUE_IRQ_HANDLER, SET_NOTIFICATION};
use crate::state::{Object, State};
use crate::tests::{call, root, ROOT};
use crate::tests_ipc::{sys, thread, world, T2};
use crate::thread::ThreadState;
use crate::Syscall;

const NODE: u64 = 0x70_0000;
const NTFN: u64 = crate::tests::UT + 0x20; // root slot 4

fn with_irqs() -> State {
    let mut s = world();
    s.objects
        .insert(NODE, Object::new(Kind::CNode { radix: 7 }));
    s.irqs.node = Some(NODE);
    s.insert_original(root(8), Cap::IrqControl);
    s.insert_original(root(9), Cap::Domain);
    s.insert_original(root(5), Cap::Thread { obj: T2 });
    s
}

fn issue(s: &mut State, irq: u64, dest: u64) -> Result<(), SyscallError> {
    call(s, 8, ISSUE_IRQ_HANDLER, &[irq, dest, 64], &[0])
}

#[test]
fn irq_control_checks_number_line_and_slot() {
    let mut s = with_irqs();
    let range = Err(SyscallError::RangeError { min: 1, max: 96 });
    assert_eq!(
        call(&mut s, 8, ISSUE_IRQ_HANDLER, &[3, 10, 64], &[]),
        Err(SyscallError::TruncatedMessage)
    );
    assert_eq!(issue(&mut s, 0, 10), range);
    assert_eq!(issue(&mut s, 97, 10), range);
    // The timer's line is the kernel's; a full slot; a bad root.
    assert_eq!(issue(&mut s, 96, 10), Err(SyscallError::RevokeFirst));
    assert_eq!(issue(&mut s, 3, 2), Err(SyscallError::DeleteFirst));
    let bad_root = call(&mut s, 8, ISSUE_IRQ_HANDLER, &[3, 10, 64], &[2]);
    let invalid_root = SyscallError::FailedLookup {
        source: false,
        fault: LookupFault::InvalidRoot,
    };
    assert_eq!(bad_root, Err(invalid_root));
    assert!(s.irqs.issued.is_empty());
    assert_eq!(issue(&mut s, 3, 10), Ok(()));
    let e = s.entry(root(10)).expect("the handler cap");
    assert_eq!(
        (e.cap, e.original, e.parent),
        (Cap::IrqHandler { irq: 3 }, true, Some(root(8)))
    );
    assert_eq!(s.irqs.issued.get(&3), Some(&Line { masked: false }));
    // Issued once only.
    assert_eq!(issue(&mut s, 3, 11), Err(SyscallError::RevokeFirst));
}

#[test]
fn an_interrupt_signals_and_waits_for_the_ack() {
    let mut s = with_irqs();
    assert_eq!(issue(&mut s, 5, 10), Ok(()));
    // No notification yet: the line still waits for the Ack.
    assert!(s.interrupt(5));
    assert!(!s.interrupt(5), "masked");
    assert_eq!(call(&mut s, 10, ACK, &[], &[]), Ok(()));
    // SetNotification: not a notification (InvalidCapability 0), none.
    let set = |s: &mut State, extra: &[u64]| call(s, 10, SET_NOTIFICATION, &[], extra);
    assert_eq!(
        set(&mut s, &[2]),
        Err(SyscallError::InvalidCapability { index: 0 })
    );
    assert_eq!(set(&mut s, &[]), Err(SyscallError::TruncatedMessage));
    assert_eq!(set(&mut s, &[4]), Ok(()));
    let slot = s.irq_slot(5).expect("a node slot");
    assert_eq!(s.entry(slot).and_then(|e| e.parent), Some(root(4)));
    // T2 waits on the notification; the interrupt wakes it.
    sys(&mut s, T2, Syscall::Recv, 4, 0, &[]);
    assert_eq!(
        thread(&s, T2).state,
        ThreadState::BlockedOnNotification { ntfn: NTFN }
    );
    assert!(s.interrupt(5));
    assert_eq!(thread(&s, T2).state, ThreadState::Running);
    assert!(!s.interrupt(5));
    assert_eq!(call(&mut s, 10, ACK, &[], &[]), Ok(()));
    // Cleared: delivered (and masked) but nobody is signalled.
    assert_eq!(call(&mut s, 10, CLEAR, &[], &[]), Ok(()));
    assert_eq!(s.cap(slot), None);
    assert!(s.interrupt(5));
    assert!(matches!(
        s.objects.get(&NTFN),
        Some(Object::Notification { pending: None, .. })
    ));
    assert_eq!(
        call(&mut s, 10, 99, &[], &[]),
        Err(SyscallError::IllegalOperation)
    );
}

#[test]
fn deleting_the_last_handler_cap_frees_the_line() {
    let mut s = with_irqs();
    assert_eq!(issue(&mut s, 7, 10), Ok(()));
    assert_eq!(call(&mut s, 10, SET_NOTIFICATION, &[], &[4]), Ok(()));
    // A copy, then both deleted: the line is free after the second.
    assert_eq!(call(&mut s, 0, 21, &[11, 64, 10, 64, 0xF, 0], &[0]), Ok(()));
    assert_eq!(call(&mut s, 0, 18, &[10, 64], &[]), Ok(()));
    assert!(s.irqs.issued.contains_key(&7));
    assert_eq!(call(&mut s, 0, 18, &[11, 64], &[]), Ok(()));
    assert!(s.irqs.issued.is_empty());
    assert_eq!(s.irq_slot(7).and_then(|n| s.cap(n)), None);
    assert!(!s.interrupt(7));
    assert_eq!(issue(&mut s, 7, 10), Ok(()));
}

#[test]
fn domain_set_checks_domain_then_thread() {
    let mut s = with_irqs();
    s.num_domains = 4;
    let set = |s: &mut State, words: &[u64], extra: &[u64]| call(s, 9, domain::SET, words, extra);
    assert_eq!(set(&mut s, &[], &[5]), Err(SyscallError::TruncatedMessage));
    assert_eq!(
        set(&mut s, &[4], &[5]),
        Err(SyscallError::InvalidArgument { index: 0 })
    );
    assert_eq!(set(&mut s, &[3], &[]), Err(SyscallError::TruncatedMessage));
    assert_eq!(
        set(&mut s, &[3], &[2]),
        Err(SyscallError::InvalidArgument { index: 1 })
    );
    assert_eq!(thread(&s, T2).domain, 0);
    assert_eq!(set(&mut s, &[3], &[5]), Ok(()));
    assert_eq!(thread(&s, T2).domain, 3);
    assert_eq!(
        call(&mut s, 9, 40, &[], &[]),
        Err(SyscallError::IllegalOperation)
    );
    assert!(s.objects.contains_key(&ROOT));
}

#[test]
fn domain_schedule_configure_and_set_start_check_in_sel4s_order() {
    use crate::domain::{MAX_DURATION, SCHEDULE_CONFIGURE, SCHEDULE_SET_START};
    let mut s = with_irqs();
    s.num_domains = 4;
    s.domain_schedule = crate::domain::Schedule::at_boot(4);
    let conf = |s: &mut State, words: &[u64]| call(s, 9, SCHEDULE_CONFIGURE, words, &[]);
    let start = |s: &mut State, words: &[u64]| call(s, 9, SCHEDULE_SET_START, words, &[]);
    let range = |max| Err(SyscallError::RangeError { min: 0, max });
    let invalid = |index| Err(SyscallError::InvalidArgument { index });
    let before = s.domain_schedule.clone();
    assert_eq!(conf(&mut s, &[1, 1]), Err(SyscallError::TruncatedMessage));
    // The index first (the last entry stays an end marker), then the
    // domain, the duration's 56 bits, an end marker's domain 0, the start
    // entry's duration.
    assert_eq!(conf(&mut s, &[99, 9, MAX_DURATION + 1]), range(98));
    assert_eq!(conf(&mut s, &[98, 4, MAX_DURATION + 1]), range(3));
    assert_eq!(conf(&mut s, &[98, 3, MAX_DURATION + 1]), invalid(2));
    assert_eq!(conf(&mut s, &[98, 3, 0]), invalid(1));
    assert_eq!(conf(&mut s, &[0, 0, 0]), invalid(2));
    assert_eq!(start(&mut s, &[]), Err(SyscallError::TruncatedMessage));
    assert_eq!(start(&mut s, &[100]), range(99));
    assert_eq!(start(&mut s, &[5]), invalid(0));
    assert_eq!(s.domain_schedule, before, "nothing changed");
    assert_eq!(conf(&mut s, &[5, 3, 7]), Ok(()));
    assert_eq!(conf(&mut s, &[98, 3, MAX_DURATION]), Ok(()));
    assert_eq!(start(&mut s, &[5]), Ok(()));
    assert_eq!(s.domain_schedule.start, 5);
    assert_eq!(s.domain_schedule.entries[5], (3, 7));
    // Entry 0 may end now (it is not the start), entry 5 may not.
    assert_eq!(conf(&mut s, &[0, 0, 0]), Ok(()));
    assert_eq!(conf(&mut s, &[5, 0, 0]), invalid(2));
    assert_eq!(s.domain_schedule.entries[0], (0, 0));
    assert_eq!(start(&mut s, &[0]), invalid(0));
}
