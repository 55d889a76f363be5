//! Install step 5, per template: the source OVA in the catalog, the temporary
//! vApp instantiated from it with the init script, customized through guest
//! operations with the cust script, captured into the catalog, then cleaned up.
//!
//! Resumability: a finished template is found and kept (unless `--update`); an
//! incomplete catalog item is deleted; a temp vApp without the
//! [`CUSTOMIZED_MARKER`] metadata is never trusted: it is deleted and rebuilt.

use cse_core::config::{IpAllocationMode, TemplateConfig};
use cse_core::vcd::params::{Source, TargetCatalogItem};
use cse_core::vcd::sections::{NetworkConfig, NetworkConnection};
use cse_core::vcd::sections::{NetworkConfigSection, NetworkConnectionSection};
use cse_core::vcd::{
    CaptureVAppParams, Catalog, CatalogItem, CustomizationSection, GuestCustomizationSection,
    HardwareItem, HasLinks, InstantiateVAppTemplateParams, InstantiationParams, Metadata,
    MetadataEntry, SourcedItem, VApp, VAppTemplate, Vdc, VirtualHardwareSection, VmGeneralParams,
};
use tokio::time::Instant;

use super::{ova, scripts, upload};
use crate::cli::CliContext;
use crate::cli::check::Validated;
use crate::cli::error::CliError;
use crate::cli::lookup;
use cse_vcd::vcd::Client;
use cse_vcd::vsphere::{GuestCredentials, PollSettings, VcenterPool};

/// Metadata key set on the temp vApp once its customization succeeded.
pub const CUSTOMIZED_MARKER: &str = "cse.install.customized";

/// Options of a template build.
#[derive(Clone, Copy, Debug)]
pub struct BuildOptions<'a> {
    /// Rebuild even when the template exists.
    pub update: bool,
    /// Keep the customized temp vApp instead of capturing it.
    pub no_capture: bool,
    /// Public key authorised for root in the temp vApp.
    pub ssh_key: Option<&'a str>,
}

/// Makes sure `template` exists, complete, in `catalog`.
pub async fn ensure(
    validated: &Validated,
    catalog: &Catalog,
    template: &TemplateConfig,
    options: &BuildOptions<'_>,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let client = &validated.client;
    let broker = &validated.config.broker;
    let scripts = scripts::for_template(&template.name).ok_or_else(|| {
        CliError::Missing(format!(
            "No scripts for template '{}' (known: photon-v2, ubuntu-16.04)",
            template.name
        ))
    })?;
    let vdc = find_vdc(client, &broker.org, &broker.vdc).await?;
    let catalog = refresh(client, catalog).await?;

    if options.update {
        for name in [&template.catalog_item, &template.source_ova_name] {
            if let Some((item, _)) = lookup::find_item(client, &catalog, name).await? {
                lookup::delete_item(client, &item).await?;
                ctx.say(format!("Deleted catalog item '{name}' (--update)"));
            }
        }
        if let Some(href) = lookup::vapp_href(&vdc, &template.temp_vapp) {
            lookup::delete_vapp(client, &href).await?;
            ctx.say(format!(
                "Deleted temp vApp '{}' (--update)",
                template.temp_vapp
            ));
        }
    } else {
        match lookup::find_item(client, &catalog, &template.catalog_item).await? {
            Some((_, Some(t))) if lookup::template_is_complete(&t) => {
                ctx.say(format!(
                    "Found template '{}' in catalog '{}'",
                    template.catalog_item, catalog.name
                ));
                if template.cleanup
                    && let Some(href) = lookup::vapp_href(&vdc, &template.temp_vapp)
                {
                    lookup::delete_vapp(client, &href).await?;
                    ctx.say(format!(
                        "Deleted temp vApp '{}' left by an earlier install",
                        template.temp_vapp
                    ));
                }
                return Ok(());
            }
            Some((item, _)) => {
                lookup::delete_item(client, &item).await?;
                ctx.say(format!(
                    "Deleted incomplete template '{}' left by an interrupted install",
                    template.catalog_item
                ));
            }
            None => {}
        }
    }

    let vdc = find_vdc(client, &broker.org, &broker.vdc).await?;
    let vapp_href = match lookup::vapp_href(&vdc, &template.temp_vapp) {
        Some(href) if is_customized(client, &href).await? => {
            ctx.say(format!(
                "Reusing temp vApp '{}' (customization finished earlier)",
                template.temp_vapp
            ));
            href
        }
        leftover => {
            if let Some(href) = leftover {
                lookup::delete_vapp(client, &href).await?;
                ctx.say(format!(
                    "Deleted temp vApp '{}' left by an interrupted install (not trusted)",
                    template.temp_vapp
                ));
            }
            let source = ensure_ova_item(client, &catalog, template, ctx).await?;
            let init = scripts::init_with_key(scripts.init, options.ssh_key);
            let href = instantiate(validated, &vdc, &source, template, &init, ctx).await?;
            customize(validated, &href, template, scripts.cust, ctx).await?;
            mark_customized(client, &href).await?;
            href
        }
    };

    if options.no_capture {
        ctx.say(format!(
            "Temp vApp '{}' kept customized and not captured (--no-capture)",
            template.temp_vapp
        ));
        return Ok(());
    }
    capture(client, &catalog, &vapp_href, template, ctx).await?;
    if template.cleanup {
        lookup::delete_vapp(client, &vapp_href).await?;
        ctx.say(format!("Deleted temp vApp '{}'", template.temp_vapp));
    } else {
        power_on(client, &vapp_href).await?;
        ctx.say(format!(
            "Temp vApp '{}' kept (cleanup: false)",
            template.temp_vapp
        ));
    }
    Ok(())
}

