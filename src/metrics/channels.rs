//! Channel effectiveness of the run date's contacts (metrics.md, "Contacts"):
//! per channel, contacts, attempts (SMS and app pushes are sent, not
//! attempted), loans contacted and reached, right-party contacts (RPC),
//! promises to pay (PTP) and the amount promised.

use crate::input::columns::NULL_MONEY;
use crate::input::contacts::{group_by_loan, Channel, Contacts, Outcome};

/// One channel's figures for the run date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChannelStats {
    pub contacts: u64,
    pub attempts: u64,
    /// Distinct loans contacted.
    pub loans_contacted: u64,
    /// Distinct loans with at least one right-party contact.
    pub loans_reached: u64,
    /// Outcomes right_party_contact, promise_to_pay, refused or paid.
    pub rpc: u64,
    pub ptp: u64,
    /// Sum of `ptp_amount` of the promises, cents.
    pub ptp_amount: i128,
}

impl ChannelStats {
    /// Adds another channel's counts (distinct loans add up only across
    /// different channels, days or loan partitions, which is what the
    /// callers do).
    pub fn merge(&mut self, o: &ChannelStats) {
        self.contacts += o.contacts;
        self.attempts += o.attempts;
        self.loans_contacted += o.loans_contacted;
        self.loans_reached += o.loans_reached;
        self.rpc += o.rpc;
        self.ptp += o.ptp;
        self.ptp_amount += o.ptp_amount;
    }
    /// RPC rate = RPC / attempts (numerator, denominator).
    pub fn rpc_rate(&self) -> (u64, u64) {
        (self.rpc, self.attempts)
    }
    /// PTP rate = PTP / RPC.
    pub fn ptp_rate(&self) -> (u64, u64) {
        (self.ptp, self.rpc)
    }
}

/// Figures for every channel (in [`Channel::ALL`] order) over the contacts
/// logged on `today` (partition date, days since 1970-01-01).
pub fn stats(contacts: &Contacts, today: i32) -> Vec<ChannelStats> {
    let mut out = vec![ChannelStats::default(); Channel::ALL.len()];
    let mut day: Vec<usize> = (0..contacts.len())
        .filter(|&c| contacts.date[c] == today)
        .collect();
    for &c in &day {
        let ch = contacts.channel[c];
        let s = &mut out[ch.index()];
        let outcome = contacts.outcome[c];
        s.contacts += 1;
        s.attempts += ch.is_attempt() as u64;
        // Counted on every channel (so PTP <= RPC); the rate's denominator,
        // attempts, is zero for sent-only channels, whose rate is then null.
        s.rpc += outcome.is_rpc() as u64;
        if outcome == Outcome::PromiseToPay {
            s.ptp += 1;
            if contacts.ptp_amount[c] != NULL_MONEY {
                s.ptp_amount += contacts.ptp_amount[c] as i128;
            }
        }
    }
    // Distinct loans per channel: group by (channel, loan) and count runs.
    for run in group_by_loan(contacts, &mut day, |c| contacts.channel[c].index() as u8) {
        let group = &day[run];
        let s = &mut out[contacts.channel[group[0]].index()];
        s.loans_contacted += 1;
        s.loans_reached += group.iter().any(|&c| contacts.outcome[c].is_rpc()) as u64;
    }
    out
}
