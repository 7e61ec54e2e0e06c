//! Champion / challenger assignment (metrics.md v2): a loan in an
//! experiment's scope is `challenger` when XXH64 (seed 0) of the UTF-8 bytes
//! of `salt + ":" + loan_id` (an integer id in plain decimal) modulo 10,000
//! is below the share in basis points, else `champion`. The hash depends on
//! the salt and the id alone, so a loan keeps its arm across nights, thread
//! counts, file splits and machines, and a new salt reshuffles the arms.
//!
//! XXH64 is written out here (the reference algorithm, about sixty lines)
//! rather than taken from a crate, like the generator's RNG: a published
//! assignment must never change with a dependency upgrade. It is checked
//! against values computed by the reference C implementation
//! (`fixtures/experiments/xxh64.csv`).

use crate::metrics::rates;
use crate::metrics::transitions::Matrix;
use crate::states::Bucket;

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

#[inline]
fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

#[inline]
fn merge(h: u64, v: u64) -> u64 {
    (h ^ round(0, v)).wrapping_mul(P1).wrapping_add(P4)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], i: usize) -> u64 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")) as u64
}

/// XXH64 of `input` with `seed`.
pub fn xxh64(input: &[u8], seed: u64) -> u64 {
    let len = input.len();
    let mut i = 0;
    let mut h = if len >= 32 {
        let mut v = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        while i + 32 <= len {
            for (k, acc) in v.iter_mut().enumerate() {
                *acc = round(*acc, u64_at(input, i + 8 * k));
            }
            i += 32;
        }
        let mut h = v[0]
            .rotate_left(1)
            .wrapping_add(v[1].rotate_left(7))
            .wrapping_add(v[2].rotate_left(12))
            .wrapping_add(v[3].rotate_left(18));
        for acc in v {
            h = merge(h, acc);
        }
        h
    } else {
        seed.wrapping_add(P5)
    };
    h = h.wrapping_add(len as u64);
    while i + 8 <= len {
        h ^= round(0, u64_at(input, i));
        h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        i += 8;
    }
    if i + 4 <= len {
        h ^= u32_at(input, i).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        i += 4;
    }
    while i < len {
        h ^= (input[i] as u64).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        i += 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// An experiment's arm for a loan in its scope.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Arm {
    Champion,
    Challenger,
}

impl Arm {
    pub fn label(self) -> &'static str {
        match self {
            Arm::Champion => "champion",
            Arm::Challenger => "challenger",
        }
    }
}

/// The assignment of the loan whose id is `id` (UTF-8 bytes of a string id,
/// or the plain decimal of an integer id) in an experiment with `salt` and
/// a challenger share of `share_bp` basis points (1..9999).
pub fn arm(salt: &str, id: &[u8], share_bp: u16) -> Arm {
    // salt + ":" + id without an allocation per loan for short keys.
    let mut buf = [0u8; 128];
    let n = salt.len() + 1 + id.len();
    let h = if n <= buf.len() {
        buf[..salt.len()].copy_from_slice(salt.as_bytes());
        buf[salt.len()] = b':';
        buf[salt.len() + 1..n].copy_from_slice(id);
        xxh64(&buf[..n], 0)
    } else {
        let mut key = Vec::with_capacity(n);
        key.extend_from_slice(salt.as_bytes());
        key.push(b':');
        key.extend_from_slice(id);
        xxh64(&key, 0)
    };
    if h % 10_000 < share_bp as u64 {
        Arm::Challenger
    } else {
        Arm::Champion
    }
}

/// [`arm`] for an integer id: its plain decimal (`-17`, `42`), written
/// into a buffer on the stack (this runs once per loan in scope).
pub fn arm_of_int(salt: &str, id: i64, share_bp: u16) -> Arm {
    let mut buf = [0u8; 20];
    let mut at = buf.len();
    let mut v = id.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if id < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    arm(salt, &buf[at..], share_bp)
}

/// The arm of row `row` of a snapshot's ids.
pub fn arm_of_row(
    salt: &str,
    ids: &crate::input::snapshot::LoanIds,
    row: usize,
    share_bp: u16,
) -> Arm {
    match ids {
        crate::input::snapshot::LoanIds::Int(v) => arm_of_int(salt, v[row], share_bp),
        crate::input::snapshot::LoanIds::Str { .. } => arm(salt, ids.str_bytes(row), share_bp),
    }
}

