//! When `Ready` is True (`spec.readiness`), parsed: how many failed users it tolerates and how
//! long Teams may take to activate assignments. The decision itself is made with the other
//! tenant conditions, in `report/tally.rs`.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::model::parse_duration;
use crate::api::ReadinessSpec;

/// How many failed users `Ready` tolerates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureTolerance {
    /// At most this many.
    Count(usize),
    /// At most this percentage of the desired users, rounded down.
    Percent(u8),
}

impl FailureTolerance {
    /// `spec.readiness.maxFailedUsers`: a count of 0 or more, or a percentage from `0%` to
    /// `100%`; `None` for anything else.
    pub fn parse(value: &IntOrString) -> Option<Self> {
        match value {
            IntOrString::Int(count) => usize::try_from(*count).ok().map(Self::Count),
            IntOrString::String(text) => {
                let digits = text.trim().strip_suffix('%')?;
                let percent: u8 = digits.parse().ok().filter(|p| *p <= 100)?;
                Some(Self::Percent(percent))
            }
        }
    }

    /// How many failed users are tolerated among `desired`.
    pub fn allowed(self, desired: usize) -> usize {
        match self {
            Self::Count(count) => count,
            Self::Percent(percent) => desired.saturating_mul(usize::from(percent)) / 100,
        }
    }
}

impl std::fmt::Display for FailureTolerance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Count(count) => write!(f, "{count}"),
            Self::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// `spec.readiness`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Readiness {
    /// How many failed users `Ready` tolerates.
    pub max_failed_users: FailureTolerance,
    /// How long Teams may take to activate assignments.
    pub max_activation_time: Duration,
    /// `max_activation_time` as written, for messages.
    pub max_activation_text: String,
}

impl Readiness {
    /// The readiness of `spec`, or the field that cannot be read, as written.
    pub fn from_spec(spec: &ReadinessSpec) -> Result<Self, ReadinessField> {
        let max_failed_users = FailureTolerance::parse(&spec.max_failed_users).ok_or_else(|| {
            ReadinessField::MaxFailedUsers(match &spec.max_failed_users {
                IntOrString::Int(count) => count.to_string(),
                IntOrString::String(text) => format!("{text:?}"),
            })
        })?;
        let max_activation_time = parse_duration(&spec.max_activation_time)
            .ok_or_else(|| ReadinessField::MaxActivationTime(spec.max_activation_time.clone()))?;
        Ok(Self {
            max_failed_users,
            max_activation_time,
            max_activation_text: spec.max_activation_time.clone(),
        })
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Self::from_spec(&ReadinessSpec::default()).expect("the defaults are valid")
    }
}

/// A `spec.readiness` field that cannot be acted on, with its value as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadinessField {
    /// `maxFailedUsers` is neither a count nor a percentage.
    #[error(
        "spec.readiness.maxFailedUsers is {0}; write a count of 0 or more (10) or a percentage from 0% to 100% (\"5%\")"
    )]
    MaxFailedUsers(String),
    /// `maxActivationTime` is not a Go duration.
    #[error(
        "spec.readiness.maxActivationTime {0:?} is not a duration; write it as a Go duration such as 24h or 90m"
    )]
    MaxActivationTime(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percentage_is_of_the_desired_users_rounded_down() {
        let five = FailureTolerance::parse(&IntOrString::String("5%".into())).unwrap();
        assert_eq!(five.allowed(1000), 50);
        assert_eq!(five.allowed(39), 1);
        assert_eq!(five.allowed(19), 0, "a small tenant tolerates nobody at 5%");
        assert_eq!(five.allowed(0), 0);
        assert_eq!(five.to_string(), "5%");
    }

    #[test]
    fn a_count_is_the_same_at_any_size() {
        let ten = FailureTolerance::parse(&IntOrString::Int(10)).unwrap();
        assert_eq!((ten.allowed(3), ten.allowed(100_000)), (10, 10));
    }

    #[test]
    fn a_tolerance_that_is_neither_count_nor_percentage_names_the_field() {
        for bad in [
            IntOrString::Int(-1),
            IntOrString::String("101%".into()),
            IntOrString::String("5".into()),
            IntOrString::String("five%".into()),
        ] {
            let spec = ReadinessSpec {
                max_failed_users: bad,
                ..ReadinessSpec::default()
            };
            let error = Readiness::from_spec(&spec).unwrap_err();
            assert!(
                error.to_string().starts_with("spec.readiness.maxFailedUsers is "),
                "{error}"
            );
        }
    }

    #[test]
    fn the_defaults_tolerate_five_percent_and_a_day_of_activation() {
        let readiness = Readiness::default();
        assert_eq!(readiness.max_failed_users, FailureTolerance::Percent(5));
        assert_eq!(readiness.max_activation_time, Duration::from_secs(24 * 3600));
    }
}
