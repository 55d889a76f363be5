//! System-administrator endpoints under `/api/admin`: the admin root,
//! extension services and API filters, service rights, roles, users, AMQP
//! settings (GET/PUT/test) and vCenter registrations (§9).

use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::common::*;
use super::context::{ApiResult, Ctx, VcdErrorResponse};
use super::xml::Dom;
use super::xml::El;
use crate::state::admin::ServiceInput;
use crate::state::*;

pub(super) fn id_of(s: &str) -> Result<Id, VcdErrorResponse> {
    uuid::Uuid::parse_str(s)
        .map_err(|_| VcdErrorResponse::not_found(format!("\"{s}\" is not a valid id.")))
}

pub(super) fn sysadmin(ctx: &Ctx) -> Result<Caller, VcdErrorResponse> {
    let c = ctx.caller()?;
    ctx.sim().require_sysadmin(&c).map_err(|e| ctx.fail(e))?;
    Ok(c)
}

pub(super) fn vmext_root(tag: &str) -> El {
    El::root(format!("vmext:{tag}"))
}

pub(super) async fn admin_root(ctx: Ctx) -> ApiResult {
    let c = ctx.caller()?;
    if !c.is_org_admin() {
        return Err(ctx.fail(SimError::Forbidden(
            "Only administrators may read /api/admin.".into(),
        )));
    }
    ctx.sim().view(|g| {
        let b = &ctx.base;
        let orgs = El::new("OrganizationReferences").children(
            g.orgs.values().filter(|o| c.can_see_org(o.id)).map(|o| {
                El::new("OrganizationReference")
                    .attr("href", format!("{b}/api/admin/org/{}", o.id))
                    .attr("name", &o.name)
                    .attr("type", mt::ADMIN_ORG)
            }),
        );
        let rights = El::new("RightReferences").children(
            g.rights
                .values()
                .map(|r| reference("RightReference", b, EntityRef::Right(r.id), &r.name)),
        );
        let roles = El::new("RoleReferences").children(
            g.roles
                .values()
                .filter(|r| c.can_see_org(r.org))
                .map(|r| reference("RoleReference", b, EntityRef::Role(r.id), &r.name)),
        );
        let doc = El::root("VCloud")
            .attr("href", format!("{b}/api/admin/"))
            .attr("name", "VMware Cloud Director")
            .attr("type", mt::ADMIN_VCLOUD)
            .leaf("Description", "vcd-sim")
            .child(orgs)
            .child(El::new("ProviderVdcReferences"))
            .child(rights)
            .child(roles)
            .child(El::new("Networks"));
        ctx.ok(mt::ADMIN_VCLOUD, doc)
    })
}

pub(super) async fn extension_root(ctx: Ctx) -> ApiResult {
    sysadmin(&ctx)?;
    let b = &ctx.base;
    let doc = vmext_root("VMWExtension")
        .attr("href", format!("{b}/api/admin/extension"))
        .attr("type", mt::EXTENSION)
        .link(
            "down",
            format!("{b}/api/admin/extension/service"),
            Some(mt::SERVICES),
        )
        .link(
            "down",
            format!("{b}/api/admin/extension/vimServerReferences"),
            Some(mt::VIM_REFS),
        )
        .link(
            "down",
            format!("{b}/api/admin/extension/settings/amqp"),
            Some(mt::AMQP),
        );
    ctx.ok(mt::EXTENSION, doc)
}

