//! Reading request bodies into state-layer parameters: compose, instantiate,
//! recompose, metadata, tasks, extension services, AMQP settings and OVF
//! descriptors. Unknown elements and attributes are ignored, child order
//! does not matter, booleans accept any case.

use std::net::Ipv4Addr;

use super::ApiError;
use super::xml::{Dom, parse_bool};
use crate::state::admin::ServiceInput;
use crate::state::tasks::TaskInput;
use crate::state::vapps::*;
use crate::state::*;

type PResult<T> = Result<T, ApiError>;

pub fn body_dom(body: &[u8]) -> PResult<Dom> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("The request body is not UTF-8."))?;
    Ok(Dom::parse(text)?)
}

fn href_id(d: &Dom, what: &str) -> PResult<Id> {
    let h = d
        .attr("href")
        .ok_or_else(|| ApiError::bad_request(format!("{what} has no href.")))?;
    uuid_of(h).ok_or_else(|| {
        ApiError::bad_request(format!("{what} href \"{h}\" is not a valid reference."))
    })
}

fn network_configs(params: &Dom) -> PResult<Vec<NetworkConfigParam>> {
    let mut out = Vec::new();
    if let Some(ncs) = params
        .child("InstantiationParams")
        .and_then(|i| i.child("NetworkConfigSection"))
    {
        for nc in ncs.all("NetworkConfig") {
            let name = nc.attr("networkName").unwrap_or_default().to_string();
            let conf = nc.child("Configuration");
            let parent = match conf.and_then(|c| c.child("ParentNetwork")) {
                Some(p) => Some(href_id(p, "ParentNetwork")?),
                None => None,
            };
            let fence = conf
                .and_then(|c| c.child_text("FenceMode"))
                .unwrap_or("bridged")
                .to_string();
            out.push(NetworkConfigParam {
                name,
                parent,
                fence_mode: fence,
            });
        }
    }
    Ok(out)
}

fn sourced_item(item: &Dom) -> PResult<SourcedVm> {
    let src = item
        .child("Source")
        .ok_or_else(|| ApiError::bad_request("SourcedItem has no Source."))?;
    let mut s = SourcedVm {
        source: href_id(src, "Source")?,
        ..Default::default()
    };
    if let Some(g) = item.child("VmGeneralParams") {
        s.name = g.child_text("Name").map(str::to_string);
        s.needs_customization = g.child_bool("NeedsCustomization");
    }
    if let Some(ip) = item.child("InstantiationParams") {
        if let Some(ncs) = ip.child("NetworkConnectionSection") {
            s.primary_nic = ncs
                .child_text("PrimaryNetworkConnectionIndex")
                .and_then(|t| t.parse().ok());
            let mut nics = Vec::new();
            for (n, c) in ncs.all("NetworkConnection").enumerate() {
                let mode = match c.child_text("IpAddressAllocationMode") {
                    Some(m) => IpMode::parse(m).ok_or_else(|| {
                        ApiError::bad_request(format!("Unknown IP allocation mode \"{m}\"."))
                    })?,
                    None => IpMode::Pool,
                };
                let ip = match c.child_text("IpAddress") {
                    Some(t) if !t.is_empty() => Some(t.parse::<Ipv4Addr>().map_err(|_| {
                        ApiError::bad_request(format!("Invalid IP address \"{t}\"."))
                    })?),
                    _ => None,
                };
                nics.push(NicParam {
                    index: c
                        .child_text("NetworkConnectionIndex")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(n as u32),
                    network: c.attr("network").unwrap_or("none").to_string(),
                    ip,
                    mode,
                    connected: c.child_bool("IsConnected").unwrap_or(true),
                    adapter_type: c.child_text("NetworkAdapterType").map(str::to_string),
                });
            }
            s.nics = Some(nics);
        }
        if let Some(gc) = ip.child("GuestCustomizationSection") {
            s.customization = Some(GuestCustomizationParam {
                enabled: gc.child_bool("Enabled"),
                admin_password_enabled: gc.child_bool("AdminPasswordEnabled"),
                admin_password_auto: gc.child_bool("AdminPasswordAuto"),
                admin_password: gc.child_text("AdminPassword").map(str::to_string),
                reset_password_required: gc.child_bool("ResetPasswordRequired"),
                script: gc.child("CustomizationScript").map(|c| c.text.clone()),
                computer_name: gc.child_text("ComputerName").map(str::to_string),
            });
        }
        if let Some(vhs) = ip.child("VirtualHardwareSection") {
            for it in vhs.all("Item") {
                let qty = it
                    .child_text("VirtualQuantity")
                    .and_then(|t| t.parse::<u64>().ok());
                match it.child_text("ResourceType") {
                    Some("3") => s.cpus = qty.map(|q| q as u32),
                    Some("4") => s.memory_mb = qty,
                    _ => {}
                }
            }
        }
    }
    if let Some(sp) = item.child("StorageProfile") {
        s.storage_profile = Some(href_id(sp, "StorageProfile")?);
    }
    Ok(s)
}

