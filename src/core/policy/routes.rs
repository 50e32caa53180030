//! The routes outside the complaints process a landlord uses, and what residents are told of
//! each. The profile holds them; the engine never suggests a route the landlord does not use.

use serde::{Deserialize, Serialize};

use super::Route;

/// The routes outside the complaints process this landlord uses (configuration, not Code).
/// A disabled route is never suggested: the matter stays with complaints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExclusionRoutes {
    pub asb: RouteSetting,
    pub insurance: RouteSetting,
    pub service_charge: RouteSetting,
    pub other_org: RouteSetting,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteSetting {
    pub enabled: bool,
    /// What the resident is told about where this matter goes instead.
    pub signpost: String,
}

impl Default for ExclusionRoutes {
    fn default() -> Self {
        ExclusionRoutes {
            asb: RouteSetting {
                enabled: true,
                signpost: "Anti-social behaviour and problems with neighbours are dealt with by our anti-social behaviour team. We will pass this to them. If you are unhappy with how we deal with it, you can still make a complaint.".to_owned(),
            },
            insurance: RouteSetting {
                enabled: true,
                signpost: "Claims for an injury or for damage to your belongings go to our insurers, who will contact you. If you are also unhappy with our service, you can still make a complaint.".to_owned(),
            },
            service_charge: RouteSetting {
                enabled: true,
                signpost: "If you think the level of a service charge is not reasonable, the First-tier Tribunal (Property Chamber) can decide. If a service you pay for was not delivered, you can make a complaint.".to_owned(),
            },
            other_org: RouteSetting {
                enabled: true,
                signpost: "This looks like something another organisation deals with. We can tell you who to contact.".to_owned(),
            },
        }
    }
}

impl ExclusionRoutes {
    /// Whether the landlord uses this route. The Code's own grounds (legal proceedings, out of
    /// time, already decided: 2.2, 2.3) are always available to suggest.
    pub fn enabled(&self, route: Route) -> bool {
        match route {
            Route::Asb => self.asb.enabled,
            Route::Insurance => self.insurance.enabled,
            Route::ServiceCharge => self.service_charge.enabled,
            Route::OtherOrg => self.other_org.enabled,
            Route::Complaints | Route::Legal | Route::OutOfTime | Route::AlreadyDecided => true,
        }
    }

    pub fn setting(&self, route: Route) -> Option<&RouteSetting> {
        match route {
            Route::Asb => Some(&self.asb),
            Route::Insurance => Some(&self.insurance),
            Route::ServiceCharge => Some(&self.service_charge),
            Route::OtherOrg => Some(&self.other_org),
            _ => None,
        }
    }
}