pub(super) fn service_doc(base: &str, s: &ExtensionService, root: bool) -> El {
    let e = EntityRef::Service(s.id);
    let h = format!("{base}{}", e.path());
    let el = if root {
        vmext_root("Service")
    } else {
        El::new("vmext:Service")
    };
    el.attr("href", &h)
        .attr("id", e.urn())
        .attr("name", &s.name)
        .attr("type", mt::SERVICE)
        .link("edit", &h, Some(mt::SERVICE))
        .link("remove", &h, None)
        .link("rights", format!("{h}/rights"), Some(mt::RIGHTS))
        .link("add", format!("{h}/apifilters"), Some(mt::API_FILTER))
        .link("down", format!("{h}/apifilters"), Some(mt::API_FILTERS))
        .leaf("Description", &s.description)
        .leaf("vmext:Namespace", &s.namespace)
        .leaf("vmext:Enabled", s.enabled.to_string())
        .leaf(
            "vmext:AuthorizationEnabled",
            s.authorization_enabled.to_string(),
        )
        .leaf("vmext:RoutingKey", &s.routing_key)
        .leaf("vmext:Priority", s.priority.to_string())
        .leaf("vmext:Exchange", &s.exchange)
        .leaf("vmext:Vendor", &s.vendor)
}

pub(super) async fn list_services(ctx: Ctx) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let services = ctx.sim().services(&c).map_err(|e| ctx.fail(e))?;
    let b = &ctx.base;
    let doc = vmext_root("ExtensionServices")
        .attr("href", format!("{b}/api/admin/extension/service"))
        .attr("type", mt::SERVICES)
        .link(
            "add",
            format!("{b}/api/admin/extension/service"),
            Some(mt::SERVICE),
        )
        .link(
            "down:services",
            format!("{b}/api/query?type=adminService&format=records"),
            Some(mt::RECORDS),
        )
        .children(services.iter().map(|s| service_doc(b, s, false)));
    ctx.ok(mt::SERVICES, doc)
}

pub(super) async fn create_service(ctx: Ctx, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse_service(&dom).map_err(|e| ctx.err(e))?;
    let s = ctx
        .sim()
        .create_service(&c, input)
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.xml(
        StatusCode::CREATED,
        mt::SERVICE,
        service_doc(&ctx.base, &s, true),
    ))
}

pub(super) async fn get_service(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let s = ctx
        .sim()
        .service(&c, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::SERVICE, service_doc(&ctx.base, &s, true))
}

pub(super) async fn put_service(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let input = parse_service(&dom).map_err(|e| ctx.err(e))?;
    let s = ctx
        .sim()
        .update_service(&c, id_of(&id)?, input)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::SERVICE, service_doc(&ctx.base, &s, true))
}

