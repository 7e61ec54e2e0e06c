//! Contacts and loans spilled to a scratch folder, one file per partition,
//! so that a run holds one partition at a time however large the book
//! (README, "How a run folds the book"). Contacts are spilled whenever the
//! book is cut in several partitions; loans only when it is cut by hash
//! (a book not exported in id order), since id ranges are read straight
//! from the Parquet row groups.
//!
//! The format is private to one run (written and read back by the same
//! process, then deleted): each piece is one input file's (contacts) or one
//! row group's (loans) rows of one partition, as length-prefixed
//! little-endian columns.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};

use crate::input::chunk::Chunk;
use crate::input::columns::LocalDim;
use crate::input::contacts::{Channel, Contacts, Outcome};
use crate::input::snapshot::LoanIds;
use crate::states::{PlanStatus, Status};

/// Writers of the partitions' spill files.
pub struct SpillWriter {
    /// The first partition with a file (a shard spills only its own).
    first: usize,
    files: Vec<(PathBuf, BufWriter<File>)>,
}

impl SpillWriter {
    /// One contacts spill file per partition of `keep` under `dir`.
    pub fn create(dir: &Path, keep: Range<usize>) -> Result<SpillWriter> {
        SpillWriter::named(dir, "contacts", keep)
    }

    /// One spill file per partition of `keep` under `dir`,
    /// `NAME-NNNNN.bin`; pieces of other partitions are not pushed.
    pub fn named(dir: &Path, name: &str, keep: Range<usize>) -> Result<SpillWriter> {
        // Buffers shrink as partitions grow in number: all are open at once.
        let buffer = ((64 << 20) / keep.len().max(1)).clamp(64 << 10, 1 << 20);
        let first = keep.start;
        let files = keep
            .map(|k| {
                let path = dir.join(format!("{name}-{k:05}.bin"));
                let f = crate::base::owned::create_file(&path)?;
                Ok((path, BufWriter::with_capacity(buffer, f)))
            })
            .collect::<Result<_>>()?;
        Ok(SpillWriter { first, files })
    }

    /// Whether partition `k` has a file here.
    pub fn keeps(&self, k: usize) -> bool {
        (self.first..self.first + self.files.len()).contains(&k)
    }

    /// Appends a piece of partition `k` encoded by [`encode_loans`].
    pub(crate) fn push_encoded(&mut self, k: usize, piece: &[u8]) -> Result<()> {
        let (path, w) = &mut self.files[k - self.first];
        w.write_all(piece)
            .map_err(|e| crate::base::owned::scratch_write_error(path, e.into()))
    }

    /// Appends a piece of partition `k`: contacts and their window indices.
    pub fn push(&mut self, k: usize, c: &Contacts, index: &[usize]) -> Result<()> {
        let (path, w) = &mut self.files[k - self.first];
        write_piece(w, c, index)
            .map_err(|e| crate::base::owned::scratch_write_error(path, e.into()))
    }

    /// Flushes every file; returns their paths, by partition (the first
    /// kept one first).
    pub fn finish(self) -> Result<Vec<PathBuf>> {
        self.files
            .into_iter()
            .map(|(path, mut w)| {
                w.flush()
                    .map_err(|e| crate::base::owned::scratch_write_error(&path, e.into()))?;
                Ok(path)
            })
            .collect()
    }
}

/// Reads a partition's spill file back: its contacts (pieces appended in
/// window order) and their window indices.
pub fn read(path: &Path, int_ids: bool) -> Result<(Contacts, Vec<usize>)> {
    let f = File::open(path)
        .with_context(|| format!("cannot open scratch file '{}'", path.display()))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut c = Contacts::empty(int_ids);
    let mut index = Vec::new();
    while let Some((piece, idx)) = read_piece(&mut r)
        .with_context(|| format!("cannot read scratch file '{}'", path.display()))?
    {
        c.append(piece)?;
        index.extend(idx);
    }
    Ok((c, index))
}

/// Reads a partition's loans spill file back: its pieces, in the order
/// they were written (row groups in file order).
pub(crate) fn read_loans(path: &Path) -> Result<Vec<Chunk>> {
    let f = File::open(path)
        .with_context(|| format!("cannot open scratch file '{}'", path.display()))?;
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut out = Vec::new();
    while let Some(c) = read_chunk(&mut r)
        .with_context(|| format!("cannot read scratch file '{}'", path.display()))?
    {
        out.push(c);
    }
    Ok(out)
}

fn put_u64(w: &mut impl Write, x: u64) -> std::io::Result<()> {
    w.write_all(&x.to_le_bytes())
}