/// `ComposeVAppParams` / `InstantiateVAppTemplateParams`.
pub fn create_vapp(d: &Dom) -> PResult<CreateVAppParams> {
    let name = d
        .attr("name")
        .ok_or_else(|| ApiError::bad_request("The vApp name is missing."))?
        .to_string();
    let template = match d.child("Source") {
        Some(s) => Some(href_id(s, "Source")?),
        None => None,
    };
    if d.name == "InstantiateVAppTemplateParams" && template.is_none() {
        return Err(ApiError::bad_request(
            "InstantiateVAppTemplateParams needs a Source template.",
        ));
    }
    Ok(CreateVAppParams {
        name,
        description: d.child_text("Description").unwrap_or_default().to_string(),
        networks: network_configs(d)?,
        template,
        items: d
            .all("SourcedItem")
            .map(sourced_item)
            .collect::<PResult<_>>()?,
        deploy: d.attr("deploy").and_then(parse_bool).unwrap_or(false),
        power_on: d.attr("powerOn").and_then(parse_bool).unwrap_or(false),
    })
}

/// `RecomposeVAppParams`.
pub fn recompose(d: &Dom) -> PResult<RecomposeParams> {
    Ok(RecomposeParams {
        add: d
            .all("SourcedItem")
            .map(sourced_item)
            .collect::<PResult<_>>()?,
        delete: d
            .all("DeleteItem")
            .map(|x| href_id(x, "DeleteItem"))
            .collect::<PResult<_>>()?,
        deploy: d.attr("deploy").and_then(parse_bool).unwrap_or(false),
        power_on: d.attr("powerOn").and_then(parse_bool).unwrap_or(false),
    })
}

fn meta_value(tv: &Dom) -> PResult<(MetaType, String)> {
    let kind = tv
        .attr("type")
        .and_then(MetaType::parse)
        .ok_or_else(|| ApiError::bad_request("TypedValue needs an xsi:type of MetadataStringValue, MetadataNumberValue, MetadataBooleanValue or MetadataDateTimeValue."))?;
    Ok((
        kind,
        tv.child("Value")
            .map(|v| v.text.clone())
            .unwrap_or_default(),
    ))
}

fn domain_of(d: Option<&Dom>) -> PResult<(Domain, String)> {
    match d {
        None => Ok((Domain::General, "READWRITE".into())),
        Some(d) => {
            let domain = Domain::parse(&d.text).ok_or_else(|| {
                ApiError::bad_request(format!("Unknown metadata domain \"{}\".", d.text.trim()))
            })?;
            Ok((
                domain,
                d.attr("visibility")
                    .unwrap_or("READWRITE")
                    .to_ascii_uppercase(),
            ))
        }
    }
}