/// A loan's experiment and arm in one byte: 0 = in no experiment, else
/// `1 + 2 x experiment + (1 for challenger)`, the experiment being its
/// index in the policy (or in an earlier worklist's list of names).
pub type ArmCode = u8;

/// No experiment.
pub const NO_ARM: ArmCode = 0;

pub use crate::policy::MAX_EXPERIMENTS;

/// The code of experiment `e`'s `arm`.
pub fn code(e: usize, arm: Arm) -> ArmCode {
    debug_assert!(e < MAX_EXPERIMENTS);
    (1 + 2 * e + (arm == Arm::Challenger) as usize) as ArmCode
}

/// The experiment and arm of a code, `None` for [`NO_ARM`].
pub fn decode(c: ArmCode) -> Option<(usize, Arm)> {
    (c != NO_ARM).then(|| {
        let k = (c - 1) as usize;
        (
            k / 2,
            if k % 2 == 1 {
                Arm::Challenger
            } else {
                Arm::Champion
            },
        )
    })
}

impl Arm {
    /// Both arms, champion first (the order of every table).
    pub const BOTH: [Arm; 2] = [Arm::Champion, Arm::Challenger];

    pub fn parse(s: &str) -> Option<Arm> {
        Arm::BOTH.into_iter().find(|a| a.label() == s)
    }
}

/// The transitions of one experiment arm's loans over a period: its tier
/// transitions, or the bucket transitions of the loans it held at the
/// earlier date (the evaluation's cohort).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ArmMatrix {
    pub experiment: String,
    pub arm: Arm,
    pub matrix: Matrix,
}

/// Names the matrices of [`crate::metrics::transitions::matrices_by_group`]
/// whose groups are arm codes over `names`, leaving out empty ones.
pub fn named(names: &[String], matrices: Vec<Matrix>) -> Vec<ArmMatrix> {
    let mut out: Vec<ArmMatrix> = matrices
        .into_iter()
        .enumerate()
        .filter_map(|(g, matrix)| {
            let (e, arm) = decode(g as u8 + 1).expect("a group is an arm");
            matrix.cells.iter().any(|c| c.loans > 0).then(|| ArmMatrix {
                experiment: names[e].clone(),
                arm,
                matrix,
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.experiment, a.arm).cmp(&(&b.experiment, b.arm)));
    out
}

/// Adds two partitions' arm matrices: the union by experiment and arm,
/// sorted, the same cells added.
pub fn merge_arms(a: Vec<ArmMatrix>, b: Vec<ArmMatrix>) -> Vec<ArmMatrix> {
    let mut all: std::collections::BTreeMap<(String, Arm), Matrix> = Default::default();
    for x in a.into_iter().chain(b) {
        match all.entry((x.experiment, x.arm)) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(x.matrix);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                crate::metrics::tally::merge_cells(&mut o.get_mut().cells, &x.matrix.cells);
            }
        }
    }
    all.into_iter()
        .map(|((experiment, arm), matrix)| ArmMatrix {
            experiment,
            arm,
            matrix,
        })
        .collect()
}

/// What became of one arm's loans from one bucket (or all delinquent ones).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub loans: u64,
    /// Their balance at the earlier date, cents.
    pub balance: i128,
    /// Current (`M0`) or paid off at the run date.
    pub cured: u64,
    /// In a worse bucket or charged off at the run date.
    pub rolled: u64,
}

impl Outcome {
    /// The loans of bucket row `from` of a bucket transition matrix.
    pub fn of(m: &Matrix, from: Bucket) -> Outcome {
        let mut o = Outcome::default();
        let rank = from.severity();
        for to in 0..=m.n {
            let c = m.cell(from.index(), to);
            o.loans += c.loans;
            o.balance += c.balance;
            if to == m.n {
                continue; // EXIT: left the book unseen, neither cured nor rolled.
            }
            let b = Bucket::from_index(to);
            if matches!(b, Bucket::M0 | Bucket::Paid) {
                o.cured += c.loans;
            } else if b.severity() > rank {
                o.rolled += c.loans;
            }
        }
        o
    }