fn get_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// A byte buffer, LZ4-compressed: scratch files are written to and read
/// from the page cache, where copying the bytes costs more than
/// compressing them (codes, statuses and mostly-zero money columns shrink
/// several times; BENCHMARKS.md).
fn put_bytes(w: &mut impl Write, b: &[u8]) -> std::io::Result<()> {
    let z = lz4_flex::block::compress_prepend_size(b);
    put_u64(w, z.len() as u64)?;
    w.write_all(&z)
}

fn get_bytes(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let n = get_u64(r)? as usize;
    let mut z = vec![0u8; n];
    r.read_exact(&mut z)?;
    lz4_flex::block::decompress_size_prepended(&z)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// Fixed-width integers as little-endian bytes, and back.
trait Le: Sized + Copy {
    const N: usize;
    fn put(self, out: &mut Vec<u8>);
    fn get(b: &[u8]) -> Self;
}

macro_rules! le {
    ($($t:ty),*) => {$(
        impl Le for $t {
            const N: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                <$t>::from_le_bytes(b.try_into().expect("width"))
            }
        }
    )*};
}
le!(i32, i64, u32, u64, u8);

fn put_vec<T: Le>(w: &mut impl Write, v: &[T]) -> std::io::Result<()> {
    let mut b = Vec::with_capacity(v.len() * T::N);
    for &x in v {
        x.put(&mut b);
    }
    put_bytes(w, &b)
}

fn get_vec<T: Le>(r: &mut impl Read) -> std::io::Result<Vec<T>> {
    let b = get_bytes(r)?;
    Ok(b.chunks_exact(T::N).map(T::get).collect())
}

fn put_ids(w: &mut impl Write, ids: &LoanIds) -> std::io::Result<()> {
    match ids {
        LoanIds::Int(v) => {
            put_u64(w, 0)?;
            put_vec(w, v)
        }
        LoanIds::Str { offsets, bytes } => {
            put_u64(w, 1)?;
            let o: Vec<u64> = offsets.iter().map(|&x| x as u64).collect();
            put_vec(w, &o)?;
            put_bytes(w, bytes)
        }
    }
}

fn get_ids(r: &mut impl Read) -> std::io::Result<LoanIds> {
    Ok(match get_u64(r)? {
        0 => LoanIds::Int(get_vec(r)?),
        _ => LoanIds::Str {
            offsets: get_vec::<u64>(r)?.into_iter().map(|x| x as usize).collect(),
            bytes: get_bytes(r)?,
        },
    })
}

fn put_dim(w: &mut impl Write, d: &LocalDim) -> std::io::Result<()> {
    put_vec(w, &d.codes)?;
    put_labels(w, &d.labels)
}

fn get_dim(r: &mut impl Read) -> Result<LocalDim> {
    let codes = get_vec(r)?;
    Ok(LocalDim::from_parts(codes, get_labels(r)?))
}

fn put_labels(w: &mut impl Write, labels: &[Option<String>]) -> std::io::Result<()> {
    put_u64(w, labels.len() as u64)?;
    for l in labels {
        match l {
            None => put_u64(w, 0)?,
            Some(s) => {
                put_u64(w, 1)?;
                put_bytes(w, s.as_bytes())?;
            }
        }
    }
    Ok(())
}

fn get_labels(r: &mut impl Read) -> Result<Vec<Option<String>>> {
    let mut labels = Vec::new();
    for _ in 0..get_u64(r)? {
        labels.push(match get_u64(r)? {
            0 => None,
            _ => Some(String::from_utf8(get_bytes(r)?).map_err(|e| anyhow!("{e}"))?),
        });
    }
    Ok(labels)
}

/// A piece of a partition's loans (the rows of one row group that belong
/// to it) as bytes of its spill file: encoded (and compressed) on the
/// decoding threads, written by one.
pub(crate) fn encode_loans(c: &Chunk) -> Vec<u8> {
    let mut out = Vec::new();
    write_chunk(&mut out, c).expect("writing to memory cannot fail");
    out
}

fn write_chunk(w: &mut impl Write, c: &Chunk) -> std::io::Result<()> {
    put_u64(w, 1)?; // a piece follows
    put_u64(w, c.file as u64)?;
    // Runs as gaps from the previous run (both ends increase within a row
    // group): a hash partition's piece has about a run per row, and small
    // gaps compress where absolute positions do not. (A snapshot holds at
    // most `u32::MAX` rows: `metrics::join::sort_ids`.)
    let mut last = (0usize, 0usize);
    let (at, rows): (Vec<u32>, Vec<u32>) = c
        .runs
        .iter()
        .map(|&(a, r)| {
            let gap = ((a - last.0) as u32, (r - last.1) as u32);
            last = (a, r);
            gap
        })
        .unzip();
    put_vec(w, &at)?;
    put_vec(w, &rows)?;
    put_ids(w, &c.ids)?;
    put_dim(w, &c.product)?;
    put_dim(w, &c.region)?;
    put_dim(w, &c.grade)?;
    let status: Vec<u8> = c.status.iter().map(|&x| x as u8).collect();
    put_vec(w, &status)?;
    let plan: Vec<u8> = c.plan.iter().map(|&x| x as u8).collect();
    put_vec(w, &plan)?;
    put_vec(w, &c.dpd)?;
    put_vec(w, &c.balance)?;
    put_vec(w, &c.past_due)?;
    put_vec(w, &c.paid)?;
    put_vec(w, &c.recovered)?;
    put_vec(w, &c.origination)?;
    put_vec(w, &c.collateral)?;
    put_vec(w, &c.senior_lien)?;
    put_dim(w, &c.legal)?;
    put_vec(w, &c.contactable)?;
    put_vec(w, &c.original)?;
    put_vec(w, &c.charge_off_date)?;
    put_vec(w, &c.charge_off_amount)?;
    put_u64(w, c.rounded)?;
    put_u64(w, c.filled as u64)
}

