//! Finding clusters the caller can see: a typed query on `vApp` (tenants) or
//! `adminVApp` (System org) filtered on the `cse.cluster.id` metadata, exactly
//! as 1.2.x did, so visibility equals what the caller's own session may query.
//! Also reading a cluster vApp's VMs (name, href, IP, status, CPU, memory).

use cse_core::api::{ApiError, Cluster};
use cse_core::naming::{CLUSTER_QUERY_METADATA_KEYS, METADATA_CLUSTER_ID};

use crate::auth::vcd_failure;
use cse_vcd::vcd::xml::Element;
use cse_vcd::vcd::{Client, Filter, Query, QueryFormat, QueryRecord, VcdError};

/// A cluster found by a query, with the hrefs the operations need.
#[derive(Clone, Debug)]
pub struct FoundCluster {
    /// The list/info document (node arrays empty).
    pub cluster: Cluster,
    /// The vApp's href.
    pub vapp_href: String,
    /// The VDC's href.
    pub vdc_href: String,
}

/// The record attributes a cluster is read from ([`from_record`]).
pub const RECORD_ATTRIBUTES: [&str; 6] = ["id", "name", "vdc", "vdcName", "numberOfVMs", "status"];

/// Every cluster visible to `client`, optionally only those named `name`.
pub async fn find_clusters(
    client: &Client,
    name: Option<&str>,
) -> Result<Vec<FoundCluster>, VcdError> {
    let query = cluster_query(client.is_sysadmin(), name);
    let records = client.query(&query).await?;
    Ok(records
        .into_iter()
        .filter(|record| name.is_none_or(|n| record.name() == Some(n)))
        .map(|record| from_record(client, record))
        .collect())
}

/// The query of [`find_clusters`]: cluster vApps (every org's for a system
/// administrator), optionally only those named `name`.
fn cluster_query(sysadmin: bool, name: Option<&str>) -> Query {
    let type_name = if sysadmin { "adminVApp" } else { "vApp" };
    let mut filter = Filter::default().and_metadata_string(METADATA_CLUSTER_ID, "*");
    if let Some(name) = name {
        filter = filter.and_eq("name", name);
    }
    // vCD sends only the attributes `fields` names (the record's id always),
    // so the page carries what a cluster is read from and nothing more.
    Query::new(type_name, QueryFormat::IdRecords)
        .filter(filter)
        .fields(
            RECORD_ATTRIBUTES
                .iter()
                .filter(|attribute| **attribute != "id")
                .map(|attribute| (*attribute).to_owned())
                .chain(
                    CLUSTER_QUERY_METADATA_KEYS
                        .iter()
                        .map(|key| format!("metadata:{key}")),
                ),
        )
        .reading(RECORD_ATTRIBUTES)
        .page_size(128)
}

/// The one cluster named `name` the caller can see; none or several →
/// `Cluster '<name>' not found.`
pub async fn find_cluster(client: &Client, name: &str) -> Result<FoundCluster, ApiError> {
    let mut found = find_clusters(client, Some(name))
        .await
        .map_err(|e| vcd_failure(&e))?;
    if found.len() == 1 {
        Ok(found.remove(0))
    } else {
        Err(ApiError::ClusterNotFound(name.to_owned()))
    }
}

fn last_segment(urn: &str) -> &str {
    urn.rsplit(':').next().unwrap_or(urn)
}

/// The cluster a record describes; the record's values are moved, not copied
/// (a list reads a hundred records per call).
fn from_record(client: &Client, record: QueryRecord) -> FoundCluster {
    let QueryRecord {
        mut attributes,
        mut metadata,
        ..
    } = record;
    let mut attribute = |name: &str| attributes.remove(name).unwrap_or_default();
    let vapp_id = last_segment(&attribute("id")).to_owned();
    let vdc_id = last_segment(&attribute("vdc")).to_owned();
    let vapp_href = client.api_url(&format!("vApp/vapp-{vapp_id}"));
    let vdc_href = client.api_url(&format!("vdc/{vdc_id}"));
    let mut meta = |key: &str| metadata.remove(key).unwrap_or_default();
    let cluster = Cluster {
        name: attribute("name"),
        vapp_id,
        vapp_href: vapp_href.clone(),
        vdc_name: attribute("vdcName"),
        vdc_href: vdc_href.clone(),
        leader_endpoint: meta(cse_core::naming::METADATA_MASTER_IP),
        master_nodes: Vec::new(),
        nodes: Vec::new(),
        nfs_nodes: Vec::new(),
        number_of_vms: attribute("numberOfVMs"),
        template: meta(cse_core::naming::METADATA_TEMPLATE),
        cse_version: meta(cse_core::naming::METADATA_VERSION),
        cluster_id: meta(METADATA_CLUSTER_ID),
        status: attribute("status"),
    };
    FoundCluster {
        cluster,
        vapp_href,
        vdc_href,
    }
}

/// One VM of a vApp as the handlers need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VmView {
    /// VM name.
    pub name: String,
    /// VM href.
    pub href: String,
    /// First NIC's IP address or `""`.
    pub ip_address: String,
    /// vCD status code.
    pub status: i32,
    /// vCPUs, when the hardware section says.
    pub cpus: Option<u32>,
    /// Memory in MB, when the hardware section says.
    pub memory_mb: Option<u32>,
}

/// The VMs of a vApp document.
pub fn vms_of(vapp: &Element) -> Vec<VmView> {
    vapp.child("Children")
        .map(|children| children.children_named("Vm").map(vm_view).collect())
        .unwrap_or_default()
}

fn vm_view(vm: &Element) -> VmView {
    let hardware = vm.child("VirtualHardwareSection");
    let items: Vec<&Element> = hardware
        .map(|h| h.children_named("Item").collect())
        .unwrap_or_default();
    let quantity = |resource_type: &str| {
        items
            .iter()
            .find(|item| item.child_text("ResourceType") == Some(resource_type))
            .and_then(|item| item.child_text("VirtualQuantity"))
            .and_then(|q| q.trim().parse::<u32>().ok())
    };
    let hardware_ip = items
        .iter()
        .find_map(|item| item.child("Connection").and_then(|c| c.attr("ipAddress")));
    let section_ip = vm
        .descend(&["NetworkConnectionSection", "NetworkConnection", "IpAddress"])
        .map(|e| e.text.as_str());
    VmView {
        name: vm.attr("name").unwrap_or_default().to_owned(),
        href: vm.attr("href").unwrap_or_default().to_owned(),
        ip_address: hardware_ip.or(section_ip).unwrap_or_default().to_owned(),
        status: vm.attr("status").and_then(|s| s.parse().ok()).unwrap_or(6),
        cpus: quantity("3"),
        memory_mb: quantity("4"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_query_names_every_attribute_a_cluster_is_read_from() {
        let query = cluster_query(false, Some("c1"));
        assert_eq!(query.type_name, "vApp");
        assert_eq!(
            query.fields,
            [
                "name",
                "vdc",
                "vdcName",
                "numberOfVMs",
                "status",
                "metadata:cse.cluster.id",
                "metadata:cse.master.ip",
                "metadata:cse.version",
                "metadata:cse.template",
            ]
        );
        assert_eq!(query.attributes, RECORD_ATTRIBUTES);
        assert_eq!(cluster_query(true, None).type_name, "adminVApp");
    }
}
