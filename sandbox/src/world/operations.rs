//! Long-running number operations and the assignment rules real tenants enforce.

use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::licensing::Plan;

use super::*;

/// Failure reasons of an assignment, as Teams words them (the PowerShell messages of
/// `docs/microsoft-graph-teams.md` section 5.8; Graph's exact `statusDetail` text is UNCONFIRMED).
pub mod detail {
    /// The user lacks Phone System.
    pub fn lacks_license(user_id: &str, number_type: &str) -> String {
        let kind = match number_type {
            "callingPlan" => "CallingPlan",
            "operatorConnect" => "OperatorConnect",
            _ => "DirectRouting",
        };
        format!("User '{user_id}' lacks appropriate licenses to assign a '{kind}' number.")
    }
    /// The number belongs to someone else.
    pub fn already_assigned(number: &str) -> String {
        format!("Telephone Number '{number}' has already been assigned to another user")
    }
    /// The user does not exist.
    pub fn user_not_found(user_id: &str) -> String {
        format!(
            "The server responded with a Request Error, Status: NotFound. Management object not found for identity '{user_id}'."
        )
    }
    /// The account is disabled.
    pub fn user_disabled(user_id: &str) -> String {
        format!("User '{user_id}' is disabled and cannot be assigned a telephone number.")
    }
    /// Nothing to unassign.
    pub fn not_assigned(number: &str) -> String {
        format!("Telephone Number '{number}' is not assigned to any user.")
    }
    /// `locationId` names no emergency location of the tenant. Microsoft documents `locationId`
    /// as the emergency location's id ("assignNumber",
    /// https://learn.microsoft.com/graph/api/teamsadministration-numberassignment-assignnumber)
    /// but not what an unknown one yields: the operation failing with this detail is UNCONFIRMED.
    pub fn location_not_found(location_id: &str) -> String {
        format!("Emergency location '{location_id}' was not found in the tenant.")
    }
}

/// How far in the future a never-completing operation is due: never, for any test or demo.
const NEVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

impl World {
    /// Starts `assignNumber`; returns the operation id. Business rules are applied when the
    /// operation completes, as a real tenant does asynchronously.
    pub fn start_operation(&mut self, kind: OperationKind, now: Instant) -> String {
        self.complete_due_operations(now);
        let id = self.new_guid();
        // Operations are never forgotten, so their count is the number started so far.
        let never_completes = self.operations.len() < self.behaviour.never_completing_operations as usize;
        let delay = if never_completes {
            NEVER
        } else {
            Duration::from_millis(self.behaviour.operation_delay_ms)
        };
        self.operations.insert(
            id.clone(),
            Operation {
                id: id.clone(),
                created: Timestamp::now(),
                kind,
                completes_at: now + delay,
                outcome: None,
            },
        );
        // Operations complete in order: one that never does stays out of the queue, so it
        // does not hold the others back.
        if !never_completes {
            self.running.push_back(id.clone());
        }
        id
    }

    /// Whether the number action that started the `started`-th operation (counting from one) is
    /// answered without a `Location` (see `BehaviourFixture::operations_answered_without_location`).
    pub fn answers_without_location(&self, started: usize) -> bool {
        started <= self.behaviour.operations_answered_without_location as usize
    }

    /// How many number operations were started so far.
    pub fn operations_started(&self) -> usize {
        self.operations.len()
    }

    /// Completes every operation due by `now`, in creation order.
    pub fn complete_due_operations(&mut self, now: Instant) {
        while let Some(id) = self.running.front().cloned() {
            let due = self.operations.get(&id).is_some_and(|op| op.completes_at <= now);
            if !due {
                break;
            }
            self.running.pop_front();
            let kind = self.operations[&id].kind.clone();
            let outcome = self.apply(&kind, now);
            if let Some(op) = self.operations.get_mut(&id) {
                op.outcome = Some(outcome);
            }
        }
    }

    fn apply(&mut self, kind: &OperationKind, now: Instant) -> Result<String, String> {
        match kind {
            OperationKind::Assign {
                telephone_number,
                target_id,
                number_type,
                category,
                location_id,
            } => {
                let user = self
                    .user(target_id)
                    .ok_or_else(|| detail::user_not_found(target_id))?;
                if !user.account_enabled {
                    return Err(detail::user_disabled(target_id));
                }
                if !user.has_enabled_plan(Plan::is_phone_system) {
                    return Err(detail::lacks_license(target_id, number_type));
                }
                if let Some(error) = &user.assignment_error {
                    return Err(error.clone());
                }
                if let Some(location) = location_id
                    && !self.teams.has_emergency_location(location)
                {
                    return Err(detail::location_not_found(location));
                }
                if let Some(existing) = self.numbers.get(telephone_number) {
                    match existing.assignment_target_id.as_deref() {
                        Some(holder) if holder == target_id => return Ok(existing.id.clone()),
                        Some(_) => return Err(detail::already_assigned(telephone_number)),
                        None => {}
                    }
                }
                // A new primary number replaces the user's previous primary number, as
                // Set-CsPhoneNumberAssignment does (Graph behaviour UNCONFIRMED).
                if category == "primary" {
                    for number in self.primaries.remove(target_id).unwrap_or_default() {
                        if let Some(record) = self.numbers.get_mut(&number)
                            && record.assignment_target_id.as_deref() == Some(target_id.as_str())
                            && record.assignment_category == "primary"
                        {
                            record.assignment_target_id = None;
                            record.activates_at = None;
                        }
                    }
                    self.primaries
                        .entry(target_id.clone())
                        .or_default()
                        .push(telephone_number.clone());
                }
                let activates_at = Some(now + Duration::from_millis(self.behaviour.activation_delay_ms));
                let id = match self.numbers.get(telephone_number) {
                    Some(record) => record.id.clone(),
                    None => self.new_guid(),
                };
                self.numbers.insert(
                    telephone_number.clone(),
                    NumberRecord {
                        id: id.clone(),
                        telephone_number: telephone_number.clone(),
                        number_type: number_type.clone(),
                        assignment_target_id: Some(target_id.clone()),
                        assignment_category: category.clone(),
                        location_id: location_id.clone(),
                        activates_at,
                    },
                );
                Ok(id)
            }
            OperationKind::Unassign { telephone_number } => {
                let record = self
                    .numbers
                    .get_mut(telephone_number)
                    .filter(|r| r.assignment_target_id.is_some())
                    .ok_or_else(|| detail::not_assigned(telephone_number))?;
                let holder = record.assignment_target_id.take();
                record.activates_at = None;
                record.location_id = None;
                let id = record.id.clone();
                if let Some(numbers) = holder.and_then(|h| self.primaries.get_mut(&h)) {
                    numbers.retain(|n| n != telephone_number);
                }
                Ok(id)
            }
        }
    }
}