async fn find_vdc(client: &Client, org: &str, vdc: &str) -> Result<Vdc, CliError> {
    lookup::find_vdc(client, org, vdc)
        .await?
        .ok_or_else(|| CliError::Missing(format!("VDC '{vdc}' not found in org '{org}'")))
}

async fn refresh(client: &Client, catalog: &Catalog) -> Result<Catalog, CliError> {
    Ok(client.get_doc(&catalog.href).await?)
}

async fn is_customized(client: &Client, vapp_href: &str) -> Result<bool, CliError> {
    let metadata: Metadata = client.get_doc(&format!("{vapp_href}/metadata")).await?;
    Ok(metadata.get(CUSTOMIZED_MARKER) == Some("true"))
}

async fn mark_customized(client: &Client, vapp_href: &str) -> Result<(), CliError> {
    let answer = client
        .post_doc(
            &format!("{vapp_href}/metadata"),
            &Metadata::with_entries(vec![MetadataEntry::string(CUSTOMIZED_MARKER, "true")]),
        )
        .await?;
    if let Some(task) = client.wait_for_answer(&answer).await? {
        task.into_result()?;
    }
    Ok(())
}

/// The uploaded OVA's template (uploaded now when missing or incomplete).
async fn ensure_ova_item(
    client: &Client,
    catalog: &Catalog,
    template: &TemplateConfig,
    ctx: &mut CliContext<'_>,
) -> Result<VAppTemplate, CliError> {
    let name = &template.source_ova_name;
    match lookup::find_item(client, catalog, name).await? {
        Some((_, Some(t))) if lookup::template_is_complete(&t) => {
            ctx.say(format!("Found OVA '{name}' in catalog '{}'", catalog.name));
            return Ok(t);
        }
        Some((item, _)) => {
            lookup::delete_item(client, &item).await?;
            ctx.say(format!("Deleted incomplete upload of '{name}'"));
        }
        None => {}
    }
    let file = ova::obtain(template, ctx).await?;
    let unpacked = ova::unpack(&file, &ctx.cache_dir).await?;
    ctx.say(format!("Uploading '{name}' to catalog '{}'", catalog.name));
    let catalog = refresh(client, catalog).await?;
    let result = upload::upload(client, &catalog, name, &unpacked, ctx.progress).await;
    unpacked.remove();
    let item: CatalogItem = result?;
    ctx.say(format!("Uploaded '{name}'"));
    Ok(client.get_doc(&item.entity.href).await?)
}

