//! The Housing Ombudsman's Complaint Handling Code (2024, statutory), provision by provision:
//! what `intake` does for each one it enforces, and the function that does it. Comments across
//! the crate cite provisions by number ("(6.13)"); this table is where a number leads.
//!
//! The Code binds the landlord, not the bot. The bot's part is to make each step happen on time
//! and to leave a record that shows it did; staff make the judgements the Code leaves to people
//! (an exclusion, a remedy, a decision), and the bot refuses what the Code forbids them.
//!
//! # What is a complaint (section 1)
//!
//! | Provision | What the product does | Where |
//! |---|---|---|
//! | 1.2 | Reads every message for dissatisfaction with the landlord, its staff or contractors, "complaint" said or not; rules first, a learned layer beneath them. | [`Policy::assess`], [`core::policy`] |
//! | 1.3 | Whenever a resident is unhappy, offers the choice to complain, and records the offer, the answer and the time; never decides silently. A representative is recorded with the authority they hold. | `core::dialog::phases::offer`, `offered` |
//! | 1.4 | A first request for the landlord to act (a repair) is a service request: recorded, not a complaint. | [`Intent::ServiceRequest`] |
//! | 1.5 | Unhappy with how an open request is handled: the complaint is offered and the request carries on. | `core::dialog::phases::offer` |
//! | 1.6 | Survey answers are not complaints (the lexicon's survey words); the person is told how to complain. | [`core::policy`] (lexicon) |
//!
//! # Exclusions (section 2)
//!
//! | Provision | What the product does | Where |
//! |---|---|---|
//! | 2.2 | A matter already through the whole process is suggested for exclusion, never refused by the bot. | [`core::policy`] (rules) |
//! | 2.3 | The 12-month limit, counted from when the resident became aware: only ever a suggestion for staff. | [`core::policy`] (rules, `out_of_time`) |
//! | 2.4 | An exclusion decision gives the reasons and the right to take it to the Ombudsman; a decision without reasons is refused. | [`core::case::exclusion_message`], [`Intake::decide_exclusion`] |
//! | 2.5 | No blanket exclusions: other routes (ASB, insurers, tribunal) are suggestions a member of staff confirms, one complaint at a time. | [`Route`], [`Intake::decide_exclusion`] |
//!
//! # Access and the record (sections 3 and 5)
//!
//! | Provision | What the product does | Where |
//! |---|---|---|
//! | 3.2 | A private message on any channel is a complaint made the proper way; group chats are asked to move to a private one. | [`crate::channels`] |
//! | 3.x | Reasonable adjustments: another language gets the interpreter offer. | [`core::policy`] (language), [`core::dialog`] |
//! | 5.6 | The complaint definition (what went wrong, what the resident wants) is read back and confirmed before it is logged; staff revisions keep the old wording. | `core::dialog::complaint::confirm`, [`core::case::definition`], [`core::case::redefines`], [`Intake::edit_definition`] |
//! | 5.9 | A response that will be late is told to the resident, and again at the agreed interval. | [`crate::scheduler`] |
//! | 5.10 | Support needs and vulnerabilities are seen only by the roles that need them; alerts outside the console name the kind, not the words. | [`crate::console`] (`restrict`), [`crate::staff`] |
//! | 5.12 | The full record: every message both ways, never edited over, decisions, dates; exported whole by `intake case export`. | [`crate::store`] |
//!
//! # Two stages, on time (section 6)
//!
//! | Provision | What the product does | Where |
//! |---|---|---|
//! | 6.1 | Emergencies, hazards and safeguarding concerns are answered with the emergency numbers first and alerted to a manager; a vulnerable resident or a child in a hazard raises the priority. | [`core::dialog::safety_only`], [`crate::scheduler`] |
//! | 6.2, 6.3 | Stage 1 acknowledged at once with its reference and the working-day date of the response. | [`Deadlines::stage1_acknowledgement_due`], [`Deadlines::stage1_response_due`], `core::dialog::complaint::acknowledge` |
//! | 6.4, 6.5 | A stage 1 extension needs reasons, stays within 10 more working days in total, and gives the Ombudsman's details. | [`core::case::may_extend`], [`core::case::extend`] |
//! | 6.8 | A related issue before the stage 1 response joins the complaint; otherwise it is a new one. | `core::dialog::phases::relating` |
//! | 6.9, 6.19 | A stage response is sent only with every part the Code lists; promised actions are tracked until done. | [`StageResponse::missing`], [`Intake::send_stage_response`], [`crate::scheduler`] (overdue actions) |
//! | 6.11, 6.12 | Stage 2 on request, without reasons, acknowledged at once. | `core::dialog::complaint::escalate`, [`Deadlines::stage2_acknowledgement_due`] |
//! | 6.13 | The stage 2 handler is never the stage 1 handler, whether named by a manager or acting. | [`core::case::not_stage_one_handler`], [`core::case::may_act`], [`core::case::may_name_handler`] |
//! | 6.14 | The stage 2 response is due 20 working days from its acknowledgement. | [`Deadlines::stage2_response_due`] |
//! | 6.15, 6.16 | A stage 2 extension: reasons, at most 20 more working days, the Ombudsman's details. | [`core::case::extend`] |
//!
//! # Reporting and learning (sections 8 and 9, appendix A)
//!
//! | Provision | What the product does | Where |
//! |---|---|---|
//! | 8.1(a), appendix A | The year's self-assessment: every provision, 6.2, 6.3, 6.11 and 6.14 judged from the record with their evidence, the rest answered by managers in versions. | [`core::report::self_assessment`], `console::self_assessment` |
//! | 8.1(c), 9.7(c) | Complaints taken to the Ombudsman: referral, determination, findings, orders and recommendations with due and completion dates, counted per period. | [`core::report::learning_summary`], `console::learning` |
//! | 8.2 | The governing body's response, kept with the self-assessment. | `console::self_assessment` |
//! | 9.1 to 9.3 | What was learned from each complaint and what changed; the register of service improvements with the complaints they came from. | [`service::record_learning`], [`service::save_improvement`], `console::learning`, `console::improvements` |
//!
//! Working days skip weekends, bank holidays in England and Wales and the landlord's closure
//! days ([`Calendar`]); residents see calendar dates.
//!
//! # Consent and privacy (UK GDPR, not the Code)
//!
//! A short privacy notice is agreed before any detail beyond the message is kept (the record
//! notes the wording's version, the time and the channel); requests about the resident's data
//! are recognised in everyday words; records are kept for the configured period after a
//! complaint closes and then erased ([`crate::store`] retention, [`crate::scheduler`]).
//!
//! [`Policy::assess`]: crate::core::policy::Policy::assess
//! [`core::policy`]: crate::core::policy
//! [`core::dialog`]: crate::core::dialog
//! [`core::dialog::safety_only`]: crate::core::dialog::safety_only
//! [`core::case::exclusion_message`]: crate::core::case::exclusion_message
//! [`core::case::extend`]: crate::core::case::extend
//! [`core::case::may_extend`]: crate::core::case::may_extend
//! [`core::case::definition`]: crate::core::case::definition
//! [`core::case::redefines`]: crate::core::case::redefines
//! [`core::case::not_stage_one_handler`]: crate::core::case::not_stage_one_handler
//! [`core::case::may_act`]: crate::core::case::may_act
//! [`core::case::may_name_handler`]: crate::core::case::may_name_handler
//! [`Intake::decide_exclusion`]: crate::service::Intake::decide_exclusion
//! [`Intake::edit_definition`]: crate::service::Intake::edit_definition
//! [`Intake::send_stage_response`]: crate::service::Intake::send_stage_response
//! [`Intent::ServiceRequest`]: crate::core::policy::Intent::ServiceRequest
//! [`Route`]: crate::core::policy::Route
//! [`Deadlines::stage1_acknowledgement_due`]: crate::core::calendar::Deadlines::stage1_acknowledgement_due
//! [`Deadlines::stage1_response_due`]: crate::core::calendar::Deadlines::stage1_response_due
//! [`Deadlines::stage2_acknowledgement_due`]: crate::core::calendar::Deadlines::stage2_acknowledgement_due
//! [`Deadlines::stage2_response_due`]: crate::core::calendar::Deadlines::stage2_response_due
//! [`StageResponse::missing`]: crate::core::case::StageResponse::missing
//! [`Calendar`]: crate::core::calendar::Calendar
//! [`core::report::self_assessment`]: crate::core::report::self_assessment
//! [`core::report::learning_summary`]: crate::core::report::learning_summary
//! [`service::record_learning`]: crate::service::record_learning
//! [`service::save_improvement`]: crate::service::save_improvement
