//! Capability pointers: the untyped [`CPtr`] and one newtype per object
//! type, so that an invocation can only be made on a cap of the right kind
//! (ABI ref §4). A wrapper is a claim made by the program, not a fact: the
//! kernel checks the real cap type on every invocation.

use cairn_abi::Word;

/// `seL4_CPtr`: an address in the caller's CSpace, resolved by the kernel at
/// full depth (64 bits) for invoked caps and extra caps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct CPtr(pub Word);

impl CPtr {
    /// `seL4_CapNull`.
    pub const NULL: CPtr = CPtr(0);

    /// The raw word.
    pub const fn bits(self) -> Word {
        self.0
    }
}

impl From<Word> for CPtr {
    fn from(w: Word) -> Self {
        CPtr(w)
    }
}

/// Implemented by every typed capability pointer.
pub trait Cap: Copy {
    /// The untyped pointer.
    fn cptr(self) -> CPtr;
}

impl Cap for CPtr {
    fn cptr(self) -> CPtr {
        self
    }
}

macro_rules! cap_types {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(transparent)]
        pub struct $name(pub CPtr);

        impl $name {
            /// Wraps a raw cptr word.
            pub const fn from_bits(w: Word) -> Self {
                $name(CPtr(w))
            }
            /// The untyped pointer.
            pub const fn cptr(self) -> CPtr {
                self.0
            }
            /// The raw word.
            pub const fn bits(self) -> Word {
                self.0 .0
            }
        }

        impl Cap for $name {
            fn cptr(self) -> CPtr {
                self.0
            }
        }

        impl From<$name> for CPtr {
            fn from(c: $name) -> CPtr {
                c.0
            }
        }

        impl From<CPtr> for $name {
            fn from(c: CPtr) -> $name {
                $name(c)
            }
        }
    )*};
}

cap_types! {
    /// An untyped memory capability (`seL4_Untyped`).
    Untyped;
    /// A CNode capability (`seL4_CNode`).
    CNode;
    /// A thread control block capability (`seL4_TCB`).
    Tcb;
    /// An endpoint capability.
    Endpoint;
    /// A notification capability.
    Notification;
    /// A RISC-V page table capability (`seL4_RISCV_PageTable`); a VSpace root
    /// is a page table assigned to an ASID.
    PageTable;
    /// A frame capability (`seL4_RISCV_Page`), of any page size.
    Frame;
    /// The ASID control capability (`seL4_RISCV_ASIDControl`).
    AsidControl;
    /// An ASID pool capability (`seL4_RISCV_ASIDPool`).
    AsidPool;
    /// The IRQ control capability (`seL4_IRQControl`).
    IrqControl;
    /// An IRQ handler capability (`seL4_IRQHandler`).
    IrqHandler;
    /// The domain capability (`seL4_DomainSet`).
    DomainSet;
}

#[cfg(feature = "mcs")]
cap_types! {
    /// MCS: a scheduling context capability (`seL4_SchedContext`).
    SchedContext;
    /// MCS: a core's scheduling control capability (`seL4_SchedControl`;
    /// BootInfo's `schedcontrol` names them).
    SchedControl;
    /// MCS: a reply object capability (`seL4_Reply`): a receiver names
    /// one in `seL4_Recv`/`seL4_ReplyRecv`/`seL4_NBSendRecv`, and the
    /// Call it receives is answered through it.
    Reply;
}

/// The root task's initial caps (ABI ref §6.5), typed.
pub mod init_caps {
    use super::*;
    use cairn_abi::cap::init;

    /// `seL4_CapInitThreadTCB`.
    pub const TCB: Tcb = Tcb::from_bits(init::TCB);
    /// `seL4_CapInitThreadCNode`.
    pub const CNODE: CNode = CNode::from_bits(init::CNODE);
    /// `seL4_CapInitThreadVSpace`.
    pub const VSPACE: PageTable = PageTable::from_bits(init::VSPACE);
    /// `seL4_CapIRQControl`.
    pub const IRQ_CONTROL: IrqControl = IrqControl::from_bits(init::IRQ_CONTROL);
    /// `seL4_CapASIDControl`.
    pub const ASID_CONTROL: AsidControl = AsidControl::from_bits(init::ASID_CONTROL);
    /// `seL4_CapInitThreadASIDPool`.
    pub const ASID_POOL: AsidPool = AsidPool::from_bits(init::ASID_POOL);
    /// `seL4_CapBootInfoFrame`.
    pub const BOOT_INFO_FRAME: Frame = Frame::from_bits(init::BOOT_INFO_FRAME);
    /// `seL4_CapInitThreadIPCBuffer`.
    pub const IPC_BUFFER: Frame = Frame::from_bits(init::IPC_BUFFER);
    /// `seL4_CapDomain`.
    pub const DOMAIN: DomainSet = DomainSet::from_bits(init::DOMAIN);
    /// MCS: `seL4_CapInitThreadSC`, the root thread's SchedContext.
    #[cfg(feature = "mcs")]
    pub const SC: SchedContext = SchedContext::from_bits(init::SC);
}
