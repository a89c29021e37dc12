//! `do_page_fault` and the 2.4 fault path (spec §1, §3).

use crate::trace::FaultResult;
use crate::Kernel;

pub fn do_page_fault(k: &mut Kernel, address: u32, error_code: u32, _esp: u32, user: bool) -> FaultResult {
    let _ = error_code;
    if user {
        crate::signal::force_sig_info(k, crate::signal::SigInfo::fault(crate::signal::SIGSEGV, 1, address));
        FaultResult::SigSegv { si_code: 1 }
    } else {
        FaultResult::Efault
    }
}