    fn add(mut self, o: Outcome) -> Outcome {
        self.loans += o.loans;
        self.balance += o.balance;
        self.cured += o.cured;
        self.rolled += o.rolled;
        self
    }
}

/// Challenger minus champion for one rate: the difference, its 95%
/// Newcombe interval and the two-proportion z-test's p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    pub diff: f64,
    pub ci: Option<(f64, f64)>,
    pub p: Option<f64>,
}

impl Difference {
    /// `None` when an arm has no loans.
    fn of(challenger: (u64, u64), champion: (u64, u64)) -> Option<Difference> {
        let ((k1, n1), (k2, n2)) = (challenger, champion);
        (n1 > 0 && n2 > 0).then(|| Difference {
            diff: k1 as f64 / n1 as f64 - k2 as f64 / n2 as f64,
            ci: rates::newcombe(k1, n1, k2, n2),
            p: rates::two_proportion_p(k1, n1, k2, n2),
        })
    }
}

/// One from-bucket's comparison of the arms.
#[derive(Clone, Debug, PartialEq)]
pub struct FromBucket {
    /// `M1` .. `M6+`, or `all` (every delinquent bucket).
    pub from: &'static str,
    /// Champion, challenger.
    pub arms: [Outcome; 2],
    pub cure: Option<Difference>,
    pub roll: Option<Difference>,
}

/// What the report says of an experiment, from its cure rate over every
/// delinquent bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The Newcombe interval of challenger - champion lies above 0 and the
    /// z-test rejects equality at 5%.
    ChallengerCuresMore,
    /// ... below 0, and the z-test rejects.
    ChampionCuresMore,
    /// The interval holds 0: `n` loans in the smaller arm; `needed` per arm
    /// to detect 5 points on the champion's cure rate (80% power).
    NotYet { n: u64, needed: Option<u64> },
    /// An arm has no delinquent loans a month ago.
    NoLoans,
}

/// The evaluation of one experiment (metrics.md v2).
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    pub experiment: String,
    /// `M1` .. `M6+`, then `all`.
    pub rows: Vec<FromBucket>,
    pub verdict: Verdict,
}

