//! The day-by-day loan simulation behind `arrears generate`.

use std::ops::Range;

use chrono::{Datelike, Days, NaiveDate, NaiveTime};

use super::GenConfig;
use crate::base::rng::Rng;

pub const PRODUCTS: [&str; 3] = [
    "second_lien_mortgage",
    "consumer_installment",
    "credit_line",
];
const PRODUCT_MIX: [f64; 3] = [0.25, 0.5, 0.25];
pub const REGIONS: [&str; 12] = [
    "Guangdong",
    "Zhejiang",
    "Jiangsu",
    "Shandong",
    "Sichuan",
    "Henan",
    "Hubei",
    "Fujian",
    "Hunan",
    "Anhui",
    "Beijing",
    "Shanghai",
];
pub const GRADES: [&str; 5] = ["A", "B", "C", "D", "E"];
const GRADE_MIX: [f64; 5] = [0.25, 0.3, 0.25, 0.12, 0.08];
pub const STATUSES: [&str; 3] = ["active", "paid_off", "charged_off"];
pub const PLANS: [&str; 4] = ["none", "active", "completed", "broken"];
pub const LEGAL: [&str; 6] = [
    "none",
    "demand_letter",
    "filed",
    "judgment",
    "enforcement",
    "closed",
];
pub const CHANNELS: [&str; 7] = [
    "sms",
    "phone",
    "field_visit",
    "letter",
    "legal",
    "app_push",
    "email",
];
pub const OUTCOMES: [&str; 8] = [
    "sent",
    "no_answer",
    "right_party_contact",
    "third_party_contact",
    "promise_to_pay",
    "refused",
    "wrong_number",
    "paid",
];

/// Monthly probability of missing an instalment, by grade.
const P_MISS: [f64; 5] = [0.01, 0.02, 0.035, 0.06, 0.11];
/// Share of loans delinquent when the simulation starts, by grade.
const P_DELINQUENT: [f64; 5] = [0.02, 0.035, 0.06, 0.1, 0.16];

/// Columns of one date's loans rows for a block.
#[derive(Default)]
pub struct LoanRows {
    pub id: Vec<u64>,
    pub product: Vec<u8>,
    pub region: Vec<Option<u8>>,
    pub grade: Vec<u8>,
    pub origination: Vec<NaiveDate>,
    pub original: Vec<i64>,
    pub balance: Vec<i64>,
    pub scheduled: Vec<i64>,
    pub past_due: Vec<i64>,
    pub dpd: Vec<i32>,
    pub paid: Vec<i64>,
    pub status: Vec<u8>,
    pub charge_off_date: Vec<Option<NaiveDate>>,
    pub charge_off_amount: Vec<Option<i64>>,
    pub recovered: Vec<Option<i64>>,
    pub collateral: Vec<Option<i64>>,
    pub senior: Vec<Option<i64>>,
    pub plan: Vec<u8>,
    pub legal: Vec<u8>,
    pub contactable: Vec<Option<bool>>,
}

/// Columns of one date's contacts rows for a block.
#[derive(Default)]
pub struct ContactRows {
    pub contact_id: Vec<u64>,
    pub loan_id: Vec<u64>,
    pub ts: Vec<i64>,
    pub channel: Vec<u8>,
    pub outcome: Vec<u8>,
    pub ptp_amount: Vec<Option<i64>>,
    pub ptp_date: Vec<Option<NaiveDate>>,
    pub agent: Vec<Option<u16>>,
}

/// Dates and seed shared by every loan.
pub struct World {
    seed: u64,
    start: NaiveDate,
    days: usize,
    /// For each simulated day, the index of its loans snapshot, if any.
    snap_of_day: Vec<Option<usize>>,
    snaps: usize,
    contact_of_day: Vec<Option<usize>>,
    contact_dates: usize,
}

/// A loan's mutable state.
struct Loan {
    id: u64,
    product: u8,
    region: Option<u8>,
    grade: u8,
    origination: NaiveDate,
    original: i64,
    balance: i64,
    scheduled: i64,
    principal_part: i64,
    past_due: i64,
    dpd: i32,
    status: u8,
    charge_off_date: Option<NaiveDate>,
    charge_off_amount: i64,
    recovered: i64,
    collateral: Option<i64>,
    senior: Option<i64>,
    plan: u8,
    legal: u8,
    contactable: bool,
    due_day: u32,
    /// Day index the loan left the book (paid off the day before), if any.
    gone: bool,
}