pub(super) async fn delete_service(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    ctx.sim()
        .delete_service(&c, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn filter_doc(base: &str, service: Id, f: &ApiFilter, root: bool) -> El {
    let e = EntityRef::ApiFilter(f.id);
    let h = format!("{base}{}", e.path());
    let el = if root {
        vmext_root("ApiFilter")
    } else {
        El::new("vmext:ApiFilter")
    };
    el.attr("href", &h)
        .attr("id", e.urn())
        .attr("type", mt::API_FILTER)
        .link(
            "up",
            format!("{base}{}", EntityRef::Service(service).path()),
            Some(mt::SERVICE),
        )
        .link("remove", &h, None)
        .leaf("vmext:UrlPattern", &f.pattern)
}

pub(super) async fn list_filters(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let sid = id_of(&id)?;
    let s = ctx.sim().service(&c, sid).map_err(|e| ctx.fail(e))?;
    let b = &ctx.base;
    let doc = vmext_root("ApiFilters")
        .attr(
            "href",
            format!("{b}{}/apifilters", EntityRef::Service(sid).path()),
        )
        .attr("type", mt::API_FILTERS)
        .link(
            "add",
            format!("{b}{}/apifilters", EntityRef::Service(sid).path()),
            Some(mt::API_FILTER),
        )
        .children(s.filters.iter().map(|f| filter_doc(b, sid, f, false)));
    ctx.ok(mt::API_FILTERS, doc)
}

pub(super) async fn add_filter(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let sid = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let pattern = dom.child_text("UrlPattern").ok_or_else(|| {
        ctx.err(VcdErrorResponse::bad_request(
            "ApiFilter needs a UrlPattern.",
        ))
    })?;
    let f = ctx
        .sim()
        .add_api_filter(&c, sid, pattern)
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.xml(
        StatusCode::CREATED,
        mt::API_FILTER,
        filter_doc(&ctx.base, sid, &f, true),
    ))
}

pub(super) async fn get_filter(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let (sid, f) = ctx
        .sim()
        .api_filter(&c, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::API_FILTER, filter_doc(&ctx.base, sid, &f, true))
}

pub(super) async fn delete_filter(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    ctx.sim()
        .delete_api_filter(&c, id_of(&id)?)
        .map_err(|e| ctx.fail(e))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn right_doc(base: &str, r: &Right) -> El {
    let e = EntityRef::Right(r.id);
    El::root("Right")
        .attr("href", format!("{base}{}", e.path()))
        .attr("id", e.urn())
        .attr("name", &r.name)
        .attr("type", mt::RIGHT)
        .leaf("Description", &r.description)
        .leaf("Category", &r.category)
        .leaf("BundleKey", &r.bundle_key)
        .leaf("RightType", "MODIFY")
}

pub(super) async fn list_rights(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let sid = id_of(&id)?;
    let rights = ctx.sim().service_rights(&c, sid).map_err(|e| ctx.fail(e))?;
    let b = &ctx.base;
    let h = format!("{b}{}/rights", EntityRef::Service(sid).path());
    let doc = El::root("RightReferences")
        .attr("href", &h)
        .attr("type", mt::RIGHTS)
        .link("add", &h, Some(mt::RIGHT))
        .children(
            rights
                .iter()
                .map(|r| reference("RightReference", b, EntityRef::Right(r.id), &r.name)),
        );
    ctx.ok(mt::RIGHTS, doc)
}

pub(super) async fn add_right(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let sid = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let name = dom
        .attr("name")
        .ok_or_else(|| ctx.err(VcdErrorResponse::bad_request("Right needs a name.")))?;
    let r = ctx
        .sim()
        .add_service_right(
            &c,
            sid,
            name,
            dom.child_text("Description").unwrap_or_default(),
            dom.child_text("Category").unwrap_or_default(),
            dom.child_text("BundleKey").unwrap_or_default(),
        )
        .map_err(|e| ctx.fail(e))?;
    Ok(ctx.xml(StatusCode::CREATED, mt::RIGHT, right_doc(&ctx.base, &r)))
}

pub(super) async fn get_right(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let r = g
            .rights
            .get(&id)
            .ok_or_else(|| ctx.fail(SimError::no_access(&EntityRef::Right(id))))?;
        ctx.ok(mt::RIGHT, right_doc(&ctx.base, r))
    })
}

pub(super) async fn get_role(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let r = g
            .roles
            .get(&id)
            .filter(|r| c.can_see_org(r.org))
            .ok_or_else(|| ctx.fail(SimError::no_access(&EntityRef::Role(id))))?;
        let b = &ctx.base;
        let e = EntityRef::Role(id);
        let h = format!("{b}{}", e.path());
        let refs = El::new("RightReferences").children(r.rights.iter().map(|name| {
            match g.rights.values().find(|x| &x.name == name) {
                Some(x) => reference("RightReference", b, EntityRef::Right(x.id), name),
                None => El::new("RightReference")
                    .attr("name", name)
                    .attr("type", mt::RIGHT),
            }
        }));
        let doc = El::root("Role")
            .attr("href", &h)
            .attr("id", e.urn())
            .attr("name", &r.name)
            .attr("type", mt::ROLE)
            .link("edit", &h, Some(mt::ROLE))
            .link(
                "up",
                format!("{b}/api/admin/org/{}", r.org),
                Some(mt::ADMIN_ORG),
            )
            .leaf("Description", r.kind.display())
            .child(refs);
        ctx.ok(mt::ROLE, doc)
    })
}

