//! Output of `vcd-cse`: tables in vcd-cli's look (python-tabulate "simple": a header, a dashed
//! underline, columns two spaces apart, numbers right-aligned, no borders) drawn with
//! comfy-table, property/value tables for single objects, and `--json` documents (keys sorted,
//! four-space indent, as vcd-cli prints them).
//!
//! All renderers are pure functions over typed values, so every output has a golden test.
//! Text from the network is sanitised: control characters other than line breaks are
//! replaced, so a hostile server cannot send terminal escape sequences.

use comfy_table::{
    CellAlignment, ColumnConstraint, ContentArrangement, ContentLineStyle, LineStyle, Table,
    TableStyle, Width,
};
use cse_core::api::{
    Cluster, ClusterTaskReply, CreateClusterReply, MessageBody, NodeInfo, SystemInfo, TemplateEntry,
};
use serde::Serialize;
use serde_json::Value;

use super::wait::TaskState;

pub use crate::terminal::sanitize;

/// Placeholder junction drawn by comfy-table and replaced by the two-space column gap
/// (comfy-table junctions are one character; sanitised cell text never contains it).
const GAP_MARK: char = '\u{1f}';
/// The gap between columns.
const GAP: &str = "  ";

const TABULATE_SIMPLE: TableStyle = TableStyle::new()
    .header_lines(ContentLineStyle::none().junction(GAP_MARK))
    .header_separator(LineStyle::none().fill('-').junction(GAP_MARK))
    .content_lines(ContentLineStyle::none().junction(GAP_MARK));

/// A table with the given headers and rows (each row as long as `headers`), in tabulate's
/// "simple" look. Columns whose non-empty cells are all numbers are right-aligned; every
/// column is at least its header plus two characters wide (tabulate's minimum padding).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut table = Table::new();
    table
        .load_style(TABULATE_SIMPLE)
        .force_no_tty()
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| sanitize(h)));
    for row in rows {
        table.add_row(row.iter().map(|c| sanitize(c)));
    }
    for (index, header) in headers.iter().enumerate() {
        let numeric = is_numeric_column(rows, index);
        if let Some(column) = table.column_mut(index) {
            column.set_padding((0, 0));
            let min_width = u16::try_from(header.chars().count() + 2).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min_width)));
            if numeric {
                column.set_cell_alignment(CellAlignment::Right);
            }
        }
    }
    let gap_mark = GAP_MARK.to_string();
    table
        .lines()
        .map(|line| line.replace(&gap_mark, GAP).trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_numeric_column(rows: &[Vec<String>], index: usize) -> bool {
    let mut cells = rows
        .iter()
        .filter_map(|row| row.get(index))
        .filter(|c| !c.trim().is_empty())
        .peekable();
    cells.peek().is_some() && cells.all(|c| c.trim().parse::<f64>().is_ok())
}

/// A two-column `property`/`value` table of `(key, value)` pairs, sorted by key (vcd-cli's
/// look for single objects).
pub fn property_table(mut pairs: Vec<(String, String)>) -> String {
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let rows: Vec<Vec<String>> = pairs.into_iter().map(|(k, v)| vec![k, v]).collect();
    table(&["property", "value"], &rows)
}

/// The `property`/`value` table of any object: every key of its JSON form, sorted; lists
/// become one line per item.
pub fn object_table<T: Serialize>(value: &T) -> String {
    let pairs = match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map.into_iter().map(|(k, v)| (k, value_text(&v))).collect(),
        Ok(other) => vec![("value".to_owned(), value_text(&other))],
        Err(e) => vec![("error".to_owned(), e.to_string())],
    };
    property_table(pairs)
}

/// One cell's text for a JSON value: strings as they are, numbers and booleans in JSON
/// spelling, `null` empty, lists one item per line, a node `{name, ipAddress}` as
/// `name (ip)`, other objects as `key: value` lines.
pub fn value_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(value_text).collect::<Vec<_>>().join("\n"),
        Value::Object(map) => match (map.get("name"), map.get("ipAddress")) {
            (Some(Value::String(name)), Some(Value::String(ip))) if map.len() == 2 => {
                if ip.is_empty() {
                    name.clone()
                } else {
                    format!("{name} ({ip})")
                }
            }
            _ => map
                .iter()
                .map(|(k, v)| format!("{k}: {}", value_text(v)))
                .collect::<Vec<_>>()
                .join("\n"),
        },
    }
}

