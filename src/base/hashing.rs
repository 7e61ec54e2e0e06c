//! Hashing of ids and bytes: one function for every place that needs a
//! well-mixed 64-bit key (the join's sort keys, hash partitions and shards,
//! fingerprints and content hashes of files). Fixed and written out here,
//! so that a shard assignment or a fingerprint never changes with a
//! dependency upgrade (README, "Shards", spells the function out).

use std::path::Path;

use anyhow::{Context, Result};

/// A well-mixed 64-bit hash of a short byte string (wyhash-style folding).
/// Not for security: collisions are resolved by comparing the bytes.
#[inline]
pub fn hash_bytes(b: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h: u64 = (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("chunk of 8"));
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(buf))
            .wrapping_mul(K)
            .rotate_left(29);
    }
    mix64(h)
}

/// The murmur3 `fmix64` finaliser: every input bit affects every output
/// bit, so that the high bits of consecutive integers are well spread.
#[inline]
pub fn mix64(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The size of a local file and a hash of every byte of it (4 MiB blocks,
/// each hashed, then the blocks' hashes): reading the book's files once
/// more costs a fraction of decoding them.
pub fn file_hash(path: &Path) -> Result<(u64, String)> {
    use std::io::Read;
    let mut f =
        std::fs::File::open(path).with_context(|| format!("cannot read '{}'", path.display()))?;
    let mut buf = vec![0u8; 4 << 20];
    let mut blocks: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    loop {
        // Fill the block whole, so that the hash does not depend on how
        // the reads were cut.
        let mut n = 0;
        while n < buf.len() {
            match f.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot read '{}'", path.display()))
                }
            }
        }
        if n == 0 {
            break;
        }
        bytes += n as u64;
        blocks.extend_from_slice(&hash_bytes(&buf[..n]).to_le_bytes());
        if n < buf.len() {
            break;
        }
    }
    Ok((bytes, format!("{:016x}", hash_bytes(&blocks))))
}
