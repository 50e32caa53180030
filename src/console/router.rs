//! The console's routes: every page, form and stream under `/console`.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use super::{
    Console, accounts, assign, auth, cases, conversation, files, improvements, inbox, learning,
    reports, requests, residents, search, self_assessment, standard_editing, summary,
};

impl Console {
    pub fn router(self) -> Router {
        Router::new()
            .route("/console", get(inbox::inbox))
            .route("/console/login", get(auth::login_page).post(auth::log_in))
            .route("/console/login/code", post(auth::log_in_with_code))
            .route("/console/logout", post(auth::log_out))
            .route(
                "/console/accounts",
                get(accounts::accounts).post(accounts::add),
            )
            .route("/console/accounts/{id}/role", post(accounts::change_role))
            .route("/console/accounts/{id}/disable", post(accounts::disable))
            .route("/console/accounts/{id}/enable", post(accounts::enable))
            .route(
                "/console/accounts/{id}/password",
                post(accounts::reset_password),
            )
            .route(
                "/console/accounts/{id}/two-step/off",
                post(accounts::turn_off_two_step_for),
            )
            .route(
                "/console/standard-messages",
                get(standard_editing::list).post(standard_editing::add),
            )
            .route(
                "/console/standard-messages/{id}",
                get(standard_editing::message).post(standard_editing::edit),
            )
            .route(
                "/console/standard-messages/{id}/retire",
                post(standard_editing::retire),
            )
            .route(
                "/console/standard-messages/{id}/restore",
                post(standard_editing::restore),
            )
            .route("/console/reports/summary", get(summary::summary_page))
            .route("/console/reports/summary/send", post(summary::send_summary))
            .route("/console/account", get(accounts::own_account))
            .route("/console/account/two-step", post(accounts::start_two_step))
            .route(
                "/console/account/two-step/confirm",
                post(accounts::confirm_two_step),
            )
            .route(
                "/console/account/two-step/off",
                post(accounts::turn_off_own_two_step),
            )
            .route("/console/events", get(inbox::inbox_events))
            .route("/console/search", get(search::search))
            .route("/console/cases/{reference}", get(search::case_page))
            .route("/console/conversations/{id}/assign", post(assign::assign))
            .route("/console/residents", get(residents::find))
            .route("/console/residents/{id}", get(residents::resident_page))
            .route(
                "/console/conversations/{id}/resident",
                post(residents::link),
            )
            .route(
                "/console/conversations/{id}/resident/new",
                post(residents::create),
            )
            .route(
                "/console/conversations/{id}/resident/unlink",
                post(residents::unlink),
            )
            .route(
                "/console/conversations/{id}",
                get(conversation::conversation),
            )
            .route(
                "/console/conversations/{id}/events",
                get(conversation::conversation_events),
            )
            .route(
                "/console/conversations/{id}/claim",
                post(conversation::claim),
            )
            .route(
                "/console/conversations/{id}/reply",
                post(conversation::reply),
            )
            .route(
                "/console/conversations/{id}/release",
                post(conversation::release),
            )
            .route(
                "/console/conversations/{id}/notes",
                post(conversation::add_note),
            )
            .route(
                "/console/conversations/{id}/messages/{message}/correction",
                post(conversation::correct_assessment),
            )
            .route("/console/conversations/{id}/requests", post(requests::log))
            .route(
                "/console/conversations/{id}/requests/{request}/answer",
                post(requests::answer),
            )
            .route(
                "/console/conversations/{id}/requests/{request}/extend",
                post(requests::extend),
            )
            .route("/console/requests", get(requests::open_requests))
            .route("/console/alerts/{id}/acknowledge", post(inbox::acknowledge))
            .route(
                "/console/conversations/{id}/alerts/acknowledge",
                post(inbox::acknowledge_group),
            )
            .route("/console/cases/{reference}/respond", post(cases::respond))
            .route("/console/cases/{reference}/extend", post(cases::extend))
            .route(
                "/console/cases/{reference}/category",
                post(cases::confirm_category),
            )
            .route(
                "/console/cases/{reference}/exclusion",
                post(cases::exclusion),
            )
            .route("/console/cases/{reference}/close", post(cases::close))
            .route(
                "/console/cases/{reference}/definition",
                post(cases::edit_definition),
            )
            .route(
                "/console/cases/{reference}/handler",
                post(cases::assign_handler),
            )
            .route(
                "/console/cases/{reference}/actions",
                post(cases::add_case_action),
            )
            .route("/console/actions/{id}/done", post(cases::mark_action_done))
            .route(
                "/console/cases/{reference}/learning",
                post(learning::record_learning),
            )
            .route(
                "/console/cases/{reference}/ombudsman",
                post(learning::record_ombudsman_case),
            )
            .route(
                "/console/cases/{reference}/ombudsman/orders",
                post(learning::add_ombudsman_order),
            )
            .route(
                "/console/ombudsman-orders/{id}/complete",
                post(learning::complete_ombudsman_order),
            )
            .route(
                "/console/improvements",
                get(improvements::list).post(improvements::add),
            )
            .route("/console/improvements/{id}", post(improvements::edit))
            .route(
                "/console/self-assessment",
                get(self_assessment::page).post(self_assessment::save),
            )
            .route("/console/reports", get(reports::reports))
            .route("/console/reports/complaints", get(reports::complaints))
            .route("/console/reports/csv", get(reports::csv))
            .route("/console/reports/document", get(reports::whole))
            .route("/console/static/{file}", get(files::static_file))
            .route("/console/files/{token}", get(files::resident_file))
            .layer(DefaultBodyLimit::max(64 * 1024))
            .with_state(self)
    }
}