/// The temp vApp request (spec cse-original §4.4 step 3).
pub fn instantiate_params(
    source: &VAppTemplate,
    template: &TemplateConfig,
    network: &str,
    network_href: &str,
    ip_mode: IpAllocationMode,
    storage_profile: Option<cse_core::vcd::vapp::StorageProfile>,
    init_script: &str,
) -> Result<InstantiateVAppTemplateParams, CliError> {
    let vm = source.vms().first().ok_or_else(|| {
        CliError::Missing(format!("the OVA template '{}' holds no VM", source.name))
    })?;
    let mut nic = NetworkConnection::pool(network, 0);
    nic.ip_address_allocation_mode = Some(ip_mode.as_str().to_ascii_uppercase());
    nic.network_adapter_type = Some("vmxnet3".to_owned());
    let mut nics = NetworkConnectionSection::request(vec![nic]);
    nics.primary_network_connection_index = Some(0);
    let hardware = VirtualHardwareSection {
        info: Some(String::new()),
        items: vec![
            HardwareItem {
                resource_type: 3,
                virtual_quantity: Some(u64::from(template.cpu)),
                ..HardwareItem::default()
            },
            HardwareItem {
                resource_type: 4,
                virtual_quantity: Some(u64::from(template.mem)),
                ..HardwareItem::default()
            },
        ],
        ..VirtualHardwareSection::default()
    };
    let customization = GuestCustomizationSection {
        info: Some(String::new()),
        enabled: Some(true),
        admin_password_enabled: Some(false),
        customization_script: Some(init_script.to_owned()),
        computer_name: Some(template.temp_vapp.clone()),
        ..GuestCustomizationSection::default()
    };
    Ok(InstantiateVAppTemplateParams {
        name: template.temp_vapp.clone(),
        deploy: Some(true),
        power_on: Some(true),
        description: Some(format!(
            "Temporary vApp building template '{}'",
            template.name
        )),
        instantiation_params: Some(InstantiationParams {
            network_config_section: Some(NetworkConfigSection::request(vec![
                NetworkConfig::bridged(network, network_href),
            ])),
            ..InstantiationParams::default()
        }),
        source: Source {
            href: source.href.clone(),
            ..Source::default()
        },
        sourced_items: vec![SourcedItem {
            source_delete: None,
            source: Source {
                href: vm.href.clone(),
                name: Some(vm.name.clone()),
                ..Source::default()
            },
            vm_general_params: Some(VmGeneralParams {
                name: template.temp_vapp.clone(),
                description: None,
                needs_customization: Some(true),
            }),
            instantiation_params: Some(InstantiationParams {
                network_connection_section: Some(nics),
                virtual_hardware_section: Some(hardware),
                guest_customization_section: Some(customization),
                ..InstantiationParams::default()
            }),
            storage_profile,
        }],
        all_eulas_accepted: Some(true),
    })
}

async fn instantiate(
    validated: &Validated,
    vdc: &Vdc,
    source: &VAppTemplate,
    template: &TemplateConfig,
    init_script: &str,
    ctx: &mut CliContext<'_>,
) -> Result<String, CliError> {
    let client = &validated.client;
    let broker = &validated.config.broker;
    let network = vdc.network(&broker.network).ok_or_else(|| {
        CliError::Missing(format!(
            "Network '{}' not found in VDC '{}'",
            broker.network, broker.vdc
        ))
    })?;
    let storage_profile = match vdc.storage_profile(&broker.storage_profile) {
        Some(p) => Some(cse_core::vcd::vapp::StorageProfile {
            href: p.href.clone(),
            id: p.id.clone(),
            name: p.name.clone(),
            media_type: p.media_type.clone(),
        }),
        None if broker.storage_profile == "*" => None,
        None => {
            return Err(CliError::Missing(format!(
                "Storage profile '{}' not found in VDC '{}'",
                broker.storage_profile, broker.vdc
            )));
        }
    };
    let params = instantiate_params(
        source,
        template,
        &broker.network,
        &network.href,
        broker.ip_allocation_mode,
        storage_profile,
        init_script,
    )?;
    ctx.say(format!(
        "Creating temp vApp '{}' from '{}'",
        template.temp_vapp, template.source_ova_name
    ));
    let href = vdc
        .instantiate_href()
        .map_err(|e| CliError::Missing(format!("VDC '{}': {e}", broker.vdc)))?;
    let answer = client.post_doc(href, &params).await?;
    let vapp: VApp = answer.parse()?;
    if let Some(task) = client.wait_for_answer(&answer).await? {
        task.into_result()?;
    }
    ctx.say(format!("Created temp vApp '{}'", template.temp_vapp));
    Ok(vapp.href)
}

