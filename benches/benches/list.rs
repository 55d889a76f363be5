//! The CPU work of one cluster list (`GET /api/cse`) outside I/O, for a
//! query page of 100 cluster vApps as vCD sends it: reading the page
//! straight from its text (what the server does), with the attributes its
//! query names or with every attribute (what vCD sent before the query named
//! them), against reading it into an element tree first (the baseline it
//! replaced). Ratios against the baseline are printed by criterion side by
//! side (`list/read_page/*`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use cse_vcd::vcd::{QueryPage, xml};

/// A `QueryResultRecords` page of `n` cluster vApps with the four list
/// metadata fields, shaped as vCD (and the simulator) write it: every
/// attribute of each record (`all_attributes`, the answer to a query naming
/// only metadata fields) or the five the server's query names.
fn page(n: usize, all_attributes: bool) -> String {
    let mut text = String::from(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<QueryResultRecords xmlns="http://www.vmware.com/vcloud/v1.5" xmlns:vcloud="http://www.vmware.com/vcloud/v1.5" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:vmext="http://www.vmware.com/vcloud/extension/v1.5" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" href="https://vcd/api/query?type=vApp&amp;format=idrecords&amp;page=1" name="vApp" page="1" pageSize="128" total="100" type="application/vnd.vmware.vcloud.query.idrecords+xml"><Link rel="firstPage" href="https://vcd/api/query?type=vApp&amp;format=idrecords&amp;page=1" type="application/vnd.vmware.vcloud.query.idrecords+xml"/><Link rel="lastPage" href="https://vcd/api/query?type=vApp&amp;format=idrecords&amp;page=1" type="application/vnd.vmware.vcloud.query.idrecords+xml"/>"#,
    );
    for i in 0..n {
        let others = if all_attributes {
            r#" numberOfCpus="6" memoryAllocationMB="6144" storageKB="50331648" ownerName="alice" owner="urn:vcloud:user:8b3c4d5e-0000-4000-8000-000000000002" isDeployed="true" isEnabled="true" isBusy="false" isInMaintenanceMode="false" creationDate="2026-12-01T10:00:00.000Z""#
        } else {
            ""
        };
        text.push_str(&format!(
            r#"<VAppRecord id="urn:vcloud:vapp:6f1c2d3e-0000-4000-8000-{i:012}" name="c-{i}" vdc="urn:vcloud:vdc:7a2b3c4d-0000-4000-8000-000000000001" vdcName="vdc1" status="POWERED_ON" numberOfVMs="3"{others}><Metadata>"#
        ));
        for (key, value) in [
            ("cse.cluster.id", format!("9c4d5e6f-0000-4000-8000-{i:012}")),
            ("cse.master.ip", format!("10.0.{}.{}", i / 250, i % 250 + 2)),
            ("cse.version", "1.2.7".to_owned()),
            ("cse.template", "ubuntu-16.04".to_owned()),
        ] {
            text.push_str(&format!(
                r#"<MetadataEntry><Domain visibility="READWRITE">GENERAL</Domain><Key>{key}</Key><TypedValue xsi:type="MetadataStringValue"><Value>{value}</Value></TypedValue></MetadataEntry>"#
            ));
        }
        text.push_str("</Metadata></VAppRecord>");
    }
    text.push_str("</QueryResultRecords>");
    text
}

fn read_page(c: &mut Criterion) {
    let text = page(100, true);
    let named = page(100, false);
    assert_eq!(
        QueryPage::parse("u", &text).unwrap(),
        QueryPage::from_element("u", &xml::parse(&text).unwrap()).unwrap()
    );
    let kept = cse_server::clusters::RECORD_ATTRIBUTES.map(str::to_owned);
    assert_eq!(
        QueryPage::parse_keeping("u", &text, &kept).unwrap(),
        QueryPage::parse_keeping("u", &named, &kept).unwrap()
    );
    let mut group = c.benchmark_group("list/read_page");
    group.bench_function("streaming, named fields page (server)", |b| {
        b.iter(|| QueryPage::parse_keeping("u", black_box(&named), &kept).unwrap())
    });
    group.bench_function(
        "streaming, all-attributes page, list attributes kept",
        |b| b.iter(|| QueryPage::parse_keeping("u", black_box(&text), &kept).unwrap()),
    );
    group.bench_function("streaming, all attributes", |b| {
        b.iter(|| QueryPage::parse("u", black_box(&text)).unwrap())
    });
    group.bench_function("element tree (baseline)", |b| {
        b.iter(|| QueryPage::from_element("u", &xml::parse(black_box(&text)).unwrap()).unwrap())
    });
    group.finish();
    println!(
        "page of 100 records: {} bytes with every attribute, {} with the named fields",
        text.len(),
        named.len()
    );
}

criterion_group!(benches, read_page);
criterion_main!(benches);