/// `--json` output: keys sorted, four-space indent.
pub fn to_json<T: Serialize>(value: &T) -> String {
    let value = serde_json::to_value(value)
        .map(sort_keys)
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    match value.serialize(&mut serializer) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(e) => format!("{{\"error\": \"{e}\"}}"),
    }
}

fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// `cluster list`: name, IP master, template, VMs, vdc, status.
pub fn clusters_table(clusters: &[Cluster]) -> String {
    let rows: Vec<Vec<String>> = clusters
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.leader_endpoint.clone(),
                c.template.clone(),
                c.number_of_vms.clone(),
                c.vdc_name.clone(),
                c.status.clone(),
            ]
        })
        .collect();
    table(
        &["name", "IP master", "template", "VMs", "vdc", "status"],
        &rows,
    )
}

/// `cluster info`: every key of the cluster object; node lists one `name (ip)` per line.
pub fn cluster_info_table(cluster: &Cluster) -> String {
    object_table(cluster)
}

/// `node list`: the masters and workers of a cluster (NFS nodes are not listed, as in
/// vcd-cli).
pub fn nodes_table(cluster: &Cluster) -> String {
    let rows: Vec<Vec<String>> = cluster
        .master_nodes
        .iter()
        .chain(&cluster.nodes)
        .map(|n| vec![n.name.clone(), n.ip_address.clone()])
        .collect();
    table(&["name", "ipAddress"], &rows)
}

/// The JSON of `node list`: masters then workers.
pub fn nodes_json(cluster: &Cluster) -> String {
    let nodes: Vec<_> = cluster.master_nodes.iter().chain(&cluster.nodes).collect();
    to_json(&nodes)
}

/// `node info`.
pub fn node_info_table(node: &NodeInfo) -> String {
    object_table(node)
}

/// `template list`: name, description, catalog, catalog_item, is_default.
pub fn templates_table(templates: &[TemplateEntry]) -> String {
    let rows: Vec<Vec<String>> = templates
        .iter()
        .map(|t| {
            vec![
                t.name.clone(),
                t.description.clone(),
                t.catalog.clone(),
                t.catalog_item.clone(),
                t.is_default.to_string(),
            ]
        })
        .collect();
    table(
        &[
            "name",
            "description",
            "catalog",
            "catalog_item",
            "is_default",
        ],
        &rows,
    )
}

/// `system info`.
pub fn system_info_table(info: &SystemInfo) -> String {
    object_table(info)
}

/// `system enable|disable|stop`: the server's message.
pub fn message_table(message: &MessageBody) -> String {
    object_table(message)
}

/// `cluster create` without `--wait`.
pub fn create_cluster_reply_table(reply: &CreateClusterReply) -> String {
    object_table(reply)
}

/// `cluster delete`, `node create|delete` without `--wait`.
pub fn task_reply_table(reply: &ClusterTaskReply) -> String {
    object_table(reply)
}

/// `version`.
pub fn version_text(info: &SystemInfo) -> String {
    format!(
        "{}, {}, version {}",
        info.product, info.description, info.version
    )
}

/// `login`.
pub fn login_text(user: &str, org: &str, vdc: &str) -> String {
    sanitize(&format!("{user} logged in, org: '{org}', vdc: '{vdc}'"))
}

/// The JSON of `login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoginResult {
    /// User name.
    pub user: String,
    /// Organization.
    pub org: String,
    /// VDC in use.
    pub vdc: String,
    /// Always true.
    pub logged_in: bool,
}

/// The last line of a followed task that succeeded: `task: <id>, <operation>, result: success`.
pub fn task_result_text(task: &TaskState) -> String {
    sanitize(&format!(
        "task: {}, {}, result: {}",
        task.id, task.operation, task.status
    ))
}

/// The JSON of a followed task's end.
pub fn task_result_json(task: &TaskState) -> String {
    to_json(task)
}
