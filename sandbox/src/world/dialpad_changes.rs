//! Changes to the Dialpad company made as an admin would make them in Dialpad's admin settings
//! (`POST /_sandbox/dialpad/changes`): a user added, a user's primary number replaced, a user
//! removed, a user moved to another office. Each returns what changed, for the change-log entry.
//!
//! Choices (UNCONFIRMED upstream):
//! - A new user is `active` at once (no pending invitation) and takes the first `available`
//!   number of the inventory when none is named; a named number must be `available` or unknown
//!   to the company (then it is added in E.164 form, as a newly bought number would be).
//!   Numbers compare by their digits.
//! - A removed user becomes `deleted` and its numbers return to the inventory as `available` at
//!   once. Dialpad holds a deleted user's number for 72 hours (help.dialpad.com, "Add & Remove
//!   Team Members"); releasing it at once lets a test reuse it.
//! - Users are found by any of their emails, ignoring case; deleted users are not found.

use jiff::Timestamp;
use serde::Deserialize;

use super::build::digits;
use super::{DialpadNumber, DialpadUser, World};

/// One admin change to the Dialpad company; as JSON, `{"change": "addUser", "email": ...}`
/// with camelCase fields.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(
    tag = "change",
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    deny_unknown_fields
)]
pub enum DialpadChange {
    /// A new active user.
    AddUser {
        /// Its email.
        email: String,
        /// First name.
        first_name: Option<String>,
        /// Last name.
        last_name: Option<String>,
        /// Its number; the first available one when absent.
        number: Option<String>,
        /// Its office, by name or id; the main office when absent.
        office: Option<String>,
    },
    /// The user's primary number replaced.
    ChangeNumber {
        /// The user's email.
        email: String,
        /// The new number; the first available one when absent.
        number: Option<String>,
    },
    /// The user deleted and its numbers released.
    RemoveUser {
        /// The user's email.
        email: String,
    },
    /// The user moved to another office.
    MoveOffice {
        /// The user's email.
        email: String,
        /// The office, by name or id.
        office: String,
    },
}

/// What a change did, for its answer and its change-log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DialpadChangeOutcome {
    /// The user changed.
    pub user_id: String,
    /// The user's primary number afterwards (none once removed).
    pub number: Option<String>,
    /// The value before the change (old number or office id), if the change replaced one.
    pub from: Option<String>,
    /// The value after it.
    pub to: Option<String>,
}

/// Why a change cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DialpadChangeError {
    /// No (undeleted) user has that email.
    #[error("no Dialpad user has the email {0}")]
    NoSuchUser(String),
    /// The office names nothing.
    #[error("no Dialpad office is named or numbered {0}")]
    NoSuchOffice(String),
    /// An undeleted user already has the email.
    #[error("a Dialpad user with the email {0} already exists")]
    EmailTaken(String),
    /// The number belongs to someone or something else.
    #[error("the number {0} is not available: it belongs to a user, an office or a department")]
    NumberTaken(String),
    /// The number has no digits.
    #[error("{0:?} is not a phone number")]
    NotANumber(String),
    /// No number was named and the inventory has none available.
    #[error("the company has no available number; name one with \"number\"")]
    NoFreeNumber,
}

impl DialpadChangeError {
    /// Whether the change names something that does not exist (404) rather than something the
    /// company's state refuses (400).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NoSuchUser(_) | Self::NoSuchOffice(_))
    }
}

