//! System-administrator state: extension services and their API filters,
//! service rights, roles, AMQP settings and vCenter registrations. Which
//! request path belongs to which extension is decided by vCD's routing in
//! `crate::ext::filters`, over the services held here.

use super::*;
use crate::ext::ExtensionTarget;

/// `vmext:Service` as a client writes it.
#[derive(Debug, Clone, Default)]
pub struct ServiceInput {
    /// Service name.
    pub name: String,
    /// Namespace (`cse`); the service's rights are prefixed with it.
    pub namespace: String,
    /// Vendor.
    pub vendor: Option<String>,
    /// Whether vCD routes requests to it.
    pub enabled: bool,
    /// AMQP exchange the requests go to.
    pub exchange: String,
    /// Routing key of the requests.
    pub routing_key: String,
    /// `vmext:Priority` (default 0).
    pub priority: Option<i32>,
    /// Whether vCD checks the service's rights (default false).
    pub authorization_enabled: Option<bool>,
    /// Free text.
    pub description: Option<String>,
    /// API filter URL patterns (regular expressions).
    pub filters: Vec<String>,
}

fn require_sysadmin(caller: &Caller) -> SimResult<()> {
    if caller.is_sysadmin() {
        Ok(())
    } else {
        Err(SimError::Forbidden(
            "Either you need some or all of the following rights [General: Administrator Control] to perform operations or the target entity is invalid.".into(),
        ))
    }
}

/// Compiles an API filter pattern anchored at both ends (Java `matches`).
pub fn compile_filter(pattern: &str) -> SimResult<crate::ext::ApiFilter> {
    crate::ext::ApiFilter::new(pattern).map_err(|e| {
        SimError::BadRequest(format!(
            "Invalid API filter URL pattern \"{}\": {}",
            e.pattern, e.reason
        ))
    })
}

/// `urn:vcloud:extension-api:<vendor>:<name>:<version>`: the CloudAPI id of an MQTT extension.
pub fn api_extension_urn(vendor: &str, name: &str, version: &str) -> String {
    format!("urn:vcloud:extension-api:{vendor}:{name}:{version}")
}

/// What `POST /cloudapi/extensions/api` registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiExtensionInput {
    /// Name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Version.
    pub version: String,
    /// 0–100, 50 neutral (vCD's default).
    pub priority: i32,
    /// Whether vCD routes requests to it.
    pub enabled: bool,
    /// Whether vCD checks the extension's rights.
    pub authorization_enabled: bool,
    /// Free text.
    pub description: String,
}

impl Sim {
    /// Registers an MQTT API extension (`POST /cloudapi/extensions/api`).
    pub fn create_api_extension(
        &self,
        caller: &Caller,
        input: ApiExtensionInput,
    ) -> SimResult<ExtensionService> {
        require_sysadmin(caller)?;
        for (what, value) in [
            ("name", &input.name),
            ("vendor", &input.vendor),
            ("version", &input.version),
        ] {
            if value.trim().is_empty() || value.contains('/') || value.contains(':') {
                return Err(SimError::BadRequest(format!(
                    "An API extension needs a {what} without '/' or ':'."
                )));
            }
        }
        if !(0..=100).contains(&input.priority) {
            return Err(SimError::BadRequest(format!(
                "priority must be between 0 and 100, got {}",
                input.priority
            )));
        }
        let mut g = self.inner.write();
        if g.services.values().any(|s| {
            s.mqtt.as_ref().is_some_and(|m| m.version == input.version)
                && s.vendor == input.vendor
                && s.name == input.name
        }) {
            return Err(SimError::DuplicateName(format!(
                "An API extension {}/{}/{} already exists.",
                input.vendor, input.name, input.version
            )));
        }
        let id = g.new_id();
        let s = ExtensionService {
            id,
            mqtt: Some(MqttRegistration::for_triplet(
                &input.vendor,
                &input.name,
                &input.version,
            )),
            namespace: input.name.clone(),
            name: input.name,
            vendor: input.vendor,
            enabled: input.enabled,
            exchange: String::new(),
            routing_key: String::new(),
            priority: input.priority,
            authorization_enabled: input.authorization_enabled,
            description: input.description,
            filters: Vec::new(),
        };
        g.services.insert(id, s.clone());
        Ok(s)
    }

    /// The MQTT API extension with this CloudAPI id (or service uuid).
    pub fn api_extension(&self, caller: &Caller, id: &str) -> SimResult<ExtensionService> {
        require_sysadmin(caller)?;
        self.find_api_extension(id)
            .ok_or_else(|| SimError::NotFound(format!("API extension {id} not found.")))
    }

