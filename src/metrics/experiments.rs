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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// [`arm`] for an integer id: its plain decimal (`-17`, `42`).
pub fn arm_of_int(salt: &str, id: i64, share_bp: u16) -> Arm {
    let text = id.to_string();
    arm(salt, text.as_bytes(), share_bp)
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
