//! Reports from the record: the facts are read by the store, the figures computed by the
//! pure model in `core::report`.

use super::Intake;
use crate::core::profile::LandlordProfile;
use crate::core::report::{
    Performance, PerformanceInput, Period, PeriodError, TsmInput, TsmReport, performance,
    tenant_satisfaction_measures,
};
use crate::store::{Store, StoreError};

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// CH01 and CH02 for the financial year starting 1 April `year`, from the record, with the
/// landlord's homes, its choices for the measures and its calendar (Europe/London days,
/// bank holidays and closures for the Code's working days).
pub async fn tsm(
    store: &Store,
    profile: &LandlordProfile,
    year: i32,
) -> Result<TsmReport, ReportError> {
    let period = Period::financial_year(year)?;
    let calendar = profile.calendar();
    let complaints = store.complaint_facts(&period, &calendar).await?;
    Ok(tenant_satisfaction_measures(&TsmInput {
        period: &period,
        homes: profile.homes(),
        settings: profile.tsm,
        calendar: &calendar,
        complaints: &complaints,
    }))
}

/// Complaint handling performance for `period` (a month or a financial year), from the
/// record: volumes, timeliness against the Code, extensions, escalations, exclusions,
/// outcomes, compensation, categories and the residents' satisfaction (Code 8.1, 9.7).
pub async fn handling(
    store: &Store,
    profile: &LandlordProfile,
    period: &Period,
) -> Result<Performance, ReportError> {
    let calendar = profile.calendar();
    let complaints = store.complaint_facts(period, &calendar).await?;
    Ok(performance(&PerformanceInput {
        period,
        calendar: &calendar,
        categories: &profile.categories,
        complaints: &complaints,
    }))
}

/// The financial year starting 1 April `year`: the handling figures and CH01 and CH02,
/// computed from one reading of the record (a year of complaints is read once, not twice).
pub async fn annual(
    store: &Store,
    profile: &LandlordProfile,
    year: i32,
) -> Result<(Performance, TsmReport), ReportError> {
    let period = Period::financial_year(year)?;
    let calendar = profile.calendar();
    let complaints = store.complaint_facts(&period, &calendar).await?;
    let handling = performance(&PerformanceInput {
        period: &period,
        calendar: &calendar,
        categories: &profile.categories,
        complaints: &complaints,
    });
    let tsm = tenant_satisfaction_measures(&TsmInput {
        period: &period,
        homes: profile.homes(),
        settings: profile.tsm,
        calendar: &calendar,
        complaints: &complaints,
    });
    Ok((handling, tsm))
}

impl Intake {
    /// CH01 and CH02 for the financial year starting 1 April `year`.
    pub async fn tsm(&self, year: i32) -> Result<TsmReport, ReportError> {
        tsm(&self.store, &self.profile, year).await
    }
}
