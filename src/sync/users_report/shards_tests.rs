use super::*;
use crate::sync::users_report::ReportEntry;

fn entry(i: usize, reason: &str) -> ReportEntry {
    ReportEntry {
        key: format!("dialpad/{}", 4_500_000_000_000_000u64 + i as u64 * 7919),
        email: Some(format!("firstname.lastname{i}@subsidiary{}.example.com", i % 13)),
        phone_number: Some(format!("+1415{:07}", i)),
        dialpad_user_id: Some(format!("{}", 4_500_000_000_000_000u64 + i as u64 * 7919)),
        teams_user_id: Some(format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            i * 2_654_435_761 % (1 << 32),
            i % 65_536,
            i % 4096,
            (i * 31) % 4096,
            i * 0x9e37_79b9
        )),
        reason: reason.into(),
        message: format!(
            "The Teams user firstname.lastname{i}@subsidiary.example.com lacks Phone System (Teams Phone): its licences are ENTERPRISEPACK, POWER_BI_STANDARD; assign a licence that includes Teams Phone"
        ),
        since: "2026-12-01T10:00:00Z".into(),
    }
}

fn report(count: usize) -> UsersReport {
    UsersReport {
        entries: (0..count)
            .map(|i| entry(i, "PhoneSystemLicenseMissing"))
            .collect(),
        omitted: 0,
    }
}

fn names_and_digests(shards: &[EncodedShard]) -> Vec<(String, [u8; 32])> {
    shards
        .iter()
        .map(|s| (format!("shard-{}", s.index), s.digest))
        .collect()
}

fn encode_all(report: &UsersReport) -> Vec<EncodedShard> {
    split(report.clone()).iter().map(|d| encode(d).unwrap()).collect()
}

fn written_as(shards: &[EncodedShard]) -> (BTreeMap<String, WrittenShard>, BTreeMap<String, String>) {
    let mut written = BTreeMap::new();
    let mut stored = BTreeMap::new();
    for shard in shards {
        let name = format!("shard-{}", shard.index);
        written.insert(
            name.clone(),
            WrittenShard {
                digest: shard.digest,
                resource_version: format!("rv{}", shard.index),
            },
        );
        stored.insert(name, format!("rv{}", shard.index));
    }
    (written, stored)
}

#[test]
fn a_hundred_thousand_users_fit_in_bounded_shards_far_below_the_object_limit() {
    let report = report(100_000);
    let shards = encode_all(&report);
    assert_eq!(shards.len(), 64);
    let largest = shards.iter().map(|s| s.payload.len()).max().unwrap();
    assert!(largest < 256 * 1024, "largest shard {largest} bytes");
    let mut read: Vec<ReportEntry> = shards
        .iter()
        .flat_map(|s| decode(&s.payload).unwrap().0.users)
        .collect();
    read.sort_by(|a, b| a.key.cmp(&b.key));
    let mut all = report.entries.clone();
    all.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(read, all, "every user comes back");
}

#[test]
fn the_shard_count_is_a_bounded_power_of_two() {
    assert_eq!(shard_count(0), 0);
    assert_eq!(shard_count(1), 1);
    assert_eq!(shard_count(USERS_PER_SHARD + 1), 2);
    assert_eq!(shard_count(5 * USERS_PER_SHARD), 8);
    assert_eq!(shard_count(10_000_000), MAX_SHARDS);
}

#[test]
fn an_unchanged_report_writes_and_deletes_nothing() {
    let shards = encode_all(&report(10_000));
    let (written, stored) = written_as(&shards);
    let again = encode_all(&report(10_000));
    assert_eq!(
        plan_writes(&names_and_digests(&again), &written, &stored),
        ShardWrites::default()
    );
}

#[test]
fn one_changed_user_rewrites_one_shard() {
    let before = report(10_000);
    let (written, stored) = written_as(&encode_all(&before));
    let mut after = before.clone();
    after.entries[1234].reason = "InSync".into();
    let writes = plan_writes(&names_and_digests(&encode_all(&after)), &written, &stored);
    assert_eq!(writes.write.len(), 1, "{writes:?}");
    assert!(writes.delete.is_empty());
}

#[test]
fn a_shard_someone_edited_or_deleted_is_written_again() {
    let shards = encode_all(&report(5_000));
    let (written, mut stored) = written_as(&shards);
    stored.insert("shard-0".into(), "edited".into());
    stored.remove("shard-1");
    let writes = plan_writes(&names_and_digests(&shards), &written, &stored);
    assert_eq!(writes.write, [0, 1]);
}

#[test]
fn shards_no_longer_needed_are_deleted() {
    let (written, stored) = written_as(&encode_all(&report(5_000)));
    let smaller = encode_all(&report(10));
    let writes = plan_writes(&names_and_digests(&smaller), &written, &stored);
    assert_eq!(writes.write, [0]);
    assert_eq!(writes.delete, ["shard-1", "shard-2", "shard-3"]);
}

#[test]
fn every_shard_says_which_of_how_many_it_is_and_what_was_left_out() {
    let mut big = report(3_000);
    big.omitted = 7;
    let documents = split(big);
    assert_eq!(documents.len(), 2);
    for (index, document) in documents.iter().enumerate() {
        assert_eq!((document.shard, document.shards, document.omitted), (index, 2, 7));
        assert!(document.users.windows(2).all(|w| w[0].key < w[1].key));
    }
}

#[test]
fn a_payload_that_is_not_a_shard_is_an_error_not_a_panic() {
    assert!(matches!(decode(b"not gzip"), Err(ShardError::Io { .. })));
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(b"{\"hello\": 1}").unwrap();
    assert!(matches!(
        decode(&encoder.finish().unwrap()),
        Err(ShardError::Json(_))
    ));
}

#[test]
fn a_shard_that_inflates_past_the_bound_is_refused() {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![b' '; 1024 * 1024];
    for _ in 0..17 {
        encoder.write_all(&zeros).unwrap();
    }
    let bomb = encoder.finish().unwrap();
    assert!(matches!(decode(&bomb), Err(ShardError::Io { .. })));
}

#[test]
fn the_digest_without_compressing_is_the_digest_of_the_encoded_shard() {
    for document in split(report(3_000)) {
        assert_eq!(digest(&document).unwrap(), encode(&document).unwrap().digest);
    }
}
