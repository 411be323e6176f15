//! What the fuzz targets share: a warm-up, and a planner snapshot built from fuzz input.
//!
//! Everything is drawn from small alphabets (four Teams ids, a handful of emails and numbers in
//! several spellings), so that the collisions the planner must handle happen often: one email on
//! two users, a number on two holders, a record naming the wrong holder, a Teams id listed twice.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use arbitrary::{Result, Unstructured};
use dialpad_teams_operator::api::{AssignmentSpec, Reason, RemovalPolicy, SyncMode};
use dialpad_teams_operator::microsoft::catalog::{self, ServicePlan};
use dialpad_teams_operator::microsoft::directory::EmailIndex;
use dialpad_teams_operator::microsoft::graph::GraphUser;
use dialpad_teams_operator::microsoft::licences::{AssignedLicense, AssignedPlan, LicenceState};
use dialpad_teams_operator::sync::input::PlanInput;
use dialpad_teams_operator::sync::model::{
    DesiredState, DesiredUser, HeldNumber, Policy, PreviousOutcome, RetryState, TeamsState, TeamsUser,
    TenantChecks, UserKey, parse_duration,
};
use dialpad_teams_operator::sync::numbers::normalise;
use dialpad_teams_operator::sync::ownership::OwnershipRecord;
use dialpad_teams_operator::sync::policies::{
    EffectivePolicy, PolicyChange, PolicyKind, PolicySource, PolicyState, Unresolved,
};
use dialpad_teams_operator::sync::readiness::{FailureTolerance, Readiness};
use k8s_openapi::jiff::Timestamp;

const EMAILS: &[&str] = &[
    "ann@contoso.com",
    "Ann@Contoso.com",
    "bob@contoso.com",
    " cy@contoso.com ",
    "desk@contoso.com",
    "",
];

/// Numbers as a source or a person writes them; several spell the same number.
const NUMBERS: &[&str] = &[
    "+14155550100",
    "+14155550101",
    "(415) 555-0101",
    "+1 415 555 0102",
    "+14155550100;ext=7",
    "tel:+442079460000",
    "555-0113",
    "",
];

const TEAMS_IDS: &[&str] = &["t0", "t1", "t2", "t3"];
const DIALPAD_IDS: &[&str] = &["1", "2", "3", "4"];
const PLANS: &[ServicePlan] = &[catalog::MCOEV, catalog::MCOPSTN1, catalog::MCOPSTN8];
const SKUS: &[&str] = &["SPE_E5", "MCOPSTN1", "SPE_E5_CALLINGMINUTES"];
const CAPABILITY: &[&str] = &["Enabled", "Warning", "Suspended"];

/// Loads libphonenumber's metadata (all its regular expressions; seconds in a debug build) before
/// the first input, so that the load does not count against libFuzzer's per-input timeout.
pub fn warm_up() {
    assert_eq!(normalise("+14155550100").as_deref(), Some("+14155550100"));
}

/// A whole planner input, owned.
pub struct Snapshot {
    policy: Policy,
    desired: DesiredState,
    teams: TeamsState,
    checks: TenantChecks,
    previous: HashMap<UserKey, PreviousOutcome>,
    retries: HashMap<UserKey, RetryState>,
    record: OwnershipRecord,
    now: Timestamp,
}

impl Snapshot {
    /// Draws a snapshot from `u`.
    pub fn build(u: &mut Unstructured) -> Result<Self> {
        let (teams_users, graph_users) = teams_users(u)?;
        let teams = TeamsState {
            index: EmailIndex::new(&graph_users),
            users: teams_users,
            numbers: repeat(u, 6, held_number)?,
            policies: policy_state(u)?,
        };
        let checks = if u.ratio(1, 8)? {
            let reason = *u.choose(Reason::ALL)?;
            TenantChecks {
                connected: if u.arbitrary()? {
                    Ok(())
                } else {
                    Err((reason, "refused".into()))
                },
                authorized: Err((reason, "not authorized".into())),
            }
        } else {
            TenantChecks::ok()
        };
        Ok(Self {
            policy: policy(u)?,
            desired: desired(u)?,
            teams,
            checks,
            previous: repeat(u, 4, |u| Ok((key(u)?, previous(u)?)))?
                .into_iter()
                .collect(),
            retries: repeat(u, 4, |u| Ok((key(u)?, retry(u)?)))?.into_iter().collect(),
            record: OwnershipRecord::from_entries(repeat(u, 5, |u| Ok((number(u)?, pick(u, TEAMS_IDS)?)))?)
                .with_policy_changes(&repeat(u, 4, |u| {
                    Ok(PolicyChange::Assign {
                        user_id: pick(u, TEAMS_IDS)?,
                        kind: PolicyKind::VoiceRouting,
                        policy_id: pick(u, POLICY_IDS)?,
                    })
                })?),
            now: timestamp(u)?,
        })
    }