pub(super) async fn put_role(ctx: Ctx, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let c = ctx.caller()?;
    let id = id_of(&id)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let rights: Vec<String> = dom
        .child("RightReferences")
        .map(|r| {
            r.all("RightReference")
                .filter_map(|x| x.attr("name").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    ctx.sim()
        .set_role_rights(&c, id, rights)
        .map_err(|e| ctx.fail(e))?;
    get_role(ctx, Path(id.to_string())).await
}

pub(super) async fn get_user(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = ctx.caller()?;
    let id = id_of(&id)?;
    ctx.sim().view(|g| {
        let u = g
            .users
            .get(&id)
            .filter(|u| c.is_sysadmin() || (c.is_org_admin() && c.org == u.org) || c.user == u.id)
            .ok_or_else(|| ctx.fail(SimError::no_access(&EntityRef::User(id))))?;
        let b = &ctx.base;
        let role = g
            .roles
            .get(&u.role)
            .map(|r| r.name.clone())
            .unwrap_or_default();
        let doc = El::root("User")
            .attr("href", format!("{b}{}", EntityRef::User(id).path()))
            .attr("id", EntityRef::User(id).urn())
            .attr("name", &u.name)
            .attr("type", mt::USER)
            .link(
                "up",
                format!("{b}/api/admin/org/{}", u.org),
                Some(mt::ADMIN_ORG),
            )
            .leaf("FullName", &u.full_name)
            .leaf("IsEnabled", "true")
            .child(reference("Role", b, EntityRef::Role(u.role), &role));
        ctx.ok(mt::USER, doc)
    })
}

/// `AmqpSettings` with exactly the eight children CSE compares (§9.3).
pub(super) fn amqp_doc(base: &str, s: &AmqpSettings) -> El {
    vmext_root("AmqpSettings")
        .attr("href", format!("{base}/api/admin/extension/settings/amqp"))
        .attr("type", mt::AMQP)
        .leaf("vmext:AmqpHost", &s.host)
        .leaf("vmext:AmqpPort", s.port.to_string())
        .leaf("vmext:AmqpUsername", &s.username)
        .leaf("vmext:AmqpExchange", &s.exchange)
        .leaf("vmext:AmqpVHost", &s.vhost)
        .leaf("vmext:AmqpUseSSL", s.use_ssl.to_string())
        .leaf("vmext:AmqpSslAcceptAll", s.ssl_accept_all.to_string())
        .leaf("vmext:AmqpPrefix", &s.prefix)
}

pub(super) async fn get_amqp(ctx: Ctx) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let s = ctx.sim().amqp_settings(&c).map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::AMQP, amqp_doc(&ctx.base, &s))
}

pub(super) async fn put_amqp(ctx: Ctx, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let s = parse_amqp(&dom).map_err(|e| ctx.err(e))?;
    let s = ctx
        .sim()
        .set_amqp_settings(&c, s)
        .map_err(|e| ctx.fail(e))?;
    ctx.ok(mt::AMQP, amqp_doc(&ctx.base, &s))
}

/// Tries a TCP connection to the broker named in the settings.
pub(super) async fn test_amqp(ctx: Ctx, body: Bytes) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let dom = body_dom(&body).map_err(|e| ctx.err(e))?;
    let s = parse_amqp(&dom).map_err(|e| ctx.err(e))?;
    let current = ctx.sim().amqp_settings(&c).map_err(|e| ctx.fail(e))?;
    let password_ok = s.password.is_empty() || s.password == current.password;
    let addr = format!("{}:{}", s.host, s.port);
    let reachable = matches!(
        tokio::time::timeout(
            std::time::Duration::from_secs(3),
            tokio::net::TcpStream::connect(&addr)
        )
        .await,
        Ok(Ok(_))
    );
    let doc = vmext_root("AmqpSettingsTest")
        .attr("type", mt::AMQP_TEST)
        .leaf("vmext:Valid", (reachable && password_ok).to_string());
    ctx.ok(mt::AMQP_TEST, doc)
}