/// The delinquent from-buckets of the evaluation, in table order.
pub const FROM: &[Bucket] = Bucket::ACTIVE.split_at(1).1;
/// Compares the arms of each experiment from their `1m` bucket matrices.
pub fn evaluate(cohorts: &[ArmMatrix]) -> Vec<Evaluation> {
    let mut names: Vec<&str> = cohorts.iter().map(|c| c.experiment.as_str()).collect();
    names.dedup(); // sorted by experiment, then arm
    names
        .into_iter()
        .map(|name| {
            let of = |arm: Arm, from: Bucket| {
                cohorts
                    .iter()
                    .find(|c| c.experiment == name && c.arm == arm)
                    .map(|c| Outcome::of(&c.matrix, from))
                    .unwrap_or_default()
            };
            let row = |from: &'static str, arms: [Outcome; 2]| {
                let [champ, chall] = arms;
                FromBucket {
                    from,
                    arms,
                    cure: Difference::of((chall.cured, chall.loans), (champ.cured, champ.loans)),
                    roll: Difference::of((chall.rolled, chall.loans), (champ.rolled, champ.loans)),
                }
            };
            let mut rows: Vec<FromBucket> = FROM
                .iter()
                .map(|&b| row(b.label(), Arm::BOTH.map(|a| of(a, b))))
                .collect();
            let all = rows.iter().fold([Outcome::default(); 2], |acc, r| {
                [acc[0].add(r.arms[0]), acc[1].add(r.arms[1])]
            });
            rows.push(row("all", all));
            // A side is named only when both the interval and the test
            // say so: at small n the Newcombe interval can just exclude 0
            // while the z-test does not reject (0.051 on the demo's 47
            // loans), and a manager should not be told "95% sure" then.
            let significant = |d: &Difference| d.p.is_some_and(|p| p < 0.05);
            let verdict = match rows.last().and_then(|r| r.cure) {
                None => Verdict::NoLoans,
                Some(d) if significant(&d) && d.ci.is_some_and(|(lo, _)| lo > 0.0) => {
                    Verdict::ChallengerCuresMore
                }
                Some(d) if significant(&d) && d.ci.is_some_and(|(_, hi)| hi < 0.0) => {
                    Verdict::ChampionCuresMore
                }
                Some(_) => {
                    let p = all[0].cured as f64 / all[0].loans as f64;
                    let target = if p + 0.05 <= 1.0 { p + 0.05 } else { p - 0.05 };
                    Verdict::NotYet {
                        n: all[0].loans.min(all[1].loans),
                        needed: rates::loans_per_arm(p, target),
                    }
                }
            };
            Evaluation {
                experiment: name.to_string(),
                rows,
                verdict,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(salt, loan_id, xxh64)` rows of the reference fixture.
    fn reference() -> Vec<(String, String, u64)> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/experiments/xxh64.csv"
        );
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("salt,"))
            .map(|l| {
                // "salt","loan_id",hash,mod: the quoted fields hold no quotes.
                let parts: Vec<&str> = l.splitn(3, "\",").collect();
                let hash = parts[2].split(',').next().unwrap().parse().unwrap();
                (parts[0][1..].to_string(), parts[1][1..].to_string(), hash)
            })
            .collect()
    }

    #[test]
    fn xxh64_matches_the_reference_implementation() {
        let rows = reference();
        assert_eq!(rows.len(), 60);
        for (salt, id, want) in rows {
            let key = format!("{salt}:{id}");
            assert_eq!(xxh64(key.as_bytes(), 0), want, "{key:?}");
            // Integer ids hash as their plain decimal.
            if let Ok(n) = id.parse::<i64>() {
                if n.to_string() == id {
                    let bp = (want % 10_000) as u16;
                    assert_eq!(arm_of_int(&salt, n, bp + 1), Arm::Challenger);
                    assert_eq!(
                        arm_of_int(&salt, n, bp.max(1)),
                        if bp == 0 {
                            Arm::Challenger
                        } else {
                            Arm::Champion
                        }
                    );
                }
            }
        }
        assert_eq!(xxh64(b"", 0), 17_241_709_254_077_376_921);
    }

    #[test]
    fn integer_ids_hash_as_their_decimal_and_codes_round_trip() {
        for id in [0i64, 7, -17, 42, i64::MAX, i64::MIN, 1_000_000_007] {
            for bp in [1u16, 2_000, 5_000, 9_999] {
                assert_eq!(
                    arm_of_int("s", id, bp),
                    arm("s", id.to_string().as_bytes(), bp),
                    "{id} {bp}"
                );
            }
        }
        assert_eq!(decode(NO_ARM), None);
        for e in [0, 1, 5, MAX_EXPERIMENTS - 1] {
            for a in Arm::BOTH {
                assert_eq!(decode(code(e, a)), Some((e, a)));
                assert_eq!(Arm::parse(a.label()), Some(a));
            }
        }
    }

    /// A bucket matrix with the given `(from, to, loans)` cells, each loan
    /// of balance 100.00 (`to` = `BUCKETS` is `EXIT`).
    fn cohort(cells: &[(Bucket, usize, u64)]) -> Matrix {
        let mut m = Matrix::empty(crate::states::BUCKETS);
        for &(from, to, n) in cells {
            for _ in 0..n {
                m.add(from.index(), to, 10_000);
            }
        }
        m
    }

    fn arm_matrix(arm: Arm, m: Matrix) -> ArmMatrix {
        ArmMatrix {
            experiment: "x".into(),
            arm,
            matrix: m,
        }
    }

    #[test]
    fn outcomes_count_cures_and_rolls_by_hand() {
        use crate::states::BUCKETS;
        let (m0, m1, m2, wo, paid) = (0, 1, 2, Bucket::Wo.index(), Bucket::Paid.index());
        // 100 M1 loans: 60 current, 10 paid off (70 cured), 20 to M2 and 5
        // written off (25 rolled), 3 stay, 2 leave unseen.
        let champ = cohort(&[
            (Bucket::M1, m0, 60),
            (Bucket::M1, paid, 10),
            (Bucket::M1, m2, 20),
            (Bucket::M1, wo, 5),
            (Bucket::M1, m1, 3),
            (Bucket::M1, BUCKETS, 2),
            // An M2 loan back to M1 is neither cured nor rolled.
            (Bucket::M2, m1, 4),
        ]);
        let o = Outcome::of(&champ, Bucket::M1);
        assert_eq!(
            o,
            Outcome {
                loans: 100,
                balance: 1_000_000,
                cured: 70,
                rolled: 25
            }
        );
        assert_eq!(Outcome::of(&champ, Bucket::M2).cured, 0);
        assert_eq!(Outcome::of(&champ, Bucket::M2).rolled, 0);
        // Challenger: 90 of 100 cured.
        let chall = cohort(&[(Bucket::M1, m0, 90), (Bucket::M1, m2, 10)]);
        let e = evaluate(&[
            arm_matrix(Arm::Champion, champ.clone()),
            arm_matrix(Arm::Challenger, chall),
        ]);
        assert_eq!(e.len(), 1);
        let rows = &e[0].rows;
        assert_eq!(rows.len(), 8);
        assert_eq!(rows[7].from, "all");
        assert_eq!(rows[7].arms[0].loans, 104, "M1 and M2 from-buckets");
        assert_eq!(rows[7].arms[0].cured, 70);
        let d = rows[0].cure.unwrap();
        assert!((d.diff - 0.2).abs() < 1e-12);
        assert_eq!(d.ci, rates::newcombe(90, 100, 70, 100));
        assert_eq!(d.p, rates::two_proportion_p(90, 100, 70, 100));
        assert_eq!(e[0].verdict, Verdict::ChallengerCuresMore);
        // The same rates: nothing to tell yet, and what it would take.
        let same = evaluate(&[
            arm_matrix(Arm::Champion, champ.clone()),
            arm_matrix(Arm::Challenger, champ.clone()),
        ]);
        let p = 70.0 / 104.0;
        assert_eq!(
            same[0].verdict,
            Verdict::NotYet {
                n: 104,
                needed: rates::loans_per_arm(p, p + 0.05)
            }
        );
        // One arm empty: no verdict; rows still there, differences not.
        let alone = evaluate(&[arm_matrix(Arm::Champion, champ)]);
        assert_eq!(alone[0].verdict, Verdict::NoLoans);
        assert!(alone[0].rows.iter().all(|r| r.cure.is_none()));
    }

    #[test]
    fn arm_matrices_merge_by_experiment_and_arm() {
        let one = cohort(&[(Bucket::M1, 0, 1)]);
        let a = vec![arm_matrix(Arm::Challenger, one.clone())];
        let b = vec![
            arm_matrix(Arm::Champion, one.clone()),
            arm_matrix(Arm::Challenger, one.clone()),
        ];
        let m = merge_arms(a, b);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].arm, Arm::Champion);
        assert_eq!(m[1].matrix.cell(1, 0).loans, 2);
        // Empty groups are left out when named.
        let named = named(
            &["x".to_string()],
            vec![Matrix::empty(crate::states::BUCKETS), one],
        );
        assert_eq!(named.len(), 1);
        assert_eq!(named[0].arm, Arm::Challenger);
    }

    #[test]
    fn a_long_key_hashes_like_a_short_one() {
        let id = "q".repeat(300);
        let key = format!("s:{id}");
        let h = xxh64(key.as_bytes(), 0);
        let bp = (h % 10_000) as u16;
        assert_eq!(arm("s", id.as_bytes(), bp + 1), Arm::Challenger);
        if bp > 0 {
            assert_eq!(arm("s", id.as_bytes(), bp), Arm::Champion);
        }
    }

    #[test]
    fn the_challenger_share_is_kept_over_a_million_ids() {
        for (share, salt) in [(1_000u16, "m1-call-early"), (5_000, "x"), (2_500, "实验")] {
            let n = 1_000_000;
            let challengers = (0..n)
                .filter(|&k| arm_of_int(salt, k, share) == Arm::Challenger)
                .count();
            let got = challengers as f64 / n as f64;
            let want = share as f64 / 10_000.0;
            assert!((got - want).abs() < 0.003, "{salt}: {got} vs {want}");
            // And string ids.
            let challengers = (0..n)
                .filter(|&k| arm(salt, format!("L{k:07}").as_bytes(), share) == Arm::Challenger)
                .count();
            let got = challengers as f64 / n as f64;
            assert!((got - want).abs() < 0.003, "{salt}: {got} vs {want}");
        }
    }
}