/// `Metadata` with entries.
pub fn metadata(d: &Dom) -> PResult<Vec<MetaEntry>> {
    let mut out = Vec::new();
    for e in d.all("MetadataEntry") {
        let key = e
            .child_text("Key")
            .ok_or_else(|| ApiError::bad_request("MetadataEntry has no Key."))?
            .to_string();
        let tv = e
            .child("TypedValue")
            .ok_or_else(|| ApiError::bad_request("MetadataEntry has no TypedValue."))?;
        let (kind, value) = meta_value(tv)?;
        let (domain, visibility) = domain_of(e.child("Domain"))?;
        out.push(MetaEntry {
            domain,
            visibility,
            key,
            kind,
            value,
        });
    }
    Ok(out)
}

/// `MetadataValue` for one key.
pub fn metadata_value(d: &Dom, key: &str, domain: Option<Domain>) -> PResult<MetaEntry> {
    let tv = d
        .child("TypedValue")
        .ok_or_else(|| ApiError::bad_request("MetadataValue has no TypedValue."))?;
    let (kind, value) = meta_value(tv)?;
    let (mut dom, mut vis) = domain_of(d.child("Domain"))?;
    if d.child("Domain").is_none()
        && let Some(x) = domain
    {
        dom = x;
        vis = if x == Domain::System {
            "READONLY".into()
        } else {
            "READWRITE".into()
        };
    }
    Ok(MetaEntry {
        domain: dom,
        visibility: vis,
        key: key.to_string(),
        kind,
        value,
    })
}

/// A `Task` written by an extension.
pub fn task(d: &Dom) -> PResult<TaskInput> {
    let status = match d.attr("status") {
        Some(s) => Some(
            TaskStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("Unknown task status \"{s}\".")))?,
        ),
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