pub(super) async fn vim_refs(ctx: Ctx) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let vcs = ctx.sim().vcenters(&c).map_err(|e| ctx.fail(e))?;
    let b = &ctx.base;
    let doc = vmext_root("VMWVimServerReferences")
        .attr(
            "href",
            format!("{b}/api/admin/extension/vimServerReferences"),
        )
        .attr("type", mt::VIM_REFS)
        .children(vcs.iter().map(|v| {
            El::new("vmext:VimServerReference")
                .attr("href", format!("{b}{}", EntityRef::VimServer(v.id).path()))
                .attr("name", &v.name)
                .attr("type", mt::VIM_SERVER)
        }));
    ctx.ok(mt::VIM_REFS, doc)
}

pub(super) async fn vim_server(ctx: Ctx, Path(id): Path<String>) -> ApiResult {
    let c = sysadmin(&ctx)?;
    let id = id_of(&id)?;
    let vcs = ctx.sim().vcenters(&c).map_err(|e| ctx.fail(e))?;
    let v = vcs
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(|| ctx.fail(SimError::no_access(&EntityRef::VimServer(id))))?;
    let e = EntityRef::VimServer(id);
    let doc = vmext_root("VimServer")
        .attr("href", format!("{}{}", ctx.base, e.path()))
        .attr("id", e.urn())
        .attr("name", &v.name)
        .attr("type", mt::VIM_SERVER)
        .leaf("vmext:Username", &v.username)
        .leaf("vmext:Url", &v.url)
        .leaf("vmext:IsEnabled", "true")
        .leaf("vmext:IsConnected", "true")
        .leaf("vmext:ShieldManagerHost", "")
        .leaf("vmext:UseVsphereService", "false")
        .leaf("vmext:Uuid", v.uuid.to_string())
        .leaf("vmext:VcVersion", &v.version);
    let _ = ts;
    ctx.ok(mt::VIM_SERVER, doc)
}

/// `vmext:Service`.
pub fn parse_service(d: &Dom) -> PResult<ServiceInput> {
    Ok(ServiceInput {
        name: d.attr("name").unwrap_or_default().to_string(),
        namespace: d.child_text("Namespace").unwrap_or_default().to_string(),
        vendor: d.child_text("Vendor").map(str::to_string),
        enabled: d.child_bool("Enabled").unwrap_or(false),
        exchange: d.child_text("Exchange").unwrap_or_default().to_string(),
        routing_key: d.child_text("RoutingKey").unwrap_or_default().to_string(),
        priority: d.child_text("Priority").and_then(|p| p.parse().ok()),
        authorization_enabled: d.child_bool("AuthorizationEnabled"),
        description: d.child_text("Description").map(str::to_string),
        filters: d
            .child("ApiFilters")
            .map(|f| {
                f.all("ApiFilter")
                    .filter_map(|a| a.child_text("UrlPattern").map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// `vmext:AmqpSettings` (password optional).
pub fn parse_amqp(d: &Dom) -> PResult<AmqpSettings> {
    let text = |n: &str| d.child_text(n).unwrap_or_default().to_string();
    let port = d
        .child_text("AmqpPort")
        .unwrap_or("5672")
        .parse::<u16>()
        .map_err(|_| VcdErrorResponse::bad_request("AmqpPort must be a port number."))?;
    Ok(AmqpSettings {
        host: text("AmqpHost"),
        port,
        username: text("AmqpUsername"),
        password: text("AmqpPassword"),
        exchange: text("AmqpExchange"),
        vhost: d.child_text("AmqpVHost").unwrap_or("/").to_string(),
        use_ssl: d.child_bool("AmqpUseSSL").unwrap_or(false),
        ssl_accept_all: d.child_bool("AmqpSslAcceptAll").unwrap_or(false),
        prefix: text("AmqpPrefix"),
    })
}