fn read_chunk(r: &mut impl Read) -> Result<Option<Chunk>> {
    let mut tag = [0u8; 8];
    match r.read_exact(&mut tag) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    // Every column into a local first, in the order written (some are
    // converted before the chunk is built).
    let file = get_u64(r)? as usize;
    let at = get_vec::<u32>(r)?;
    let rows = get_vec::<u32>(r)?;
    let mut last = (0usize, 0usize);
    let runs = at
        .into_iter()
        .zip(rows)
        .map(|(a, r)| {
            last = (last.0 + a as usize, last.1 + r as usize);
            last
        })
        .collect();
    let ids = get_ids(r)?;
    let product = get_dim(r)?;
    let region = get_dim(r)?;
    let grade = get_dim(r)?;
    let status = get_vec::<u8>(r)?
        .into_iter()
        .map(|x| match x {
            0 => Status::Active,
            1 => Status::PaidOff,
            _ => Status::ChargedOff,
        })
        .collect();
    let plan = get_vec::<u8>(r)?
        .into_iter()
        .map(|x| match x {
            0 => PlanStatus::None,
            1 => PlanStatus::Active,
            2 => PlanStatus::Completed,
            _ => PlanStatus::Broken,
        })
        .collect();
    Ok(Some(Chunk {
        file,
        runs,
        ids,
        product,
        region,
        grade,
        status,
        plan,
        dpd: get_vec(r)?,
        balance: get_vec(r)?,
        past_due: get_vec(r)?,
        paid: get_vec(r)?,
        recovered: get_vec(r)?,
        origination: get_vec(r)?,
        collateral: get_vec(r)?,
        senior_lien: get_vec(r)?,
        legal: get_dim(r)?,
        contactable: get_vec(r)?,
        original: get_vec(r)?,
        charge_off_date: get_vec(r)?,
        charge_off_amount: get_vec(r)?,
        rounded: get_u64(r)?,
        filled: get_u64(r)? as u32,
    }))
}

fn write_piece(w: &mut impl Write, c: &Contacts, index: &[usize]) -> std::io::Result<()> {
    put_u64(w, 1)?; // a piece follows
    let idx: Vec<u64> = index.iter().map(|&x| x as u64).collect();
    put_vec(w, &idx)?;
    put_vec(w, &c.date)?;
    put_ids(w, &c.contact_ids)?;
    put_ids(w, &c.ids)?;
    put_vec(w, &c.local_ts)?;
    let ch: Vec<u8> = c.channel.iter().map(|x| x.index() as u8).collect();
    put_vec(w, &ch)?;
    let oc: Vec<u8> = c
        .outcome
        .iter()
        .map(|x| {
            Outcome::ALL
                .iter()
                .position(|o| o == x)
                .expect("an outcome") as u8
        })
        .collect();
    put_vec(w, &oc)?;
    put_vec(w, &c.ptp_amount)?;
    put_vec(w, &c.ptp_date)?;
    put_dim(w, &c.agent)?;
    put_u64(w, c.files.len() as u64)?;
    for (p, rows) in &c.files {
        put_bytes(w, p.as_os_str().as_encoded_bytes())?;
        put_u64(w, *rows as u64)?;
    }
    Ok(())
}