impl World {
    pub fn new(cfg: &GenConfig, snap_dates: &[NaiveDate], contact_dates: &[NaiveDate]) -> World {
        let start = *snap_dates
            .iter()
            .chain(contact_dates)
            .min()
            .expect("at least one date");
        let days = (cfg.as_of - start).num_days() as usize + 1;
        let day_of = |d: &NaiveDate| (*d - start).num_days() as usize;
        let mut snap_of_day = vec![None; days];
        for (i, d) in snap_dates.iter().enumerate() {
            snap_of_day[day_of(d)] = Some(i);
        }
        let mut contact_of_day = vec![None; days];
        for (i, d) in contact_dates.iter().enumerate() {
            contact_of_day[day_of(d)] = Some(i);
        }
        World {
            seed: cfg.seed,
            start,
            days,
            snap_of_day,
            snaps: snap_dates.len(),
            contact_of_day,
            contact_dates: contact_dates.len(),
        }
    }

    /// Simulates loans `ids` and returns their rows per snapshot date and
    /// their contacts per contact date.
    pub fn simulate_block(&self, ids: Range<u64>) -> (Vec<LoanRows>, Vec<ContactRows>) {
        let mut loans: Vec<LoanRows> = (0..self.snaps).map(|_| LoanRows::default()).collect();
        let mut contacts: Vec<ContactRows> = (0..self.contact_dates)
            .map(|_| ContactRows::default())
            .collect();
        for id in ids {
            let mut rng = Rng::for_item(self.seed, id);
            let mut loan = self.new_loan(id, &mut rng);
            for day in 0..self.days {
                let date = self.start + Days::new(day as u64);
                if loan.gone || date < loan.origination {
                    continue;
                }
                let paid = step(&mut loan, date, &mut rng);
                if let Some(i) = self.contact_of_day[day] {
                    contact(&loan, date, &mut rng, &mut contacts[i]);
                }
                if let Some(i) = self.snap_of_day[day] {
                    emit(&loan, paid, &mut loans[i]);
                }
                if loan.status == 1 {
                    // Paid off: reported on the day it happened, then gone.
                    loan.gone = true;
                }
            }
        }
        (loans, contacts)
    }

    fn new_loan(&self, id: u64, rng: &mut Rng) -> Loan {
        let product = rng.pick(&PRODUCT_MIX) as u8;
        let grade = rng.pick(&GRADE_MIX) as u8;
        let region = if rng.chance(0.01) {
            None
        } else {
            Some(rng.range(0, REGIONS.len() as i64 - 1) as u8)
        };
        let (lo, hi, term_lo, term_hi) = match product {
            0 => (200_000, 2_000_000, 60, 240),
            1 => (5_000, 200_000, 12, 36),
            _ => (2_000, 100_000, 24, 24),
        };
        let original = rng.range(lo / 100, hi / 100) * 100 * 100; // whole hundreds, in cents
        let term = rng.range(term_lo, term_hi);
        // 3% are originated during the simulated window: NEW loans.
        let new = self.days > 1 && rng.chance(0.03);
        let mob = if new {
            0
        } else {
            rng.range(1, (term - 1).min(60))
        };
        let origination = if new {
            self.start + Days::new(rng.range(1, self.days as i64 - 1).max(0) as u64)
        } else {
            self.start - Days::new((mob * 30 + rng.range(0, 29)) as u64)
        };
        let principal_part = original / term;
        let scheduled = principal_part + principal_part / 20; // with interest
        let balance = (original - principal_part * mob).max(principal_part);
        let (collateral, senior) = if product == 0 {
            let c = (original as f64 * (1.1 + rng.f() * 1.4)) as i64 / 100 * 100;
            (
                Some(c),
                Some((c as f64 * (0.3 + rng.f() * 0.4)) as i64 / 100 * 100),
            )
        } else {
            (None, None)
        };
        let mut loan = Loan {
            id,
            product,
            region,
            grade,
            origination,
            original,
            balance,
            scheduled,
            principal_part,
            past_due: 0,
            dpd: 0,
            status: 0,
            charge_off_date: None,
            charge_off_amount: 0,
            recovered: 0,
            collateral,
            senior,
            plan: 0,
            legal: 0,
            contactable: !rng.chance(0.02),
            due_day: origination.day().min(28),
            gone: false,
        };
        if new {
            loan.balance = original;
            return loan;
        }
        if rng.chance(0.025) {
            // Charged off between one and 24 months ago.
            loan.status = 2;
            loan.charge_off_date = Some(self.start - Days::new(rng.range(1, 720) as u64));
            loan.charge_off_amount = loan.balance;
            loan.recovered = (loan.balance as f64 * rng.f() * 0.3) as i64;
            loan.balance -= loan.recovered;
            loan.dpd = rng.range(181, 400) as i32;
            loan.past_due = scheduled * (loan.dpd as i64 / 30 + 1);
            loan.legal = rng.range(0, 5) as u8;
        } else if rng.chance(P_DELINQUENT[grade as usize]) {
            let bucket = rng.pick(&[0.45, 0.18, 0.1, 0.07, 0.05, 0.04, 0.11]) as i64;
            loan.dpd = if bucket == 6 {
                rng.range(181, 420)
            } else {
                rng.range(bucket * 30 + 1, bucket * 30 + 30)
            } as i32;
            loan.past_due = scheduled * (loan.dpd as i64 / 30 + 1);
            if loan.dpd > 30 && rng.chance(0.15) {
                loan.plan = rng.pick(&[0.0, 0.6, 0.1, 0.3]) as u8;
            }
            if loan.dpd > 90 && rng.chance(0.4) {
                loan.legal = rng.range(1, 4) as u8;
            }
            if loan.dpd > 30 && rng.chance(0.1) {
                loan.contactable = false;
            }
        } else if rng.chance(0.02) {
            loan.plan = 2; // completed an earlier plan
        }
        loan
    }
}

