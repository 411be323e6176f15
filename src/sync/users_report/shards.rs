//! The report split into compressed shards, and which shards a sync must write or delete.
//!
//! Users go to shards by a hash of their key (so a user whose entry changes, joins or leaves
//! rewrites one shard, not every shard after it), `count` being a power of two that keeps about
//! [`USERS_PER_SHARD`] users in each, at most [`MAX_SHARDS`]. A shard is a gzip-compressed JSON
//! document ([`ShardDocument`]) that says which shard of how many it is, so a reader can tell a
//! complete report from one being rewritten. The decision what to write compares each shard's
//! digest with what was last written, and each written shard's `resourceVersion` with what the
//! apiserver holds now: an unchanged report writes nothing, a shard someone edited or deleted is
//! written again, a shard no longer needed is deleted.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ReportEntry, UsersReport};

/// Users per shard the shard count aims at (between half and all of it on average): about
/// 350 bytes of JSON each, about 50 after compression, so a shard is some 100 KB.
pub const USERS_PER_SHARD: usize = 2_000;
/// The most shards a report has (so at most [`super::MAX_USERS`] users, some 13 MB in all).
pub const MAX_SHARDS: usize = 128;
/// The most compressed bytes one shard may take: far below the 1 MiB a ConfigMap may hold ("The
/// data stored in a ConfigMap cannot exceed 1 MiB",
/// https://kubernetes.io/docs/concepts/configuration/configmap/).
pub const MAX_SHARD_BYTES: usize = 512 * 1024;
/// The largest document a reader decompresses: a shard that inflates past this is refused.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// One shard's content, as stored (compressed) and read back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardDocument {
    /// This shard's index, from 0.
    pub shard: usize,
    /// How many shards the report has.
    pub shards: usize,
    /// Users of the whole report left out past its bound.
    pub omitted: usize,
    /// This shard's users, by key.
    pub users: Vec<ReportEntry>,
}

/// A shard ready to write: its index, the compressed document and the digest of its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedShard {
    /// Its index, from 0.
    pub index: usize,
    /// The gzip-compressed JSON document.
    pub payload: Vec<u8>,
    /// SHA-256 of the uncompressed JSON: what change detection compares.
    pub digest: [u8; 32],
}

/// What went wrong making or reading a shard.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// A shard compressed past [`MAX_SHARD_BYTES`] (not written, so the ConfigMap limit is never hit).
    #[error("users report shard {index} compresses to {bytes} bytes, over the {MAX_SHARD_BYTES}-byte bound")]
    TooLarge {
        /// The shard.
        index: usize,
        /// Its compressed size.
        bytes: usize,
    },
    /// Compressing or decompressing failed, or a document inflated past [`MAX_DOCUMENT_BYTES`].
    #[error("users report shard cannot be {doing}: {source}")]
    Io {
        /// `compressed` or `decompressed`.
        doing: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The decompressed document is not a report shard.
    #[error("users report shard is not a report document: {0}")]
    Json(#[from] serde_json::Error),
}

/// How many shards `users` users take: a power of two, about [`USERS_PER_SHARD`] each, at most
/// [`MAX_SHARDS`]; none for no users.
pub fn shard_count(users: usize) -> usize {
    if users == 0 {
        return 0;
    }
    users
        .div_ceil(USERS_PER_SHARD)
        .next_power_of_two()
        .min(MAX_SHARDS)
}

/// Which of `count` shards the user with `key` goes to: the first eight bytes of the key's
/// SHA-256, so the spread is even whatever the ids look like, and the same on every platform.
pub fn shard_of(key: &str, count: usize) -> usize {
    let digest = Sha256::digest(key.as_bytes());
    let mut head = [0u8; 8];
    head.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(head) % count as u64) as usize
}