fn read_piece(r: &mut impl Read) -> Result<Option<(Contacts, Vec<usize>)>> {
    let mut tag = [0u8; 8];
    match r.read_exact(&mut tag) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let index: Vec<usize> = get_vec::<u64>(r)?.into_iter().map(|x| x as usize).collect();
    let date = get_vec(r)?;
    let contact_ids = get_ids(r)?;
    let ids = get_ids(r)?;
    let local_ts = get_vec(r)?;
    let channel = get_vec::<u8>(r)?
        .into_iter()
        .map(|x| Channel::ALL[x as usize])
        .collect();
    let outcome = get_vec::<u8>(r)?
        .into_iter()
        .map(|x| Outcome::ALL[x as usize])
        .collect();
    let ptp_amount = get_vec(r)?;
    let ptp_date = get_vec(r)?;
    let agent = get_dim(r)?;
    let mut files = Vec::new();
    for _ in 0..get_u64(r)? {
        let p = String::from_utf8(get_bytes(r)?).map_err(|e| anyhow!("{e}"))?;
        files.push((PathBuf::from(p), get_u64(r)? as usize));
    }
    Ok(Some((
        Contacts {
            date,
            contact_ids,
            ids,
            local_ts,
            channel,
            outcome,
            ptp_amount,
            ptp_date,
            agent,
            files,
        },
        index,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A piece written and read back is the same contacts, for string and
    /// integer ids, with a null agent.
    #[test]
    fn pieces_round_trip() {
        for int_ids in [true, false] {
            let ids = if int_ids {
                LoanIds::Int(vec![7, -3])
            } else {
                LoanIds::Str {
                    offsets: vec![0, 2, 5],
                    bytes: b"L1L22".to_vec(),
                }
            };
            let c = Contacts {
                date: vec![20000, 20001],
                contact_ids: LoanIds::Int(vec![1, 2]),
                ids,
                local_ts: vec![-5, 1 << 40],
                channel: vec![Channel::ALL[2], Channel::ALL[6]],
                outcome: vec![Outcome::ALL[7], Outcome::ALL[0]],
                ptp_amount: vec![i64::MIN, 12_345],
                ptp_date: vec![i32::MIN, 20010],
                agent: LocalDim::from_parts(vec![1, 0], vec![None, Some("A007".into())]),
                files: vec![(PathBuf::from("/x/part-0.parquet"), 2)],
            };
            let dir = tempfile::tempdir().unwrap();
            let mut w = SpillWriter::create(dir.path(), 0..2).unwrap();
            w.push(1, &c, &[4, 9]).unwrap();
            w.push(1, &c, &[10, 11]).unwrap();
            let paths = w.finish().unwrap();
            let (back, index) = read(&paths[1], int_ids).unwrap();
            assert_eq!(index, vec![4, 9, 10, 11]);
            assert_eq!(back.len(), 4);
            assert_eq!(back.ids.display(3), c.ids.display(1));
            assert_eq!(back.local_ts[2..], c.local_ts[..]);
            assert_eq!(back.outcome[..2], c.outcome[..]);
            assert_eq!(back.agent_label(0), Some("A007"));
            assert_eq!(back.agent_label(1), None);
            assert_eq!(back.agent_label(2), Some("A007"));
            assert_eq!(back.ptp_amount[3], 12_345);
            let (empty, none) = read(&paths[0], int_ids).unwrap();
            assert!(empty.is_empty() && none.is_empty());
        }
    }
}

#[cfg(test)]
mod loans_tests {
    use super::*;

    #[test]
    fn loans_pieces_round_trip() {
        let dim = || LocalDim::from_parts(vec![0, 1], vec![None, Some("x".into())]);
        let c = Chunk {
            file: 3,
            runs: vec![(0, 10), (1, 20)],
            ids: LoanIds::Str {
                offsets: vec![0, 2, 5],
                bytes: b"L1L22".to_vec(),
            },
            product: dim(),
            region: dim(),
            grade: dim(),
            status: vec![Status::Active, Status::ChargedOff],
            plan: vec![PlanStatus::Broken, PlanStatus::None],
            dpd: vec![1, 2],
            balance: vec![3, 4],
            past_due: vec![5, 6],
            paid: vec![7, 8],
            recovered: vec![9, 10],
            origination: vec![11, 12],
            collateral: vec![13, 14],
            senior_lien: vec![15, 16],
            legal: dim(),
            contactable: vec![0, 2],
            original: vec![],
            charge_off_date: vec![],
            charge_off_amount: vec![17, 18],
            rounded: 4,
            filled: 9,
        };
        let dir = tempfile::tempdir().unwrap();
        let mut w = SpillWriter::named(dir.path(), "loans", 0..2).unwrap();
        let piece = encode_loans(&c);
        w.push_encoded(1, &piece).unwrap();
        w.push_encoded(1, &piece).unwrap();
        w.push_encoded(0, &piece).unwrap();
        let paths = w.finish().unwrap();
        let back = read_loans(&paths[1]).unwrap();
        assert_eq!(back.len(), 2);
        assert_eq!(back[1].runs, c.runs);
        assert_eq!(back[1].ids, c.ids);
        assert_eq!(back[1].status, c.status);
        assert_eq!(back[1].plan, c.plan);
        assert_eq!(back[1].charge_off_amount, c.charge_off_amount);
        assert_eq!(back[1].legal.labels, c.legal.labels);
        assert_eq!((back[1].rounded, back[1].filled), (4, 9));
    }
}
