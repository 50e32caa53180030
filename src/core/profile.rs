//! The landlord profile: who the landlord is, how to reach it and the Housing Ombudsman, its
//! timescales, the exclusion routes it uses, its closure days and its size.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::calendar::{Calendar, TimescaleError, Timescales};
use super::category::{Categories, CategoryError};
use super::report::{Homes, TsmSettings};
// The routes a landlord uses are the policy engine's setting; the profile holds them.
pub use super::policy::{ExclusionRoutes, RouteSetting};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LandlordProfile {
    pub name: String,
    pub contact: Contact,
    /// The landlord's out-of-hours emergency repairs line, given with the emergency numbers.
    pub out_of_hours_repairs_phone: String,
    /// The Housing Ombudsman, whom residents can ask for advice at any time (section 3: see [`crate::code`]).
    pub ombudsman: Contact,
    pub timescales: Timescales,
    pub routes: ExclusionRoutes,
    /// Days the landlord's offices are closed (not working days for deadlines).
    pub closure_days: Vec<NaiveDate>,
    /// Bank holidays proclaimed after this release (a one-off like the 2023 Coronation).
    pub extra_bank_holidays: Vec<NaiveDate>,
    /// Number of homes the landlord owns, for the Tenant Satisfaction Measure CH01: its
    /// low-cost rental and low-cost home ownership homes together.
    pub homes: u32,
    /// Of `homes`, those let at low-cost rent (LCRA), for CH01 by tenure. Unset by default:
    /// CH01 is then given for all homes only.
    pub homes_low_cost_rental: Option<u32>,
    /// Of `homes`, those in low-cost home ownership (LCHO, shared ownership), for CH01 by
    /// tenure. Unset by default.
    pub homes_low_cost_home_ownership: Option<u32>,
    /// The choices the regulator leaves to the landlord in CH01 and CH02.
    pub tsm: TsmSettings,
    /// IANA time zone in which working days are counted.
    pub time_zone: String,
    /// The complaint categories staff choose from and the reports count by (Code 9.7).
    pub categories: Categories,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Contact {
    pub phone: String,
    pub email: String,
    pub website: String,
    pub address: String,
}

impl Default for LandlordProfile {
    /// An example landlord, so the bot runs with no configuration. `check-config` warns while
    /// the name is still the example's.
    fn default() -> Self {
        LandlordProfile {
            name: EXAMPLE_NAME.to_owned(),
            contact: Contact {
                phone: "0300 123 4567".to_owned(),
                email: "complaints@example-homes.org.uk".to_owned(),
                website: "https://www.example-homes.org.uk/complaints".to_owned(),
                address: "Complaints Team, Example Homes, 1 High Street, Anytown AN1 1AA"
                    .to_owned(),
            },
            out_of_hours_repairs_phone: "0300 123 4568".to_owned(),
            // The Housing Ombudsman's details as the seed policies give them.
            ombudsman: Contact {
                phone: "0300 111 3000".to_owned(),
                email: "info@housing-ombudsman.org.uk".to_owned(),
                website: "https://www.housing-ombudsman.org.uk/residents/make-a-complaint/"
                    .to_owned(),
                address: "Housing Ombudsman Service, PO Box 152, Liverpool L33 7WQ".to_owned(),
            },
            timescales: Timescales::default(),
            routes: ExclusionRoutes::default(),
            closure_days: Vec::new(),
            extra_bank_holidays: Vec::new(),
            homes: 0,
            homes_low_cost_rental: None,
            homes_low_cost_home_ownership: None,
            tsm: TsmSettings::default(),
            time_zone: "Europe/London".to_owned(),
            categories: Categories::default(),
        }
    }
}

pub const EXAMPLE_NAME: &str = "Example Homes";

/// A profile that cannot be used, with the key at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Timescale(#[from] TimescaleError),
    #[error("landlord.time_zone {0:?} is not a known IANA time zone (for example Europe/London)")]
    TimeZone(String),
    #[error("landlord.{0} must not be empty")]
    Empty(&'static str),
    #[error("landlord.routes.{0}.signpost must not be empty while the route is enabled")]
    Signpost(&'static str),
    #[error(
        "landlord.homes is {total}, but the homes by tenure (homes_low_cost_rental and homes_low_cost_home_ownership) add up to {by_tenure}; homes is the total of the two"
    )]
    HomesByTenure { total: u32, by_tenure: u64 },
    #[error(transparent)]
    Category(#[from] CategoryError),
}

impl LandlordProfile {
    /// Every problem with the profile, so the operator can fix them all in one go.
    pub fn check(&self) -> Result<(), Vec<ProfileError>> {
        let mut errors: Vec<ProfileError> = Vec::new();
        if let Err(ts) = self.timescales.check() {
            errors.extend(ts.into_iter().map(ProfileError::from));
        }
        if self.time_zone.parse::<Tz>().is_err() {
            errors.push(ProfileError::TimeZone(self.time_zone.clone()));
        }
        for (key, value) in [
            ("name", &self.name),
            ("ombudsman.phone", &self.ombudsman.phone),
            ("ombudsman.address", &self.ombudsman.address),
            ("ombudsman.website", &self.ombudsman.website),
            (
                "out_of_hours_repairs_phone",
                &self.out_of_hours_repairs_phone,
            ),
        ] {
            if value.trim().is_empty() {
                errors.push(ProfileError::Empty(key));
            }
        }
        for (key, setting) in [
            ("asb", &self.routes.asb),
            ("insurance", &self.routes.insurance),
            ("service_charge", &self.routes.service_charge),
            ("other_org", &self.routes.other_org),
        ] {
            if setting.enabled && setting.signpost.trim().is_empty() {
                errors.push(ProfileError::Signpost(key));
            }
        }
        if let Some(e) = self.homes_by_tenure_error() {
            errors.push(e);
        }
        errors.extend(self.categories.check().into_iter().map(ProfileError::from));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// The tenures are parts of `homes`: both given, they add up to it; one given, it is
    /// no more than it.
    fn homes_by_tenure_error(&self) -> Option<ProfileError> {
        let (rental, ownership) = (
            self.homes_low_cost_rental,
            self.homes_low_cost_home_ownership,
        );
        let by_tenure = u64::from(rental.unwrap_or(0)) + u64::from(ownership.unwrap_or(0));
        let total = u64::from(self.homes);
        let wrong = match (rental, ownership) {
            (Some(_), Some(_)) => by_tenure != total,
            (Some(_), None) | (None, Some(_)) => by_tenure > total,
            (None, None) => false,
        };
        wrong.then_some(ProfileError::HomesByTenure {
            total: self.homes,
            by_tenure,
        })
    }

    /// The homes CH01 counts complaints against.
    pub fn homes(&self) -> Homes {
        Homes {
            total: self.homes,
            low_cost_rental: self.homes_low_cost_rental,
            low_cost_home_ownership: self.homes_low_cost_home_ownership,
        }
    }

    /// Things that are allowed but probably not meant.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name == EXAMPLE_NAME {
            out.push(format!(
                "landlord.name is still the example ({EXAMPLE_NAME:?}); set your own name and contact details"
            ));
        }
        if self.homes == 0 {
            out.push(
                "landlord.homes is 0: the CH01 measure (complaints per 1,000 homes) cannot be computed"
                    .to_owned(),
            );
        }
        out
    }

    /// The working calendar for this landlord. Call after `check`.
    pub fn calendar(&self) -> Calendar {
        Calendar::new(
            self.time_zone(),
            &self.extra_bank_holidays,
            &self.closure_days,
        )
    }

    /// The landlord's time zone (`check` refuses an unknown one; Europe/London otherwise).
    pub fn time_zone(&self) -> Tz {
        self.time_zone
            .parse::<Tz>()
            .unwrap_or(chrono_tz::Europe::London)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_profile_is_valid_and_uses_the_code_maximums() {
        let p = LandlordProfile::default();
        assert!(p.check().is_ok());
        assert_eq!(p.timescales, Timescales::default());
        assert_eq!(p.ombudsman.phone, "0300 111 3000");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut p = LandlordProfile::default();
        p.timescales.stage2_response = 25;
        p.time_zone = "Mars/Olympus".to_owned();
        p.routes.asb.signpost.clear();
        let errors = p.check().expect_err("invalid");
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 3, "{text:?}");
        assert!(text[0].contains("timescales.stage2_response") && text[0].contains("6.14"));
        assert!(text[1].contains("Mars/Olympus"));
        assert!(text[2].contains("routes.asb.signpost"));
    }

    #[test]
    fn homes_by_tenure_must_be_parts_of_the_total() {
        let mut p = LandlordProfile {
            homes: 1000,
            homes_low_cost_rental: Some(900),
            homes_low_cost_home_ownership: Some(100),
            ..LandlordProfile::default()
        };
        assert!(p.check().is_ok());
        assert_eq!(
            p.homes().of(super::super::report::Tenure::LowCostRental),
            Some(900)
        );

        p.homes_low_cost_home_ownership = Some(150);
        let errors = p.check().expect_err("1,050 by tenure is not 1,000");
        assert_eq!(
            errors,
            vec![ProfileError::HomesByTenure {
                total: 1000,
                by_tenure: 1050
            }]
        );
        assert!(errors[0].to_string().contains("landlord.homes is 1000"));

        // One tenure alone may be part of the total; it may not exceed it.
        p.homes_low_cost_home_ownership = None;
        assert!(p.check().is_ok());
        p.homes_low_cost_rental = Some(1001);
        assert!(p.check().is_err());
    }

    #[test]
    fn the_tsm_choices_are_read_from_the_profile() {
        let p: LandlordProfile = toml::from_str(
            "homes = 10\nhomes_low_cost_rental = 10\n[tsm]\nwithdrawn = \"not_counted\"\n",
        )
        .expect("valid profile");
        assert_eq!(
            p.tsm.withdrawn,
            super::super::report::WithdrawnComplaints::NotCounted
        );
        assert_eq!(p.homes_low_cost_rental, Some(10));
        assert_eq!(p.homes_low_cost_home_ownership, None);
        let unknown: Result<LandlordProfile, _> =
            toml::from_str("[tsm]\nwithdrawn = \"sometimes\"\n");
        assert!(unknown.is_err());
    }
}