async fn customize(
    validated: &Validated,
    vapp_href: &str,
    template: &TemplateConfig,
    cust_script: &str,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    let client = &validated.client;
    let config = &validated.config;
    let vapp: VApp = client.get_doc(vapp_href).await?;
    let vm = vapp.vms().first().ok_or_else(|| {
        CliError::Missing(format!("temp vApp '{}' holds no VM", template.temp_vapp))
    })?;
    let password = vm.admin_password().map(str::to_owned).ok_or_else(|| {
        CliError::Missing(format!(
            "VM '{}' shows no admin password (read as system administrator?)",
            vm.name
        ))
    })?;
    let pool = VcenterPool::from_config(config);
    let target = pool.target_for_vm(client, &vm.href).await?;
    let poll = PollSettings::from_config(&config.timeouts);
    let credentials = GuestCredentials::root(cse_core::config::Secret::new(password));
    ctx.say(format!("Waiting for VM '{}' to be ready", vm.name));
    let deadline = Instant::now() + config.timeouts.tools_ready.duration();
    target
        .session
        .wait_until_ready(&target.vm, &credentials, poll, deadline)
        .await?;
    ctx.say(format!("Customizing VM '{}' (cust script)", vm.name));
    let deadline = Instant::now() + config.timeouts.script.duration();
    let output = target
        .session
        .run_script(&target.vm, &credentials, cust_script, poll, deadline)
        .await?;
    pool.logout_all().await;
    if !output.success() {
        let tail: String = output
            .stderr
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n");
        return Err(CliError::Customize {
            template: template.name.clone(),
            vm: vm.name.clone(),
            code: output.exit_code,
            stderr: tail,
        });
    }
    ctx.say(format!("Customized VM '{}'", vm.name));
    Ok(())
}