/// Advances a loan by one day; returns the cash received that day (cents).
fn step(l: &mut Loan, date: NaiveDate, rng: &mut Rng) -> i64 {
    match l.status {
        2 => {
            // Charged off: occasional recoveries.
            if rng.chance(0.004) && l.balance > 0 {
                let x = ((l.charge_off_amount as f64) * (0.01 + rng.f() * 0.09)) as i64;
                let x = x.min(l.balance).max(1);
                l.recovered += x;
                l.balance -= x;
                return x;
            }
            0
        }
        1 => 0,
        _ => {
            if date == l.origination {
                return 0;
            }
            if rng.chance(0.0004) {
                // Prepayment in full.
                let cash = l.balance + l.past_due;
                l.balance = 0;
                l.past_due = 0;
                l.dpd = 0;
                l.status = 1;
                return cash;
            }
            let due_today = date.day() == l.due_day;
            if l.dpd == 0 {
                if !due_today {
                    return 0;
                }
                if rng.chance(P_MISS[l.grade as usize]) {
                    l.dpd = 1;
                    l.past_due = l.scheduled;
                    return 0;
                }
                return pay_instalment(l);
            }
            // Delinquent.
            let plan_boost = if l.plan == 1 { 3.0 } else { 1.0 };
            let p_cure = plan_boost
                * match l.dpd {
                    0..=30 => 0.05,
                    31..=90 => 0.015,
                    91..=180 => 0.006,
                    _ => 0.002,
                };
            if rng.chance(p_cure) {
                let cash = l.past_due;
                l.balance =
                    (l.balance - l.principal_part * (l.past_due / l.scheduled.max(1))).max(0);
                l.past_due = 0;
                l.dpd = 0;
                if l.plan == 1 && rng.chance(0.3) {
                    l.plan = 2;
                }
                if l.balance == 0 {
                    l.status = 1;
                }
                return cash;
            }
            l.dpd += 1;
            if due_today {
                l.past_due += l.scheduled;
            }
            if l.dpd > 30 && l.plan == 0 && rng.chance(0.002) {
                l.plan = 1;
            } else if l.plan == 1 && rng.chance(0.003) {
                l.plan = 3;
            }
            if l.dpd > 90 && l.legal < 4 && rng.chance(if l.legal == 0 { 0.004 } else { 0.003 }) {
                l.legal += 1;
            }
            if l.dpd > 30 && l.contactable && rng.chance(0.0005) {
                l.contactable = false;
            }
            if l.dpd > 180 && rng.chance(0.02) {
                l.status = 2;
                l.charge_off_date = Some(date);
                l.charge_off_amount = l.balance;
                l.recovered = 0;
            }
            0
        }
    }
}