/// `vmext:Service`.
pub fn service(d: &Dom) -> PResult<ServiceInput> {
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
pub fn amqp(d: &Dom) -> PResult<AmqpSettings> {
    let text = |n: &str| d.child_text(n).unwrap_or_default().to_string();
    let port = d
        .child_text("AmqpPort")
        .unwrap_or("5672")
        .parse::<u16>()
        .map_err(|_| ApiError::bad_request("AmqpPort must be a port number."))?;
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

/// An OVF envelope: virtual systems, networks, referenced files.
pub fn ovf(d: &Dom) -> PResult<OvfDescriptor> {
    if d.name != "Envelope" {
        return Err(ApiError::bad_request(format!(
            "The OVF descriptor's root is <{}>, not <Envelope>.",
            d.name
        )));
    }
    let files = d
        .child("References")
        .map(|r| {
            r.all("File")
                .map(|f| {
                    (
                        f.attr("href").unwrap_or_default().to_string(),
                        f.attr("size").and_then(|s| s.parse().ok()).unwrap_or(-1),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let networks = d
        .child("NetworkSection")
        .map(|n| {
            n.all("Network")
                .filter_map(|x| x.attr("name").map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut systems: Vec<&Dom> = d.all("VirtualSystem").collect();
    if let Some(coll) = d.child("VirtualSystemCollection") {
        systems.extend(coll.all("VirtualSystem"));
    }
    let mut vms = Vec::new();
    for vs in systems {
        let name = vs
            .child_text("Name")
            .map(str::to_string)
            .or_else(|| vs.attr("id").map(str::to_string))
            .unwrap_or_else(|| "vm".into());
        let os = vs.child("OperatingSystemSection");
        let mut vm = OvfVm {
            name,
            cpus: 1,
            cores_per_socket: 1,
            memory_mb: 1024,
            disk_mb: 0,
            os_type: os
                .and_then(|o| o.attr("osType"))
                .unwrap_or("otherLinux64Guest")
                .to_string(),
            os_hint: os
                .and_then(|o| o.child_text("Description"))
                .unwrap_or_default()
                .to_string(),
            nics: Vec::new(),
        };
        if let Some(hw) = vs.child("VirtualHardwareSection") {
            for it in hw.all("Item") {
                let qty = it
                    .child_text("VirtualQuantity")
                    .and_then(|t| t.parse::<u64>().ok());
                match it.child_text("ResourceType") {
                    Some("3") => vm.cpus = qty.unwrap_or(1) as u32,
                    Some("4") => {
                        let units = it.child_text("AllocationUnits").unwrap_or("byte * 2^20");
                        let q = qty.unwrap_or(1024);
                        vm.memory_mb = if units.contains("2^30") { q * 1024 } else { q };
                    }
                    Some("10") => {
                        let idx = it
                            .child_text("AddressOnParent")
                            .and_then(|t| t.parse().ok())
                            .unwrap_or(vm.nics.len() as u32);
                        vm.nics.push((
                            idx,
                            it.child_text("Connection").unwrap_or("none").to_string(),
                        ));
                    }
                    _ => {}
                }
                if let Some(c) = it.child_text("CoresPerSocket").and_then(|t| t.parse().ok()) {
                    vm.cores_per_socket = c;
                }
            }
        }
        if let Some(ds) = d.child("DiskSection") {
            vm.disk_mb = ds
                .all("Disk")
                .map(|x| {
                    let cap: u64 = x.attr("capacity").and_then(|c| c.parse().ok()).unwrap_or(0);
                    let units = x.attr("capacityAllocationUnits").unwrap_or("byte");
                    if units.contains("2^30") {
                        cap * 1024
                    } else if units.contains("2^20") {
                        cap
                    } else {
                        cap / (1024 * 1024)
                    }
                })
                .sum();
        }
        vms.push(vm);
    }
    Ok(OvfDescriptor {
        vms,
        networks,
        files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ovf_descriptor_is_read() {
        let d = Dom::parse(
            r#"<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
                 xmlns:rasd="r" xmlns:vmw="v">
              <References><File ovf:href="disk1.vmdk" ovf:id="file1" ovf:size="2048"/></References>
              <DiskSection><Info/><Disk ovf:capacity="20" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1"/></DiskSection>
              <NetworkSection><Info/><Network ovf:name="VM Network"/></NetworkSection>
              <VirtualSystem ovf:id="photon2"><Info/><Name>photon2-temp</Name>
                <OperatingSystemSection ovf:id="100" vmw:osType="other3xLinux64Guest"><Info/><Description>Photon OS</Description></OperatingSystemSection>
                <VirtualHardwareSection><Info/>
                  <Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
                  <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2048</rasd:VirtualQuantity></Item>
                  <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:ResourceType>10</rasd:ResourceType></Item>
                </VirtualHardwareSection></VirtualSystem></Envelope>"#,
        )
        .unwrap();
        let o = ovf(&d).unwrap();
        assert_eq!(o.files, vec![("disk1.vmdk".to_string(), 2048)]);
        assert_eq!(o.networks, vec!["VM Network".to_string()]);
        assert_eq!(o.vms[0].name, "photon2-temp");
        assert_eq!(
            (o.vms[0].cpus, o.vms[0].memory_mb, o.vms[0].disk_mb),
            (2, 2048, 20 * 1024)
        );
        assert_eq!(o.vms[0].nics, vec![(0, "VM Network".to_string())]);
        assert_eq!(o.vms[0].os_type, "other3xLinux64Guest");
    }

    #[test]
    fn metadata_without_domain_is_general() {
        let d = Dom::parse(
            r#"<Metadata><MetadataEntry type="xs:string"><Key>cse.cluster.id</Key>
               <TypedValue xsi:type="MetadataStringValue" xmlns:xsi="x"><Value>abc</Value></TypedValue></MetadataEntry></Metadata>"#,
        )
        .unwrap();
        let m = metadata(&d).unwrap();
        assert_eq!(m[0].domain, Domain::General);
        assert_eq!(m[0].visibility, "READWRITE");
        assert_eq!(m[0].value, "abc");
    }
}