async fn shutdown(client: &Client, vapp_href: &str) -> Result<(), CliError> {
    let vapp: VApp = client.get_doc(vapp_href).await?;
    for rel in ["power:shutdown", "power:powerOff"] {
        if let Ok(href) = vapp.link_href(rel, None) {
            match client.post_empty(href).await {
                Ok(answer) => {
                    if let Some(task) = client.wait_for_answer(&answer).await? {
                        task.into_result()?;
                    }
                    return Ok(());
                }
                // "not supported" (no tools) falls through to power off.
                Err(e) if e.status() == Some(400) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

async fn power_on(client: &Client, vapp_href: &str) -> Result<(), CliError> {
    let vapp: VApp = client.get_doc(vapp_href).await?;
    if let Ok(href) = vapp.link_href("power:powerOn", None) {
        let answer = client.post_empty(href).await?;
        if let Some(task) = client.wait_for_answer(&answer).await? {
            task.into_result()?;
        }
    }
    Ok(())
}

/// The capture request (spec vcd-rest §5.5).
pub fn capture_params(
    vapp_href: &str,
    template: &TemplateConfig,
    target: Option<&CatalogItem>,
) -> CaptureVAppParams {
    CaptureVAppParams {
        name: template.catalog_item.clone(),
        description: Some(template.description.clone()),
        source: Source {
            href: vapp_href.to_owned(),
            ..Source::default()
        },
        customization_section: Some(CustomizationSection {
            info: Some("VApp template customization section".to_owned()),
            customize_on_instantiate: true,
        }),
        target_catalog_item: target.map(|item| TargetCatalogItem {
            href: item.href.clone(),
            id: item.id.clone(),
            name: Some(item.name.clone()),
            media_type: item.media_type.clone(),
        }),
    }
}

async fn capture(
    client: &Client,
    catalog: &Catalog,
    vapp_href: &str,
    template: &TemplateConfig,
    ctx: &mut CliContext<'_>,
) -> Result<(), CliError> {
    shutdown(client, vapp_href).await?;
    let catalog = refresh(client, catalog).await?;
    let existing = lookup::find_item(client, &catalog, &template.catalog_item).await?;
    let params = capture_params(vapp_href, template, existing.as_ref().map(|(i, _)| i));
    ctx.say(format!(
        "Capturing temp vApp '{}' as '{}'",
        template.temp_vapp, template.catalog_item
    ));
    let href = catalog
        .capture_href()
        .map_err(|e| CliError::Missing(format!("catalog '{}': {e}", catalog.name)))?;
    let answer = client.post_doc(href, &params).await?;
    let failed = |cause: String| {
        CliError::Missing(format!(
            "Capturing temp vApp '{}' as '{}' failed: {cause}",
            template.temp_vapp, template.catalog_item
        ))
    };
    let root = answer.element()?.map(|e| e.name);
    let template_href = if root.as_deref() == Some("Task") {
        // Since vCD 5.5 a capture into a catalog answers 202 with the task
        // (spec vcd-rest §5.5); its Owner is the new template.
        let task = client
            .wait_for_answer(&answer)
            .await
            .map_err(|e| failed(e.to_string()))?
            .ok_or_else(|| failed("vCD answered without a task".to_owned()))?
            .into_result()
            .map_err(|e| failed(e.to_string()))?;
        task.owner_href
            .ok_or_else(|| failed(format!("the capture task {} names no template", task.href)))?
    } else {
        // The deprecated VDC capture's answer: the template, its task inside.
        let captured: VAppTemplate = answer.parse()?;
        if let Some(task) = client.wait_for_answer(&answer).await? {
            task.into_result().map_err(|e| failed(e.to_string()))?;
        }
        captured.href
    };
    upload::wait_resolved(client, &template_href).await?;
    ctx.say(format!(
        "Created template '{}' in catalog '{}'",
        template.catalog_item, catalog.name
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cse_core::vcd::VcdDocument;
    use cse_core::vcd::vapp::StorageProfile;

    fn photon() -> TemplateConfig {
        cse_core::config::sample_model()
            .template("photon-v2")
            .unwrap()
            .clone()
    }

    fn ova_template() -> VAppTemplate {
        VAppTemplate::from_xml(
            r#"<VAppTemplate xmlns="http://www.vmware.com/vcloud/v1.5" name="photon.ova" status="8"
                 href="https://vcd/api/vAppTemplate/vappTemplate-1">
              <Children><Vm name="photon2-temp" href="https://vcd/api/vAppTemplate/vm-2"/></Children>
            </VAppTemplate>"#,
        )
        .unwrap()
    }

    #[test]
    fn temp_vapp_request() {
        let params = instantiate_params(
            &ova_template(),
            &photon(),
            "net1",
            "https://vcd/api/network/3",
            IpAllocationMode::Pool,
            Some(StorageProfile {
                href: "https://vcd/api/vdcStorageProfile/4".into(),
                name: Some("*".into()),
                ..StorageProfile::default()
            }),
            "#!/bin/sh\ntrue\n",
        )
        .unwrap();
        insta::assert_snapshot!(params.to_xml().unwrap());
    }

    #[test]
    fn temp_vapp_request_needs_a_vm() {
        let empty = VAppTemplate::from_xml(
            r#"<VAppTemplate xmlns="http://www.vmware.com/vcloud/v1.5" name="x.ova" href="h"/>"#,
        )
        .unwrap();
        let err = instantiate_params(
            &empty,
            &photon(),
            "n",
            "h",
            IpAllocationMode::Dhcp,
            None,
            "",
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "the OVA template 'x.ova' holds no VM");
    }

    #[test]
    fn capture_request_overwriting_an_item() {
        let item = CatalogItem {
            href: "https://vcd/api/catalogItem/5".into(),
            name: "photon-custom-hw11-2.0-304b817-k8s".into(),
            ..CatalogItem::default()
        };
        let params = capture_params("https://vcd/api/vApp/vapp-6", &photon(), Some(&item));
        insta::assert_snapshot!(params.to_xml().unwrap());
    }

    #[test]
    fn customized_marker_document() {
        let doc = Metadata::with_entries(vec![MetadataEntry::string(CUSTOMIZED_MARKER, "true")]);
        insta::assert_snapshot!(doc.to_xml().unwrap());
    }
}