    /// Every MQTT API extension.
    pub fn api_extensions(&self, caller: &Caller) -> SimResult<Vec<ExtensionService>> {
        require_sysadmin(caller)?;
        Ok(self
            .inner
            .read()
            .services
            .values()
            .filter(|s| s.mqtt.is_some())
            .cloned()
            .collect())
    }

    /// The MQTT extension whose triplet `vendor/name/version` is `owner`.
    pub fn api_extension_by_triplet(&self, owner: &str) -> Option<ExtensionService> {
        self.inner
            .read()
            .services
            .values()
            .find(|s| {
                s.mqtt
                    .as_ref()
                    .is_some_and(|m| format!("{}/{}/{}", s.vendor, s.name, m.version) == owner)
            })
            .cloned()
    }

    fn find_api_extension(&self, id: &str) -> Option<ExtensionService> {
        self.inner
            .read()
            .services
            .values()
            .find(|s| {
                s.mqtt.as_ref().is_some_and(|m| {
                    api_extension_urn(&s.vendor, &s.name, &m.version) == id
                        || s.id.to_string() == id
                })
            })
            .cloned()
    }

    /// `PUT /cloudapi/extensions/api/{id}`: enabled, priority, authorization, description.
    pub fn update_api_extension(
        &self,
        caller: &Caller,
        id: &str,
        input: ApiExtensionInput,
    ) -> SimResult<ExtensionService> {
        let found = self.api_extension(caller, id)?;
        if input.name != found.name
            || input.vendor != found.vendor
            || found
                .mqtt
                .as_ref()
                .is_some_and(|m| m.version != input.version)
        {
            return Err(SimError::BadRequest(
                "The name, vendor and version of an API extension cannot be changed.".into(),
            ));
        }
        let mut g = self.inner.write();
        let s = g
            .services
            .get_mut(&found.id)
            .ok_or_else(|| SimError::NotFound(format!("API extension {id} not found.")))?;
        s.enabled = input.enabled;
        s.priority = input.priority;
        s.authorization_enabled = input.authorization_enabled;
        s.description = input.description;
        Ok(s.clone())
    }

    /// `DELETE /cloudapi/extensions/api/{id}`: must be disabled first; its
    /// filters go with it. Returns the deleted extension.
    pub fn delete_api_extension(&self, caller: &Caller, id: &str) -> SimResult<ExtensionService> {
        let found = self.api_extension(caller, id)?;
        if found.enabled {
            return Err(SimError::BadRequest(format!(
                "The API extension \"{}\" is enabled: disable it before deleting it.",
                found.name
            )));
        }
        let mut g = self.inner.write();
        g.services.remove(&found.id);
        g.rights.retain(|_, r| r.service != Some(found.id));
        Ok(found)
    }

    /// Registers an extension service.
    pub fn create_service(
        &self,
        caller: &Caller,
        input: ServiceInput,
    ) -> SimResult<ExtensionService> {
        require_sysadmin(caller)?;
        if input.name.trim().is_empty() || input.namespace.trim().is_empty() {
            return Err(SimError::BadRequest(
                "An extension service needs a name and a namespace.".into(),
            ));
        }
        let mut g = self.inner.write();
        if g.services
            .values()
            .any(|s| s.name == input.name && s.namespace == input.namespace)
        {
            return Err(SimError::DuplicateName(format!(
                "An extension service with name \"{}\" and namespace \"{}\" already exists.",
                input.name, input.namespace
            )));
        }
        let mut filters = Vec::new();
        for p in &input.filters {
            let compiled = compile_filter(p)?;
            filters.push(ApiFilter {
                id: g.new_id(),
                pattern: p.clone(),
                compiled: Some(compiled),
            });
        }
        let id = g.new_id();
        let s = ExtensionService {
            id,
            name: input.name,
            namespace: input.namespace,
            vendor: input.vendor.unwrap_or_default(),
            enabled: input.enabled,
            exchange: input.exchange,
            routing_key: input.routing_key,
            priority: input.priority.unwrap_or(0),
            authorization_enabled: input.authorization_enabled.unwrap_or(false),
            description: input.description.unwrap_or_default(),
            filters,
            mqtt: None,
        };
        g.services.insert(id, s.clone());
        Ok(s)
    }

    /// The extension service `id`; `Forbidden` unless the caller is a system administrator.
    pub fn service(&self, caller: &Caller, id: Id) -> SimResult<ExtensionService> {
        require_sysadmin(caller)?;
        self.inner
            .read()
            .services
            .get(&id)
            .cloned()
            .ok_or_else(|| SimError::no_access(&EntityRef::Service(id)))
    }

    /// Every extension service; `Forbidden` unless the caller is a system administrator.
    pub fn services(&self, caller: &Caller) -> SimResult<Vec<ExtensionService>> {
        require_sysadmin(caller)?;
        Ok(self.inner.read().services.values().cloned().collect())
    }

