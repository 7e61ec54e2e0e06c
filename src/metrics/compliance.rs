//! Compliance exceptions of the run date's contacts (metrics.md, "Contacts"),
//! against the policy's profile: `cn` (China Banking Association personal
//! consumer loan collection guideline) or `us_reg_f` (12 CFR 1006). Each
//! exception is one row naming the contact, the loan, the rule and why.
//!
//! Only contacts logged on the run date are judged, so a contact is flagged
//! on one night only; the counting rules (attempts a day, attempts in 7
//! days, calls after a conversation) also count the earlier contacts of the
//! window that was read (D-13..D). Days and hours are borrower-local.

use crate::input::contacts::{group_by_loan, Channel, Contacts, Outcome};
use rayon::prelude::*;

use crate::input::snapshot::LoanIds;
use crate::policy::{Compliance, Profile};
use crate::states::Bucket;

/// The rules, in the order the table lists them for one contact.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Rule {
    QuietHours,
    TooManyAttempts,
    TooManyConnects,
    ThirdParty,
    SevenInSeven,
    CallAfterConversation,
    NotDelinquent,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::QuietHours,
        Rule::TooManyAttempts,
        Rule::TooManyConnects,
        Rule::ThirdParty,
        Rule::SevenInSeven,
        Rule::CallAfterConversation,
        Rule::NotDelinquent,
    ];
    pub fn label(self) -> &'static str {
        match self {
            Rule::QuietHours => "quiet_hours",
            Rule::TooManyAttempts => "too_many_attempts",
            Rule::TooManyConnects => "too_many_connects",
            Rule::ThirdParty => "third_party",
            Rule::SevenInSeven => "seven_in_seven",
            Rule::CallAfterConversation => "call_after_conversation",
            Rule::NotDelinquent => "not_delinquent",
        }
    }
    /// The rules a profile checks.
    pub fn of(profile: Profile) -> &'static [Rule] {
        match profile {
            Profile::Cn => &[
                Rule::QuietHours,
                Rule::TooManyAttempts,
                Rule::TooManyConnects,
                Rule::ThirdParty,
                Rule::NotDelinquent,
            ],
            Profile::UsRegF => &[
                Rule::QuietHours,
                Rule::SevenInSeven,
                Rule::CallAfterConversation,
                Rule::NotDelinquent,
            ],
        }
    }
}

/// One exception.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Index of the contact in the window.
    pub contact: usize,
    pub rule: Rule,
    pub detail: String,
}

/// The exceptions as the `compliance` table holds them: ids in the
/// input's types, times borrower-local.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Exceptions {
    pub profile: Profile,
    pub contact_ids: LoanIds,
    pub loan_ids: LoanIds,
    pub rows: Vec<ExceptionRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExceptionRow {
    pub rule: Rule,
    pub detail: String,
    pub channel: Channel,
    pub agent: Option<String>,
    /// Borrower-local milliseconds since 1970-01-01 00:00.
    pub local_ts: i64,
}

impl Exceptions {
    pub fn empty(profile: Profile) -> Exceptions {
        Exceptions {
            profile,
            contact_ids: LoanIds::empty_str(),
            loan_ids: LoanIds::empty_str(),
            rows: Vec::new(),
        }
    }

    /// Copies what the table needs out of the contacts window.
    pub fn collect(contacts: &Contacts, found: Vec<Exception>, profile: Profile) -> Exceptions {
        Exceptions {
            profile,
            contact_ids: contacts.contact_ids.take(found.iter().map(|e| e.contact)),
            loan_ids: contacts.ids.take(found.iter().map(|e| e.contact)),
            rows: found
                .into_iter()
                .map(|e| ExceptionRow {
                    rule: e.rule,
                    channel: contacts.channel[e.contact],
                    agent: contacts.agent_label(e.contact).map(str::to_owned),
                    local_ts: contacts.local_ts[e.contact],
                    detail: e.detail,
                })
                .collect(),
        }
    }

