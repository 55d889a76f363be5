//! Property reads: `PropertyCollector.RetrievePropertiesEx` and
//! `RetrieveProperties` (pyVmomi < 8, govmomi, our client) and the
//! undocumented `Fetch` (pyVmomi ≥ 8), all on the same resolver.

use super::Inner;
use super::faults::VimFault;
use super::guest_ops::{moref_param, parse_bool, required_text};
use super::properties::read_property;
use super::service_content::ids;
use super::sessions::Session;
use super::values::{MoRef, Value, write_any, write_declared};
use super::xml_out::SoapWriter;
use super::xml_tree::Element;

/// Top-level properties returned for `all=true`, per managed type.
fn all_properties(kind: &str) -> &'static [&'static str] {
    match kind {
        "VirtualMachine" => &[
            "config",
            "guest",
            "guestHeartbeatStatus",
            "name",
            "overallStatus",
            "runtime",
            "summary",
        ],
        "GuestOperationsManager" => &["authManager", "fileManager", "processManager"],
        "SessionManager" => &["currentSession", "defaultLocale", "messageLocale"],
        "ServiceInstance" => &["content", "serverClock"],
        "ContainerView" => &["container", "recursive", "type", "view"],
        "Folder" => &["childType", "name"],
        _ => &[],
    }
}

/// One `ObjectContent`: an object and its (set) properties.
struct ObjectContent {
    obj: MoRef,
    props: Vec<(String, Value)>,
}

/// Whether every property this request reads is readable without a session
/// (only `SessionManager.currentSession`, which pyVmomi probes).
fn session_free(targets: &[(MoRef, Vec<String>)]) -> bool {
    targets.iter().all(|(obj, paths)| {
        obj.kind == ids::SESSION_MANAGER.0 && paths.iter().all(|p| p == "currentSession")
    })
}

fn not_authenticated() -> VimFault {
    VimFault::NotAuthenticated {
        object: MoRef::new(ids::SESSION_MANAGER.0, ids::SESSION_MANAGER.1),
    }
}

impl Inner {
    /// Resolves a `specSet` into object contents.
    fn collect(
        &self,
        session: Option<&Session>,
        params: &Element,
    ) -> Result<Vec<ObjectContent>, VimFault> {
        let mut targets: Vec<(MoRef, Vec<String>)> = Vec::new();
        for spec in params.children_named("specSet") {
            let prop_specs: Vec<(String, bool, Vec<String>)> = spec
                .children_named("propSet")
                .map(|p| {
                    let kind = required_text(p, "type")?.to_owned();
                    let all = p
                        .child_text("all")
                        .map(|t| parse_bool("all", t))
                        .transpose()?;
                    let paths = p
                        .children_named("pathSet")
                        .map(|e| e.text.clone())
                        .collect();
                    Ok((kind, all.unwrap_or(false), paths))
                })
                .collect::<Result<_, VimFault>>()?;
            for object_spec in spec.children_named("objectSet") {
                let root = moref_param(object_spec, "obj")?;
                let skip = match object_spec.child_text("skip") {
                    Some(t) => parse_bool("skip", t)?,
                    None => false,
                };
                let mut objects = Vec::new();
                if !skip {
                    objects.push(root.clone());
                }
                objects.extend(self.traverse(session, &root, object_spec)?);
                for obj in objects {
                    let mut paths = Vec::new();
                    for (kind, all, spec_paths) in &prop_specs {
                        if *kind != obj.kind {
                            continue;
                        }
                        if *all {
                            paths.extend(all_properties(kind).iter().map(|p| (*p).to_owned()));
                        }
                        paths.extend(spec_paths.iter().cloned());
                    }
                    if prop_specs.iter().any(|(kind, _, _)| *kind == obj.kind) {
                        targets.push((obj, paths));
                    }
                }
            }
        }
        if session.is_none() && !session_free(&targets) {
            return Err(not_authenticated());
        }
        let mut contents = Vec::new();
        for (obj, paths) in targets {
            let mut props = Vec::new();
            for path in paths {
                if let Some(value) = read_property(self, session, &obj, &path)? {
                    props.push((path, value));
                }
            }
            contents.push(ObjectContent { obj, props });
        }
        Ok(contents)
    }

    /// Objects reached through an object spec's `selectSet` traversal specs
    /// (one level: e.g. `ContainerView.view`).
    fn traverse(
        &self,
        session: Option<&Session>,
        root: &MoRef,
        object_spec: &Element,
    ) -> Result<Vec<MoRef>, VimFault> {
        if session.is_none() && object_spec.child("selectSet").is_some() {
            return Err(not_authenticated());
        }
        let mut found = Vec::new();
        for select in object_spec.children_named("selectSet") {
            let (Some(kind), Some(path)) = (select.child_text("type"), select.child_text("path"))
            else {
                continue;
            };
            if kind != root.kind {
                continue;
            }
            match read_property(self, session, root, path)? {
                Some(Value::MoRef(moref)) => found.push(moref),
                Some(Value::MoRefArray(morefs)) => found.extend(morefs),
                _ => {}
            }
        }
        Ok(found)
    }

    pub(super) fn retrieve_properties_ex(
        &self,
        session: Option<&Session>,
        params: &Element,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let contents = self.collect(session, params)?;
        if contents.is_empty() {
            return Ok(());
        }
        w.start("returnval", &[]);
        for content in &contents {
            write_object_content(w, "objects", content);
        }
        w.end("returnval");
        Ok(())
    }

    pub(super) fn retrieve_properties(
        &self,
        session: Option<&Session>,
        params: &Element,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        for content in &self.collect(session, params)? {
            write_object_content(w, "returnval", content);
        }
        Ok(())
    }

    pub(super) fn fetch(
        &self,
        session: Option<&Session>,
        this: &MoRef,
        params: &Element,
        w: &mut SoapWriter,
    ) -> Result<(), VimFault> {
        let path = required_text(params, "prop")?.to_owned();
        let target = vec![(this.clone(), vec![path.clone()])];
        if session.is_none() && !session_free(&target) {
            return Err(not_authenticated());
        }
        match read_property(self, session, this, &path)? {
            None => {}
            Some(value @ (Value::MoRefArray(_) | Value::StringArray(_))) => {
                write_declared(w, "returnval", &value, false);
            }
            Some(value) => write_declared(w, "returnval", &value, true),
        }
        Ok(())
    }
}

fn write_object_content(w: &mut SoapWriter, element: &str, content: &ObjectContent) {
    w.start(element, &[]);
    w.text_element("obj", &[("type", &content.obj.kind)], &content.obj.id);
    for (name, value) in &content.props {
        w.start("propSet", &[]);
        w.text_element("name", &[], name);
        write_any(w, "val", value);
        w.end("propSet");
    }
    w.end(element);
}