    /// `PUT <service>`: name, namespace, enabled, routing key, exchange (filters kept).
    pub fn update_service(
        &self,
        caller: &Caller,
        id: Id,
        input: ServiceInput,
    ) -> SimResult<ExtensionService> {
        require_sysadmin(caller)?;
        let mut g = self.inner.write();
        let s = g
            .services
            .get_mut(&id)
            .ok_or_else(|| SimError::no_access(&EntityRef::Service(id)))?;
        if !input.name.is_empty() {
            s.name = input.name;
        }
        if !input.namespace.is_empty() {
            s.namespace = input.namespace;
        }
        s.enabled = input.enabled;
        if !input.routing_key.is_empty() {
            s.routing_key = input.routing_key;
        }
        if !input.exchange.is_empty() {
            s.exchange = input.exchange;
        }
        if let Some(d) = input.description {
            s.description = d;
        }
        if let Some(p) = input.priority {
            s.priority = p;
        }
        if let Some(a) = input.authorization_enabled {
            s.authorization_enabled = a;
        }
        Ok(s.clone())
    }

    /// `DELETE <service>`: the service must be disabled first.
    pub fn delete_service(&self, caller: &Caller, id: Id) -> SimResult<()> {
        require_sysadmin(caller)?;
        let mut g = self.inner.write();
        let s = g
            .services
            .get(&id)
            .ok_or_else(|| SimError::no_access(&EntityRef::Service(id)))?;
        if s.enabled {
            return Err(SimError::BadRequest(format!(
                "The extension service \"{}\" is enabled: disable it before deleting it.",
                s.name
            )));
        }
        g.services.remove(&id);
        g.rights.retain(|_, r| r.service != Some(id));
        Ok(())
    }

    /// `POST <service>/apifilters`.
    pub fn add_api_filter(
        &self,
        caller: &Caller,
        service: Id,
        pattern: &str,
    ) -> SimResult<ApiFilter> {
        require_sysadmin(caller)?;
        let compiled = compile_filter(pattern)?;
        let mut g = self.inner.write();
        let fid = g.new_id();
        let s = g
            .services
            .get_mut(&service)
            .ok_or_else(|| SimError::no_access(&EntityRef::Service(service)))?;
        let f = ApiFilter {
            id: fid,
            pattern: pattern.to_string(),
            compiled: Some(compiled),
        };
        s.filters.push(f.clone());
        Ok(f)
    }

    /// `DELETE /api/admin/extension/service/apifilter/{id}`.
    pub fn delete_api_filter(&self, caller: &Caller, filter: Id) -> SimResult<()> {
        require_sysadmin(caller)?;
        let mut g = self.inner.write();
        for s in g.services.values_mut() {
            let before = s.filters.len();
            s.filters.retain(|f| f.id != filter);
            if s.filters.len() != before {
                return Ok(());
            }
        }
        Err(SimError::no_access(&EntityRef::ApiFilter(filter)))
    }

    /// An API filter and its service.
    pub fn api_filter(&self, caller: &Caller, filter: Id) -> SimResult<(Id, ApiFilter)> {
        require_sysadmin(caller)?;
        let g = self.inner.read();
        g.services
            .values()
            .find_map(|s| {
                s.filters
                    .iter()
                    .find(|f| f.id == filter)
                    .map(|f| (s.id, f.clone()))
            })
            .ok_or_else(|| SimError::no_access(&EntityRef::ApiFilter(filter)))
    }

    /// The enabled service whose API filters fully match `path`, if any.
    pub fn route_extension(&self, path: &str) -> Option<ExtensionTarget> {
        let g = self.inner.read();
        crate::ext::first_routed(
            g.services.values().map(|s| {
                (
                    s,
                    s.enabled,
                    s.filters.iter().filter_map(|f| f.compiled.as_ref()),
                )
            }),
            path,
        )
        .map(|s| ExtensionTarget {
            name: s.name.clone(),
            namespace: s.namespace.clone(),
            exchange: s.exchange.clone(),
            routing_key: s.routing_key.clone(),
            enabled: s.enabled,
            id: match &s.mqtt {
                Some(m) => api_extension_urn(&s.vendor, &s.name, &m.version),
                None => EntityRef::Service(s.id).urn(),
            },
            mqtt: s.mqtt.as_ref().map(|m| crate::ext::MqttTopics {
                monitor: m.monitor.clone(),
                respond: m.respond.clone(),
            }),
        })
    }

    /// Whether any service is registered at all (cheap pre-check per request).
    pub fn has_enabled_services(&self) -> bool {
        self.inner.read().services.values().any(|s| s.enabled)
    }