    /// Exceptions per rule, in `Rule::ALL` order.
    pub fn by_rule(&self) -> Vec<(Rule, usize)> {
        Rule::ALL
            .iter()
            .map(|&r| (r, self.rows.iter().filter(|x| x.rule == r).count()))
            .collect()
    }
}

/// The run date's contacts with their snapshot rows and the buckets of
/// the run-date snapshot.
pub struct Day<'a> {
    pub today: i32,
    /// The run date's contacts (window indices) and their snapshot rows.
    pub contacts: &'a [(usize, Option<usize>)],
    pub buckets: &'a [u8],
}

fn hhmm(minute: u16) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn date_of(day: i32) -> String {
    (chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")
        + chrono::Duration::days(day as i64))
    .to_string()
}

fn local_time(c: &Contacts, i: usize) -> String {
    format!("{} {}", date_of(c.local_day(i)), hhmm(c.local_minute(i)))
}

/// Whether `minute` falls in the quiet period that starts at `start` and
/// ends (exclusive) at `end`, across midnight when `start > end`.
pub fn is_quiet(minute: u16, start: u16, end: u16) -> bool {
    if start > end {
        minute >= start || minute < end
    } else {
        minute >= start && minute < end
    }
}

/// All exceptions of the run date, in contact order, rules in `Rule` order.
pub fn check(contacts: &Contacts, day: &Day, policy: &Compliance) -> Vec<Exception> {
    let mut out = Vec::new();
    let rules = Rule::of(policy.profile);
    let (quiet_start, quiet_end) = match policy.profile {
        Profile::Cn => (policy.cn.quiet_start, policy.cn.quiet_end),
        Profile::UsRegF => (policy.us_reg_f.quiet_start, policy.us_reg_f.quiet_end),
    };

    // Per-contact rules.
    for &(c, row) in day.contacts {
        let ch = contacts.channel[c];
        if ch.is_voice_or_field() && is_quiet(contacts.local_minute(c), quiet_start, quiet_end) {
            out.push(Exception {
                contact: c,
                rule: Rule::QuietHours,
                detail: format!(
                    "{} at {} borrower-local; quiet hours {}-{}",
                    ch.label(),
                    local_time(contacts, c),
                    hhmm(quiet_start),
                    hhmm(quiet_end)
                ),
            });
        }
        if rules.contains(&Rule::ThirdParty) && contacts.outcome[c] == Outcome::ThirdPartyContact {
            out.push(Exception {
                contact: c,
                rule: Rule::ThirdParty,
                detail: format!(
                    "{} reached a third party at {}",
                    ch.label(),
                    local_time(contacts, c)
                ),
            });
        }
        if ch.is_voice_or_field() {
            if let Some(r) = row {
                if day.buckets[r] == Bucket::M0 as u8 {
                    out.push(Exception {
                        contact: c,
                        rule: Rule::NotDelinquent,
                        detail: format!("{} on a loan that is current (M0)", ch.label()),
                    });
                }
            }
        }
    }

    // Counting rules: the phone calls of each loan, in time order. Only
    // loans called on the run date can have an exception.
    // Judged = logged on the run date (`day.contacts` are exactly those).
    let judged = |c: usize| contacts.date[c] == day.today;
    let mut called_today: Vec<u64> = day
        .contacts
        .iter()
        .filter(|&&(c, _)| contacts.channel[c] == Channel::Phone)
        .map(|&(c, _)| contacts.ids.key(c))
        .collect();
    called_today.sort_unstable();
    called_today.dedup();
    let mut calls: Vec<usize> = (0..contacts.len())
        .into_par_iter()
        .filter(|&c| {
            contacts.channel[c] == Channel::Phone
                && called_today.binary_search(&contacts.ids.key(c)).is_ok()
        })
        .collect();
    for run in group_by_loan(contacts, &mut calls, |_| 0) {
        let loan = &calls[run];
        if loan.iter().any(|&c| judged(c)) {
            match policy.profile {
                Profile::Cn => cn_counts(contacts, loan, judged, policy, &mut out),
                Profile::UsRegF => reg_f_counts(contacts, loan, judged, policy, &mut out),
            }
        }
    }

    // One order whatever found them: contact, then rule.
    out.sort_by_key(|e| (e.contact, e.rule));
    out
}