    /// The planner's view of this snapshot.
    pub fn input(&self) -> PlanInput<'_> {
        PlanInput {
            policy: &self.policy,
            desired: &self.desired,
            teams: &self.teams,
            checks: &self.checks,
            previous: &self.previous,
            retries: &self.retries,
            owned: &self.record,
            now: self.now,
            scope: None,
        }
    }
}

/// Voice routing policy names a resource may use, and the tenant's ids for those that exist.
const POLICY_NAMES: &[&str] = &["Berlin-Routes", "Munich-Routes", "Missing-Routes"];
const POLICY_IDS: &[&str] = &["p-berlin", "p-munich", "p-other"];

/// What the tenant shows of voice routing policies: the names resolved (or not), and each user's
/// effective policy, directly or through a group.
fn policy_state(u: &mut Unstructured) -> Result<PolicyState> {
    let mut state = PolicyState::default();
    if u.ratio(1, 4)? {
        return Ok(state);
    }
    state.kinds.insert(PolicyKind::VoiceRouting);
    for (name, id) in POLICY_NAMES.iter().zip(POLICY_IDS) {
        let resolved = match u.int_in_range(0..=5)? {
            0 => Err(Unresolved::NotFound),
            1 => Err(Unresolved::TypeUnsupported),
            _ => Ok((*id).to_owned()),
        };
        state
            .ids
            .insert((PolicyKind::VoiceRouting, (*name).to_owned()), resolved);
    }
    for (user, policy, source) in repeat(u, 5, |u| {
        let source = match u.int_in_range(0..=2)? {
            0 => PolicySource::Direct,
            1 => PolicySource::Group {
                group_id: Some("g1".into()),
            },
            _ => PolicySource::Other,
        };
        Ok((pick(u, TEAMS_IDS)?, pick(u, POLICY_IDS)?, source))
    })? {
        state.effective.entry(user).or_default().insert(
            PolicyKind::VoiceRouting,
            EffectivePolicy {
                policy_id: policy,
                source,
            },
        );
    }
    Ok(state)
}

fn repeat<T>(
    u: &mut Unstructured,
    most: usize,
    mut one: impl FnMut(&mut Unstructured) -> Result<T>,
) -> Result<Vec<T>> {
    let count = u.int_in_range(0..=most)?;
    (0..count).map(|_| one(u)).collect()
}

fn pick(u: &mut Unstructured, from: &[&str]) -> Result<String> {
    Ok((*u.choose(from)?).to_owned())
}

/// A number as the source has it: mostly from [`NUMBERS`], sometimes any text.
fn raw_number(u: &mut Unstructured) -> Result<String> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        pick(u, NUMBERS)
    }
}

/// A number as the inventory, Teams and the record keep it: normalised where it can be.
fn number(u: &mut Unstructured) -> Result<String> {
    let raw = raw_number(u)?;
    Ok(normalise(&raw).unwrap_or(raw))
}

/// Mostly within days of a fixed time, sometimes anywhere jiff can represent.
fn timestamp(u: &mut Unstructured) -> Result<Timestamp> {
    let second = if u.ratio(1, 4)? {
        u.int_in_range(Timestamp::MIN.as_second()..=Timestamp::MAX.as_second())?
    } else {
        1_800_000_000 + i64::from(u.int_in_range(-400_000..=400_000)?)
    };
    Ok(Timestamp::from_second(second).unwrap_or(Timestamp::UNIX_EPOCH))
}

fn policy(u: &mut Unstructured) -> Result<Policy> {
    let grace_period = match u.int_in_range(0..=3)? {
        0 => Duration::ZERO,
        1 => Duration::from_secs(72 * 3600),
        // What spec.removal.gracePeriod parses to: any Go duration the schema admits.
        2 => parse_duration(u.arbitrary()?).unwrap_or(Duration::ZERO),
        _ => Duration::new(u.arbitrary()?, u.int_in_range(0..=999_999_999)?),
    };
    Ok(Policy {
        mode: if u.ratio(1, 6)? {
            SyncMode::DryRun
        } else {
            SyncMode::Enforce
        },
        removal: if u.ratio(1, 6)? {
            RemovalPolicy::Retain
        } else {
            RemovalPolicy::Unassign
        },
        grace_period,
        adopt_existing: u.arbitrary()?,
        max_unassignments: if u.ratio(1, 8)? {
            u.arbitrary()?
        } else {
            u.int_in_range(0..=3)?
        },
        overwrite_foreign_numbers: u.arbitrary()?,
        number_type: "directRouting",
        assignment: AssignmentSpec {
            voice_routing_policy: if u.ratio(1, 3)? {
                None
            } else {
                Some(pick(u, POLICY_NAMES)?)
            },
            override_group_policies: u.arbitrary()?,
            ..AssignmentSpec::default()
        },
        readiness: Readiness {
            max_failed_users: if u.arbitrary()? {
                FailureTolerance::Count(u.int_in_range(0..=3)?)
            } else {
                FailureTolerance::Percent(u.int_in_range(0..=100)?)
            },
            max_activation_time: Duration::from_secs(u.int_in_range(0..=86_400)?),
            max_activation_text: "fuzzed".into(),
        },
    })
}

