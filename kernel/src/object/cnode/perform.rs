//! Performing decoded CNode operations (seL4's `invokeCNode*`). Nothing
//! here can fail except Revoke, Delete and CancelBadgedSends by preemption,
//! which leave the derivation tree, any zombie and the endpoint queue
//! consistent for the restarted call.

use super::CNodeOp;
use crate::cap::cte::{cte_move, cte_swap};
use crate::cap::delete::{cte_delete, cte_revoke};
use crate::cap::derive::cte_insert;
use crate::cap::Cap;
use crate::ipc::cancel::cancel_badged_sends;
use crate::object::tcb::TcbRef;
use crate::types::Preempted;

/// Performs `op`, invoked by `invoker` (whose CancelBadgedSends keeps its
/// progress there).
pub fn perform(invoker: TcbRef, op: &CNodeOp) -> Result<(), Preempted> {
    match *op {
        CNodeOp::Revoke(slot) => cte_revoke(slot),
        CNodeOp::Delete(slot) => cte_delete(slot),
        CNodeOp::CancelBadgedSends(cap) => {
            if let Cap::Endpoint { ptr, badge, .. } = cap {
                if badge != 0 {
                    return cancel_badged_sends(invoker, ptr, badge);
                }
            }
            Ok(())
        }
        CNodeOp::Insert { cap, src, dest } => {
            cte_insert(cap, src, dest);
            Ok(())
        }
        CNodeOp::Move { cap, src, dest } => {
            cte_move(cap, src, dest);
            Ok(())
        }
        CNodeOp::Rotate {
            src_cap,
            pivot_cap,
            src,
            pivot,
            dest,
        } => {
            if src == dest {
                cte_swap(src_cap, src, pivot_cap, pivot);
            } else {
                cte_move(pivot_cap, pivot, dest);
                cte_move(src_cap, src, pivot);
            }
            Ok(())
        }
        #[cfg(not(feature = "mcs"))]
        CNodeOp::SaveCaller { src, dest } => {
            // Only a (non-master) reply capability ever sits in the caller
            // slot; an empty slot means there is nothing to save.
            if let cap @ Cap::Reply { master: false, .. } = src.get().cap() {
                cte_move(cap, src, dest);
            }
            Ok(())
        }
    }
}
