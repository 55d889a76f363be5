//! vCD entity status codes (`status` attribute of `VApp`, `Vm`, `VAppTemplate`) and the text
//! CSE shows for them (pyvcloud's `VCLOUD_STATUS_MAP`, cse-original §2.3).

use std::fmt;

/// A vCD entity status code, -1 ..= 15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VcdStatus {
    /// -1
    FailedCreation,
    /// 0
    Unresolved,
    /// 1
    Resolved,
    /// 2
    Deployed,
    /// 3
    Suspended,
    /// 4
    PoweredOn,
    /// 5
    WaitingForInput,
    /// 6
    Unknown,
    /// 7
    Unrecognized,
    /// 8
    PoweredOff,
    /// 9
    InconsistentState,
    /// 10
    Mixed,
    /// 11
    DescriptorPending,
    /// 12
    CopyingContents,
    /// 13
    DiskContentsPending,
    /// 14
    Quarantined,
    /// 15
    QuarantineExpired,
}

const ALL: [VcdStatus; 17] = [
    VcdStatus::FailedCreation,
    VcdStatus::Unresolved,
    VcdStatus::Resolved,
    VcdStatus::Deployed,
    VcdStatus::Suspended,
    VcdStatus::PoweredOn,
    VcdStatus::WaitingForInput,
    VcdStatus::Unknown,
    VcdStatus::Unrecognized,
    VcdStatus::PoweredOff,
    VcdStatus::InconsistentState,
    VcdStatus::Mixed,
    VcdStatus::DescriptorPending,
    VcdStatus::CopyingContents,
    VcdStatus::DiskContentsPending,
    VcdStatus::Quarantined,
    VcdStatus::QuarantineExpired,
];

impl VcdStatus {
    /// Every status, ordered by code.
    pub const ALL: [VcdStatus; 17] = ALL;

    /// The status for a numeric code; `None` outside -1 ..= 15.
    pub fn from_code(code: i32) -> Option<Self> {
        usize::try_from(code + 1)
            .ok()
            .and_then(|i| ALL.get(i))
            .copied()
    }

    /// The numeric code.
    pub fn code(self) -> i32 {
        // The index into ALL is below 17, so the cast is exact.
        ALL.iter().position(|s| *s == self).unwrap_or_default() as i32 - 1
    }

    /// The text CSE reports (pyvcloud `VCLOUD_STATUS_MAP`).
    pub fn text(self) -> &'static str {
        match self {
            VcdStatus::FailedCreation => "Could not be created",
            VcdStatus::Unresolved => "Unresolved",
            VcdStatus::Resolved => "Resolved",
            VcdStatus::Deployed => "Deployed",
            VcdStatus::Suspended => "Suspended",
            VcdStatus::PoweredOn => "Powered on",
            VcdStatus::WaitingForInput => "Waiting for user input",
            VcdStatus::Unknown => "Unknown state",
            VcdStatus::Unrecognized => "Unrecognized state",
            VcdStatus::PoweredOff => "Powered off",
            VcdStatus::InconsistentState => "Inconsistent state",
            VcdStatus::Mixed => "Children do not all have the same status",
            VcdStatus::DescriptorPending => "Upload initiated, OVF descriptor pending",
            VcdStatus::CopyingContents => "Upload initiated, copying contents",
            VcdStatus::DiskContentsPending => "Upload initiated , disk contents pending",
            VcdStatus::Quarantined => "Upload has been quarantined",
            VcdStatus::QuarantineExpired => "Upload quarantine period has expired",
        }
    }
}

impl fmt::Display for VcdStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

/// The text for a raw status code; codes outside -1 ..= 15 read "Unrecognized state".
pub fn status_text(code: i32) -> &'static str {
    VcdStatus::from_code(code).map_or(VcdStatus::Unrecognized.text(), VcdStatus::text)
}