    /// Rights registered by a service.
    pub fn service_rights(&self, caller: &Caller, service: Id) -> SimResult<Vec<Right>> {
        require_sysadmin(caller)?;
        let g = self.inner.read();
        if !g.services.contains_key(&service) {
            return Err(SimError::no_access(&EntityRef::Service(service)));
        }
        Ok(g.rights
            .values()
            .filter(|r| r.service == Some(service))
            .map(|r| Right {
                id: r.id,
                name: r.name.clone(),
                category: r.category.clone(),
                description: r.description.clone(),
                bundle_key: r.bundle_key.clone(),
                service: r.service,
            })
            .collect())
    }

    /// `POST <service>/rights`: stored as `{namespace}:name`; a duplicate is
    /// 400 with vCD's exact text (CSE string-matches it).
    pub fn add_service_right(
        &self,
        caller: &Caller,
        service: Id,
        name: &str,
        description: &str,
        category: &str,
        bundle_key: &str,
    ) -> SimResult<Right> {
        require_sysadmin(caller)?;
        let mut g = self.inner.write();
        let ns = g
            .services
            .get(&service)
            .map(|s| s.namespace.clone())
            .ok_or_else(|| SimError::no_access(&EntityRef::Service(service)))?;
        let full = format!("{{{ns}}}:{name}");
        if g.rights.values().any(|r| r.name == full) {
            return Err(SimError::BadRequest(format!(
                "Right with name \"{full}\" already exists"
            )));
        }
        let id = g.new_id();
        let r = Right {
            id,
            name: full,
            category: category.into(),
            description: description.into(),
            bundle_key: bundle_key.into(),
            service: Some(service),
        };
        let copy = Right {
            id,
            name: r.name.clone(),
            category: r.category.clone(),
            description: r.description.clone(),
            bundle_key: r.bundle_key.clone(),
            service: r.service,
        };
        g.rights.insert(id, r);
        Ok(copy)
    }

    /// `PUT /api/admin/role/{id}`: replaces the role's rights (by right name).
    pub fn set_role_rights(&self, caller: &Caller, role: Id, rights: Vec<String>) -> SimResult<()> {
        let mut g = self.inner.write();
        let org = g
            .roles
            .get(&role)
            .map(|r| r.org)
            .ok_or_else(|| SimError::no_access(&EntityRef::Role(role)))?;
        if !(caller.is_sysadmin() || (caller.is_org_admin() && caller.org == org)) {
            return Err(SimError::no_access(&EntityRef::Role(role)));
        }
        for r in &rights {
            if !g.rights.values().any(|x| &x.name == r) {
                return Err(SimError::BadRequest(format!(
                    "Right \"{r}\" does not exist."
                )));
            }
        }
        if let Some(r) = g.roles.get_mut(&role) {
            r.rights = rights.into_iter().collect();
        }
        Ok(())
    }

    /// vCD's AMQP settings; `Forbidden` unless the caller is a system administrator.
    pub fn amqp_settings(&self, caller: &Caller) -> SimResult<AmqpSettings> {
        require_sysadmin(caller)?;
        Ok(self.inner.read().amqp.clone())
    }

    /// `PUT .../settings/amqp`: a missing password keeps the old one.
    pub fn set_amqp_settings(
        &self,
        caller: &Caller,
        mut s: AmqpSettings,
    ) -> SimResult<AmqpSettings> {
        require_sysadmin(caller)?;
        let mut g = self.inner.write();
        if s.password.is_empty() {
            s.password = g.amqp.password.clone();
        }
        g.amqp = s;
        Ok(g.amqp.clone())
    }

    /// The AMQP settings as last written (for the extension routing's broker
    /// connection; no access check).
    pub fn current_amqp_settings(&self) -> AmqpSettings {
        self.inner.read().amqp.clone()
    }

    /// Every registered vCenter; `Forbidden` unless the caller is a system administrator.
    pub fn vcenters(&self, caller: &Caller) -> SimResult<Vec<VimServer>> {
        require_sysadmin(caller)?;
        Ok(self.inner.read().vcenters.values().cloned().collect())
    }

    /// `Ok` for a system administrator, `Forbidden` (403, as vCD words it) for anyone else.
    pub fn require_sysadmin(&self, caller: &Caller) -> SimResult<()> {
        require_sysadmin(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::compile_filter;

    #[test]
    fn filters_match_the_whole_path() {
        let f = compile_filter("/api/cse/.*").unwrap();
        assert!(f.matches("/api/cse/c1/info"));
        assert!(!f.matches("/x/api/cse/c1"));
        assert!(!compile_filter("/api/cse").unwrap().matches("/api/cse/"));
        assert!(compile_filter("(").is_err());
    }
}
