//! Tasks: `/api/task/{id}` (get, update by an extension, cancel),
//! `/api/tasksList/{id}` (list, create an extension's task), the `Task`
//! documents every asynchronous operation answers with, and `TaskInput` bodies.

use crate::state::tasks::TaskInput;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::{Dom, El};
use crate::state::*;

pub(super) fn task_response(ctx: &Ctx, task: Id) -> ApiResult {
    ctx.sim().view(|g| {
        let t = g.existing_task(task).map_err(|e| ctx.fail(e))?;
        Ok(ctx.xml(StatusCode::ACCEPTED, mt::TASK, task_doc(g, &ctx.base, t)))
    })
}

// ----- tasks -----

pub(super) async fn get_task(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let t = ctx
        .sim()
        .task(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    ctx.sim()
        .view(|g| ctx.ok(mt::TASK, task_doc(g, &ctx.base, &t)))
}

pub(super) async fn put_task(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse_task(&dom).map_err(|e| ctx.err(e))?;
    let t = ctx
        .sim()
        .update_task(&caller, id_of(&id)?, input)
        .map_err(|e| ctx.fail(e))?;
    ctx.sim()
        .view(|g| ctx.ok(mt::TASK, task_doc(g, &ctx.base, &t)))
}

pub(super) async fn cancel_task(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    ctx.sim()
        .cancel_task(&caller, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response_ok())
}

pub(super) async fn get_tasks_list(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let tasks = ctx.sim().org_tasks(&caller, org).map_err(|e| ctx.fail(e))?;
    ctx.sim()
        .view(|g| ctx.ok(mt::TASKS_LIST, tasks_list(g, &ctx.base, org, &tasks)))
}

pub(super) async fn post_tasks_list(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let caller = ctx.caller()?;
    let org = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse_task(&dom).map_err(|e| ctx.err(e))?;
    let t = ctx
        .sim()
        .create_external_task(&caller, org, input)
        .map_err(|e| ctx.fail(e))?;
    ctx.sim()
        .view(|g| ctx.ok(mt::TASK, task_doc(g, &ctx.base, &t)))
}

/// Running tasks of an entity, plus (first) the task a create request started.
pub(super) fn tasks_with(g: &Inner, e: EntityRef, with_task: Option<&Task>) -> Vec<Task> {
    let mut tasks: Vec<Task> = with_task.into_iter().cloned().collect();
    for t in g.running_tasks(e) {
        if !tasks.iter().any(|x| x.id == t.id) {
            tasks.push(t);
        }
    }
    tasks
}

pub(super) fn tasks_el(base: &str, tasks: &[Task], g: &Inner) -> Option<El> {
    if tasks.is_empty() {
        return None;
    }
    Some(El::new("Tasks").children(tasks.iter().map(|t| task_el(g, base, t, "Task"))))
}

pub(super) fn task_el(g: &Inner, base: &str, t: &Task, tag: &'static str) -> El {
    let e = EntityRef::Task(t.id);
    let mut el = El::new(tag)
        .attr("href", href(base, e))
        .attr("id", e.urn())
        .attr("name", &t.name)
        .attr("type", mt::TASK)
        .attr("status", t.status.as_str())
        .attr("operation", &t.operation)
        .attr("operationName", &t.operation_name)
        .attr("serviceNamespace", &t.service_namespace)
        .attr("startTime", ts(t.start))
        .opt_attr("endTime", t.end.map(ts))
        .attr("expiryTime", ts(t.expiry))
        .attr("cancelRequested", t.cancel_requested.to_string());
    if !t.status.is_terminal() {
        el = el.link(
            "task:cancel",
            format!("{}/action/cancel", href(base, e)),
            None,
        );
    }
    el = match &t.owner {
        TaskOwner::Entity { entity, name } => el.child(reference("Owner", base, *entity, name)),
        TaskOwner::Raw {
            href,
            name,
            media_type,
        } => el.child(
            El::new("Owner")
                .attr("href", href)
                .attr("name", name)
                .attr("type", media_type),
        ),
    };
    if let Some(err) = &t.error {
        el = el.child(
            El::new("Error")
                .attr("majorErrorCode", err.major.to_string())
                .attr("minorErrorCode", &err.minor)
                .attr("message", &err.message)
                .attr("stackTrace", &err.stack_trace),
        );
    }
    let user_href = match uuid_of(&t.user_ref) {
        Some(u) if !t.user_ref.starts_with("urn:") || g.users.contains_key(&u) => {
            href(base, EntityRef::User(u))
        }
        _ => t.user_ref.clone(),
    };
    el = el.child(
        El::new("User")
            .attr("href", user_href)
            .attr("name", &t.user_name)
            .attr("type", mt::USER),
    );
    el = el.child(reference(
        "Organization",
        base,
        EntityRef::Org(t.org),
        &g.org_name(t.org),
    ));
    if let Some(p) = t.progress {
        el = el.leaf("Progress", p.to_string());
    }
    el.leaf("Details", &t.details)
}

/// The `Task` document (§8.1).
pub fn task_doc(g: &Inner, base: &str, t: &Task) -> El {
    let el = task_el(g, base, t, "Task");
    // Re-root with namespace declarations.
    El::root("Task").merge_from(el)
}

/// `GET /api/tasksList/{org}`.
pub fn tasks_list(g: &Inner, base: &str, org: Id, tasks: &[Task]) -> El {
    El::root("TasksList")
        .attr("href", format!("{base}/api/tasksList/{org}"))
        .attr("name", g.org_name(org))
        .attr("type", mt::TASKS_LIST)
        .children(tasks.iter().map(|t| task_el(g, base, t, "Task")))
}

/// A `Task` written by an extension.
pub fn parse_task(d: &Dom) -> PResult<TaskInput> {
    let status = match d.attr("status") {
        Some(s) => Some(TaskStatus::parse(s).ok_or_else(|| {
            VcdErrorResponse::bad_request(format!("Unknown task status \"{s}\"."))
        })?),
        None => None,
    };
    let error = d.child("Error").map(|e| ErrorInfo {
        major: e
            .attr("majorErrorCode")
            .and_then(|c| c.parse().ok())
            .unwrap_or(500),
        minor: e
            .attr("minorErrorCode")
            .unwrap_or("INTERNAL_SERVER_ERROR")
            .to_string(),
        message: e.attr("message").unwrap_or_default().to_string(),
        stack_trace: e.attr("stackTrace").unwrap_or_default().to_string(),
    });
    Ok(TaskInput {
        status,
        operation: d.attr("operation").map(str::to_string),
        operation_name: d.attr("operationName").map(str::to_string),
        service_namespace: d.attr("serviceNamespace").map(str::to_string),
        name: d.attr("name").map(str::to_string),
        owner: d.child("Owner").map(|o| {
            (
                o.attr("href").unwrap_or_default().to_string(),
                o.attr("name").unwrap_or_default().to_string(),
                o.attr("type").unwrap_or_default().to_string(),
            )
        }),
        user: d.child("User").map(|u| {
            (
                u.attr("href").unwrap_or_default().to_string(),
                u.attr("name").unwrap_or_default().to_string(),
            )
        }),
        error,
        details: d.child("Details").map(|x| x.text.clone()),
        progress: d.child_text("Progress").and_then(|p| p.parse().ok()),
    })
}