fn pay_instalment(l: &mut Loan) -> i64 {
    l.balance = (l.balance - l.principal_part).max(0);
    if l.balance == 0 {
        l.status = 1;
    }
    l.scheduled
}

fn emit(l: &Loan, paid: i64, r: &mut LoanRows) {
    r.id.push(l.id);
    r.product.push(l.product);
    r.region.push(l.region);
    r.grade.push(l.grade);
    r.origination.push(l.origination);
    r.original.push(l.original);
    r.balance.push(l.balance);
    r.scheduled.push(l.scheduled);
    r.past_due.push(l.past_due);
    r.dpd.push(l.dpd);
    r.paid.push(paid);
    r.status.push(l.status);
    let co = l.status == 2;
    r.charge_off_date.push(l.charge_off_date.filter(|_| co));
    r.charge_off_amount.push(co.then_some(l.charge_off_amount));
    r.recovered.push(co.then_some(l.recovered));
    r.collateral.push(l.collateral);
    r.senior.push(l.senior);
    r.plan.push(l.plan);
    r.legal.push(l.legal);
    r.contactable.push(Some(l.contactable));
}

/// The day's collection contacts of a loan.
fn contact(l: &Loan, date: NaiveDate, rng: &mut Rng, out: &mut ContactRows) {
    if l.status == 1 || l.dpd == 0 && !rng.chance(0.001) {
        return;
    }
    let mut push = |rng: &mut Rng, channel: u8, outcome: u8, hour: u32| {
        let seq = out.contact_id.len() as u64;
        let day = (date - NaiveDate::from_ymd_opt(2000, 1, 1).expect("date")).num_days() as u64;
        out.contact_id
            .push(day * 100_000_000_000 + l.id * 16 + seq % 16);
        out.loan_id.push(l.id);
        let t = date
            .and_time(
                NaiveTime::from_hms_opt(hour, rng.range(0, 59) as u32, 0).expect("valid time"),
            )
            .and_utc()
            .timestamp();
        out.ts.push(t);
        out.channel.push(channel);
        out.outcome.push(outcome);
        let ptp = outcome == 4;
        out.ptp_amount
            .push(ptp.then_some(l.past_due.max(l.scheduled)));
        out.ptp_date
            .push(ptp.then(|| date + Days::new(rng.range(1, 7) as u64)));
        out.agent
            .push((channel != 0 && channel != 5).then(|| rng.range(1, 50) as u16));
    };
    let hour = |rng: &mut Rng| {
        if rng.chance(0.01) {
            [7u32, 22][rng.range(0, 1) as usize]
        } else {
            rng.range(9, 20) as u32
        }
    };
    if l.status == 2 {
        if rng.chance(0.02) {
            let h = hour(rng);
            push(rng, 4, 0, h);
        }
        return;
    }
    if l.dpd <= 7 {
        if rng.chance(0.6) {
            let ch = if rng.chance(0.5) { 0 } else { 5 };
            let h = rng.range(9, 20) as u32;
            push(rng, ch, 0, h);
        } else if l.dpd == 0 {
            let h = hour(rng);
            push(rng, 1, 1, h); // a stray call to a current loan
        }
        return;
    }
    if !l.contactable && l.dpd > 30 {
        if rng.chance(0.1) {
            let h = hour(rng);
            let outcome = rng.pick(&[0.0, 0.3, 0.3, 0.2, 0.1, 0.1]) as u8;
            push(rng, 2, outcome, h);
        }
        return;
    }
    // A thin tail past the `cn` limit of 6 attempts a day, so the compliance
    // checks have something to find in generated books.
    let attempts = rng.pick(&[0.3, 0.35, 0.2, 0.1, 0.04, 0.008, 0.001, 0.0005, 0.0005]);
    for _ in 0..attempts {
        let outcome = [1u8, 2, 3, 4, 5, 6, 7][rng.pick(&[0.5, 0.2, 0.05, 0.14, 0.05, 0.05, 0.01])];
        let h = hour(rng);
        push(rng, 1, outcome, h);
    }
    if l.legal > 0 && rng.chance(0.02) {
        push(rng, 3, 0, 10);
    }
}
