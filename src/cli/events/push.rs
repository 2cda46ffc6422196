//! `factory events push`: send the events after a target's cursor to a broker.

use std::time::Duration;

use super::PushArgs;
use crate::broker::retry::Policy;
use crate::broker::{Target, push};
use crate::cli::{App, out};
use crate::error::Result;
use crate::store::Store;

/// Runs `events push`.
pub(super) fn run(app: &App, args: PushArgs) -> Result<()> {
    let session = app.session()?;
    let store = &session.store;
    let result = if args.status {
        status(app, store)
    } else {
        let target = Target::parse(args.to.as_deref().expect("clap requires --to or --status"))?;
        if args.dry_run {
            dry_run(app, store, &target)
        } else {
            send(app, store, &target, &args)
        }
    };
    // The status skips a damaged line with a warning (it only reads); say so.
    app.warnings(&session);
    result
}

/// One target's cursor as `events push --status --json` prints it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetStatus {
    id: String,
    target: String,
    pushed: u64,
    pending: u64,
    last_event_id: Option<String>,
    updated_at: Option<String>,
}

/// `events push --status --json`.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusReport<'a> {
    targets: &'a [TargetStatus],
    unpushed_from_start: u64,
}

/// `events push --dry-run --json`: what would go where.
#[derive(serde::Serialize)]
struct DryRunReport<'a> {
    target: String,
    pending: usize,
    events: Vec<PlannedPush<'a>>,
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct PlannedPush<'a> {
    event_id: &'a str,
    event_type: &'a str,
    to: &'a [String],
}

fn status(app: &App, store: &Store) -> Result<()> {
    let cursors = store.cursors();
    let mut rows = Vec::new();
    for (id, cursor) in cursors.all()? {
        let pending = push::pending_count(store, cursor.offset)?;
        rows.push(TargetStatus {
            id,
            target: cursor.target,
            pushed: cursor.pushed,
            pending,
            last_event_id: cursor.last_event_id,
            updated_at: cursor.updated_at,
        });
    }
    if app.json() {
        app.printer.json_document(&StatusReport {
            targets: &rows,
            unpushed_from_start: push::pending_count(store, 0)?,
        });
    } else if app.human() {
        if rows.is_empty() {
            out!(
                app.printer,
                "No pushes yet; {} events in the log.",
                push::pending_count(store, 0)?
            );
        }
        for row in rows {
            out!(
                app.printer,
                "{}  pushed {}  pending {}  last {}",
                row.target,
                row.pushed,
                row.pending,
                row.last_event_id.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

fn dry_run(app: &App, store: &Store, target: &Target) -> Result<()> {
    let plan = push::plan(store, target)?;
    if app.json() {
        let events = plan
            .iter()
            .map(|(event_id, event_type, to)| PlannedPush {
                event_id,
                event_type,
                to,
            })
            .collect();
        app.printer.json_document(&DryRunReport {
            target: target.display(),
            pending: plan.len(),
            events,
        });
    } else if app.human() {
        for (id, event_type, to) in &plan {
            out!(app.printer, "{id}  {event_type:<30} -> {}", to.join(", "));
        }
        out!(
            app.printer,
            "{} event(s) would be pushed to {} (dry run)",
            plan.len(),
            target.display()
        );
    }
    Ok(())
}

fn send(app: &App, store: &Store, target: &Target, args: &PushArgs) -> Result<()> {
    let options = push::Options {
        policy: Policy {
            max_retries: args.max_retries,
            deadline: Duration::from_secs(args.deadline),
            ..Policy::default()
        },
        batch: args.batch,
        require_route: args.require_route || store.config().push.require_route,
    };
    let on_retry = |retry: &push::Retry| app.printer.warn(retrying(retry, &options.policy));
    let report = push::push_reporting(
        store,
        target,
        options,
        |name| store.config().push.connection_string(name),
        &on_retry,
    )?;
    if !report.unrouted.is_empty() {
        app.printer.warn(unrouted(&report.unrouted));
    }
    if app.json() {
        app.printer.json_document(&report);
    } else if app.human() {
        if report.sent == 0 {
            out!(
                app.printer,
                "Nothing to push to {}: it has every event.",
                report.target
            );
        } else {
            let rate = report.sent as f64 / report.seconds.max(1e-6);
            out!(
                app.printer,
                "Pushed {} event(s) to {} in {} batch(es), {:.2} s ({rate:.0} events/s{})",
                report.sent,
                report.target,
                report.batches,
                report.seconds,
                if report.retries > 0 {
                    format!(", {} retries", report.retries)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

/// A broker that does not answer is retried in the open: each wait is said, with the budget,
/// rather than a silence as long as the deadline.
fn retrying(retry: &push::Retry, policy: &Policy) -> String {
    format!(
        "{}\n  retry {} of {} in {:.1} s; the push gives up after {} retries or {} s (--max-retries, --deadline)",
        retry.error,
        retry.number,
        policy.max_retries,
        retry.wait.as_secs_f64(),
        policy.max_retries,
        policy.deadline.as_secs()
    )
}

/// The warning for events RabbitMQ accepted with no queue bound: one exchange and type a
/// line, the few first of many.
fn unrouted(pairs: &[String]) -> String {
    const SHOWN: usize = 8;
    let mut text = format!(
        "RabbitMQ accepted {} kind(s) of event that no queue is bound for yet; nobody receives them:",
        pairs.len()
    );
    for pair in pairs.iter().take(SHOWN) {
        text.push_str(&format!("\n  {pair}"));
    }
    if pairs.len() > SHOWN {
        text.push_str(&format!("\n  … and {} more", pairs.len() - SHOWN));
    }
    text.push_str(
        "\n  bind a queue to those exchanges (routing key = the event type) before pushing,\
         \n  or pass --require-route to stop at such an event",
    );
    text
}