/// The report split into its shard documents, each shard's users sorted by key. It takes the
/// report, so that at 100,000 users its entries are moved, never copied.
pub fn split(report: UsersReport) -> Vec<ShardDocument> {
    let count = shard_count(report.entries.len());
    let mut shards: Vec<ShardDocument> = (0..count)
        .map(|shard| ShardDocument {
            shard,
            shards: count,
            omitted: report.omitted,
            users: Vec::new(),
        })
        .collect();
    for entry in report.entries {
        let shard = shard_of(&entry.key, count);
        shards[shard].users.push(entry);
    }
    for shard in &mut shards {
        shard.users.sort_by(|a, b| a.key.cmp(&b.key));
    }
    shards
}

/// Feeds what is written to a SHA-256.
struct Digesting(Sha256);

impl Write for Digesting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The digest of a shard document's JSON, as [`encode`] computes it, without keeping the JSON or
/// compressing it: what a sync computes for every shard, compressing only those it writes.
pub fn digest(document: &ShardDocument) -> Result<[u8; 32], ShardError> {
    let mut digesting = Digesting(Sha256::new());
    serde_json::to_writer(&mut digesting, document)?;
    Ok(digesting.0.finalize().into())
}

/// One shard document, serialized, digested and compressed.
pub fn encode(document: &ShardDocument) -> Result<EncodedShard, ShardError> {
    let json = serde_json::to_vec(document)?;
    let digest: [u8; 32] = Sha256::digest(&json).into();
    let io = |source| ShardError::Io {
        doing: "compressed",
        source,
    };
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(&json).map_err(io)?;
    let payload = encoder.finish().map_err(io)?;
    if payload.len() > MAX_SHARD_BYTES {
        return Err(ShardError::TooLarge {
            index: document.shard,
            bytes: payload.len(),
        });
    }
    Ok(EncodedShard {
        index: document.shard,
        payload,
        digest,
    })
}

/// A stored shard read back: its document and the digest of its content.
pub fn decode(payload: &[u8]) -> Result<(ShardDocument, [u8; 32]), ShardError> {
    let mut json = Vec::new();
    GzDecoder::new(payload)
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|source| ShardError::Io {
            doing: "decompressed",
            source,
        })?;
    if json.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ShardError::Io {
            doing: "decompressed",
            source: std::io::Error::other(format!("it inflates past {MAX_DOCUMENT_BYTES} bytes")),
        });
    }
    let digest: [u8; 32] = Sha256::digest(&json).into();
    Ok((serde_json::from_slice(&json)?, digest))
}

/// A shard as last written: the digest of its content and the `resourceVersion` the write returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenShard {
    /// SHA-256 of the uncompressed JSON.
    pub digest: [u8; 32],
    /// The ConfigMap's `resourceVersion` after the write.
    pub resource_version: String,
}

/// The writes one sync makes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ShardWrites {
    /// Indexes of the wanted shards to write (new, changed, or changed by someone else).
    pub write: Vec<usize>,
    /// Names of stored shards no longer wanted.
    pub delete: Vec<String>,
}

/// Which shards to write and delete. `wanted` are the shards of this report, by name; `written`
/// what this operator last wrote, by name; `stored` the `resourceVersion` of every shard the
/// apiserver holds now, by name.
pub fn plan_writes(
    wanted: &[(String, [u8; 32])],
    written: &BTreeMap<String, WrittenShard>,
    stored: &BTreeMap<String, String>,
) -> ShardWrites {
    let write = wanted
        .iter()
        .enumerate()
        .filter(|(_, (name, digest))| {
            let Some(last) = written.get(name) else {
                return true;
            };
            last.digest != *digest || stored.get(name) != Some(&last.resource_version)
        })
        .map(|(index, _)| index)
        .collect();
    let delete = stored
        .keys()
        .filter(|name| !wanted.iter().any(|(wanted, _)| wanted == *name))
        .cloned()
        .collect();
    ShardWrites { write, delete }
}

#[cfg(test)]
#[path = "shards_tests.rs"]
mod tests;