impl World {
    /// Applies `change` to the Dialpad company.
    pub fn apply_dialpad_change(
        &mut self,
        change: &DialpadChange,
    ) -> Result<DialpadChangeOutcome, DialpadChangeError> {
        match change {
            DialpadChange::AddUser {
                email,
                first_name,
                last_name,
                number,
                office,
            } => {
                if self.dialpad_user_index(email).is_some() {
                    return Err(DialpadChangeError::EmailTaken(email.clone()));
                }
                let office_id = match office {
                    Some(office) => self.dialpad_office_id(office)?,
                    None => self.dialpad.office_id.clone(),
                };
                let number = self.take_number(number.as_deref())?;
                let mut id = digits(&mut self.rng, 16);
                while self.dialpad.users.iter().any(|u| u.id == id) {
                    id = digits(&mut self.rng, 16);
                }
                let user = DialpadUser {
                    id: id.clone(),
                    emails: vec![email.clone()],
                    phone_numbers: vec![number.clone()],
                    state: "active".into(),
                    office_id,
                    first_name: first_name.clone(),
                    last_name: last_name.clone(),
                    date_added: Timestamp::now(),
                };
                let at = self.dialpad.users.partition_point(|u| u.id < id);
                self.dialpad.users.insert(at, user);
                Ok(DialpadChangeOutcome {
                    user_id: id,
                    number: Some(number.clone()),
                    from: None,
                    to: Some(number),
                })
            }
            DialpadChange::ChangeNumber { email, number } => {
                let index = self.existing_user(email)?;
                let number = self.take_number(number.as_deref())?;
                let user = &mut self.dialpad.users[index];
                let old = if user.phone_numbers.is_empty() {
                    user.phone_numbers.push(number.clone());
                    None
                } else {
                    Some(std::mem::replace(&mut user.phone_numbers[0], number.clone()))
                };
                let (user_id, office_id) = (user.id.clone(), user.office_id.clone());
                if let Some(old) = &old {
                    self.release(old, &office_id);
                }
                Ok(DialpadChangeOutcome {
                    user_id,
                    number: Some(number.clone()),
                    from: old,
                    to: Some(number),
                })
            }
            DialpadChange::RemoveUser { email } => {
                let index = self.existing_user(email)?;
                let user = &mut self.dialpad.users[index];
                user.state = "deleted".into();
                let numbers = std::mem::take(&mut user.phone_numbers);
                let (user_id, office_id) = (user.id.clone(), user.office_id.clone());
                for number in &numbers {
                    self.release(number, &office_id);
                }
                Ok(DialpadChangeOutcome {
                    user_id,
                    number: None,
                    from: numbers.into_iter().next(),
                    to: None,
                })
            }
            DialpadChange::MoveOffice { email, office } => {
                let index = self.existing_user(email)?;
                let office_id = self.dialpad_office_id(office)?;
                let user = &mut self.dialpad.users[index];
                let old = std::mem::replace(&mut user.office_id, office_id.clone());
                Ok(DialpadChangeOutcome {
                    user_id: user.id.clone(),
                    number: user.phone_numbers.first().cloned(),
                    from: Some(old),
                    to: Some(office_id),
                })
            }
        }
    }

    /// The index of the undeleted Dialpad user with `email` (ignoring case).
    fn dialpad_user_index(&self, email: &str) -> Option<usize> {
        let email = email.trim();
        self.dialpad
            .users
            .iter()
            .position(|u| u.state != "deleted" && u.emails.iter().any(|e| e.eq_ignore_ascii_case(email)))
    }

    fn existing_user(&self, email: &str) -> Result<usize, DialpadChangeError> {
        self.dialpad_user_index(email)
            .ok_or_else(|| DialpadChangeError::NoSuchUser(email.to_owned()))
    }

    /// The id of the office named or numbered `office`: the main office (its id or the
    /// company's name) or one of the others.
    fn dialpad_office_id(&self, office: &str) -> Result<String, DialpadChangeError> {
        let company = &self.dialpad;
        let office = office.trim();
        if office == company.office_id || office.eq_ignore_ascii_case(&company.company_name) {
            return Ok(company.office_id.clone());
        }
        company
            .offices
            .iter()
            .find(|o| o.id == office || o.name.eq_ignore_ascii_case(office))
            .map(|o| o.id.clone())
            .ok_or_else(|| DialpadChangeError::NoSuchOffice(office.to_owned()))
    }

    /// Takes `number` (or the first available number) out of the inventory's free numbers.
    fn take_number(&mut self, number: Option<&str>) -> Result<String, DialpadChangeError> {
        let company = &mut self.dialpad;
        let Some(number) = number else {
            let free = company
                .other_numbers
                .iter()
                .enumerate()
                .filter(|(_, n)| n.status == "available")
                .min_by(|a, b| a.1.number.cmp(&b.1.number))
                .map(|(i, _)| i)
                .ok_or(DialpadChangeError::NoFreeNumber)?;
            return Ok(company.other_numbers.remove(free).number);
        };
        let wanted = digits_of(number);
        if wanted.is_empty() {
            return Err(DialpadChangeError::NotANumber(number.to_owned()));
        }
        if let Some(i) = company
            .other_numbers
            .iter()
            .position(|n| digits_of(&n.number) == wanted)
        {
            if company.other_numbers[i].status != "available" {
                return Err(DialpadChangeError::NumberTaken(number.to_owned()));
            }
            return Ok(company.other_numbers.remove(i).number);
        }
        let held = company
            .users
            .iter()
            .any(|u| u.phone_numbers.iter().any(|p| digits_of(p) == wanted));
        if held {
            return Err(DialpadChangeError::NumberTaken(number.to_owned()));
        }
        Ok(format!("+{wanted}"))
    }

    /// Returns `number` to the inventory as available.
    fn release(&mut self, number: &str, office_id: &str) {
        self.dialpad.other_numbers.push(DialpadNumber {
            number: number.to_owned(),
            status: "available".into(),
            target_id: None,
            target_type: None,
            office_id: office_id.to_owned(),
        });
    }
}

/// The digits of a number, so that `+1 415-555-0100` and `+14155550100` compare equal.
fn digits_of(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
#[path = "dialpad_changes_tests.rs"]
mod tests;