fn desired(u: &mut Unstructured) -> Result<DesiredState> {
    let users = repeat(u, 6, |u| {
        Ok(DesiredUser {
            dialpad_user_id: if u.ratio(1, 4)? {
                None
            } else {
                Some(pick(u, DIALPAD_IDS)?)
            },
            email: if u.ratio(1, 8)? {
                None
            } else {
                Some(pick(u, EMAILS)?)
            },
            phone_number: if u.ratio(1, 8)? {
                None
            } else {
                Some(raw_number(u)?)
            },
            display_name: if u.arbitrary()? {
                Some(u.arbitrary()?)
            } else {
                None
            },
            office: Default::default(),
        })
    })?;
    Ok(DesiredState {
        users,
        owned_numbers: repeat(u, 6, number)?.into_iter().collect::<BTreeSet<_>>(),
        protected_numbers: repeat(u, 2, number)?.into_iter().collect(),
        number_owners: repeat(u, 3, |u| Ok((number(u)?, pick(u, DIALPAD_IDS)?)))?
            .into_iter()
            .collect(),
        origin: None,
    })
}

/// Teams users, and the Graph users the email index is built from (same positions).
fn teams_users(u: &mut Unstructured) -> Result<(Vec<TeamsUser>, Vec<GraphUser>)> {
    let mut teams = Vec::new();
    let mut graph = Vec::new();
    for _ in 0..u.int_in_range(0..=5)? {
        let id = pick(u, TEAMS_IDS)?;
        let upn = if u.arbitrary()? {
            pick(u, EMAILS)?
        } else {
            format!("{id}@contoso.onmicrosoft.com")
        };
        let mail = if u.arbitrary()? {
            Some(pick(u, EMAILS)?)
        } else {
            None
        };
        let proxies = repeat(u, 2, |u| {
            Ok(format!(
                "{}:{}",
                pick(u, &["SMTP", "smtp", "SIP"])?,
                pick(u, EMAILS)?
            ))
        })?;
        graph.push(GraphUser {
            id: id.clone(),
            user_principal_name: Some(upn.clone()),
            mail: mail.clone(),
            proxy_addresses: proxies,
            ..Default::default()
        });
        teams.push(TeamsUser {
            id,
            user_principal_name: upn,
            mail,
            enabled: !u.ratio(1, 8)?,
            licence: licence(u)?,
        });
    }
    Ok((teams, graph))
}

/// Licences as Graph reports them, classified as the sync classifies them.
fn licence(u: &mut Unstructured) -> Result<LicenceState> {
    let plans = repeat(u, 3, |u| {
        Ok(AssignedPlan {
            service_plan_id: Some(u.choose(PLANS)?.id.to_owned()),
            capability_status: Some(pick(u, CAPABILITY)?),
        })
    })?;
    let licences = repeat(u, 2, |u| {
        let sku_id = match catalog::sku_by_part_number(u.choose(SKUS)?) {
            Some(sku) if !u.ratio(1, 4)? => sku.id.to_owned(),
            _ => "00000000-0000-0000-0000-000000000001".to_owned(),
        };
        let disabled_plans = repeat(u, 1, |u| Ok(u.choose(PLANS)?.id.to_owned()))?;
        Ok(AssignedLicense {
            sku_id: Some(sku_id),
            disabled_plans,
        })
    })?;
    Ok(LicenceState::classify(&plans, &licences))
}

fn held_number(u: &mut Unstructured) -> Result<HeldNumber> {
    Ok(HeldNumber {
        number: number(u)?,
        // "t9" holds numbers but is no user the directory listed.
        holder: pick(u, &["t0", "t1", "t2", "t3", "t9"])?,
        pending: u.ratio(1, 6)?,
    })
}

fn key(u: &mut Unstructured) -> Result<UserKey> {
    Ok(match u.int_in_range(0..=2)? {
        0 => UserKey::Dialpad(pick(u, DIALPAD_IDS)?),
        1 => UserKey::Static(pick(u, EMAILS)?.trim().to_lowercase()),
        _ => UserKey::Departed {
            teams_user_id: pick(u, TEAMS_IDS)?,
            number: number(u)?,
        },
    })
}

fn previous(u: &mut Unstructured) -> Result<PreviousOutcome> {
    Ok(PreviousOutcome {
        reason: *u.choose(&[
            Reason::RemovalPending,
            Reason::BlockedBySafetyLimit,
            Reason::InSync,
        ])?,
        since: timestamp(u)?,
    })
}

fn retry(u: &mut Unstructured) -> Result<RetryState> {
    Ok(RetryState {
        attempts: u.int_in_range(1..=5)?,
        next_attempt: if u.arbitrary()? { Some(timestamp(u)?) } else { None },
        reason: *u.choose(&[Reason::TransientError, Reason::UnknownError])?,
        message: "the last attempt failed".into(),
    })
}