/// `cn`: more than N phone attempts, or more than M connected calls, on one
/// loan in one local day. The calls past the limit are the exceptions.
fn cn_counts(
    contacts: &Contacts,
    calls: &[usize],
    judged: impl Fn(usize) -> bool,
    policy: &Compliance,
    out: &mut Vec<Exception>,
) {
    let (max_attempts, max_connects) = (
        policy.cn.max_attempts_per_day as usize,
        policy.cn.max_connects_per_day as usize,
    );
    let (mut day, mut attempts, mut connects) = (i32::MIN, 0usize, 0usize);
    for &c in calls {
        if contacts.local_day(c) != day {
            (day, attempts, connects) = (contacts.local_day(c), 0, 0);
        }
        attempts += 1;
        let connected = contacts.outcome[c].is_connect();
        connects += connected as usize;
        if !judged(c) {
            continue;
        }
        if attempts > max_attempts {
            out.push(Exception {
                contact: c,
                rule: Rule::TooManyAttempts,
                detail: format!(
                    "phone attempt {attempts} on {} (limit {max_attempts} a day)",
                    date_of(day)
                ),
            });
        }
        if connected && connects > max_connects {
            out.push(Exception {
                contact: c,
                rule: Rule::TooManyConnects,
                detail: format!(
                    "connected call {connects} on {} (limit {max_connects} a day)",
                    date_of(day)
                ),
            });
        }
    }
}

/// `us_reg_f` (12 CFR 1006.14(b)(2)): more than N calls within seven
/// consecutive days, or a call within seven days after a telephone
/// conversation (the conversation's day is day one of the seven).
fn reg_f_counts(
    contacts: &Contacts,
    calls: &[usize],
    judged: impl Fn(usize) -> bool,
    policy: &Compliance,
    out: &mut Vec<Exception>,
) {
    let max = policy.us_reg_f.max_attempts_7_days as usize;
    let quiet_days = policy.us_reg_f.quiet_days_after_conversation as i32;
    let mut first = 0; // first call of the 7-day window ending at the current one
    let mut conversation: Option<usize> = None; // the latest before the current call
    for (k, &c) in calls.iter().enumerate() {
        let d = contacts.local_day(c);
        while contacts.local_day(calls[first]) < d - 6 {
            first += 1;
        }
        if judged(c) {
            let n = k - first + 1;
            if n > max {
                out.push(Exception {
                    contact: c,
                    rule: Rule::SevenInSeven,
                    detail: format!(
                        "phone attempt {n} in {}..{} (limit {max} in 7 days)",
                        date_of(d - 6),
                        date_of(d)
                    ),
                });
            }
            if let Some(v) = conversation {
                let since = d - contacts.local_day(v);
                if since < quiet_days {
                    out.push(Exception {
                        contact: c,
                        rule: Rule::CallAfterConversation,
                        detail: format!(
                            "phone attempt {} after a conversation at {} (contact {}); no calls for {quiet_days} days",
                            match since {
                                0 => "the same day".to_string(),
                                1 => "1 day".to_string(),
                                n => format!("{n} days"),
                            },
                            local_time(contacts, v),
                            contacts.contact_ids.display(v)
                        ),
                    });
                }
            }
        }
        if contacts.outcome[c].is_rpc() {
            conversation = Some(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_periods_across_and_within_a_day() {
        let (s, e) = (22 * 60, 8 * 60);
        assert!(!is_quiet(7 * 60 + 59 + 1, s, e)); // 08:00
        assert!(is_quiet(7 * 60 + 59, s, e)); // 07:59
        assert!(!is_quiet(21 * 60 + 59, s, e)); // 21:59
        assert!(is_quiet(22 * 60, s, e)); // 22:00
        assert!(is_quiet(0, s, e));
        assert!(is_quiet(60, 60, 300));
        assert!(!is_quiet(300, 60, 300));
    }
}
