//! The work behind a tenant's vApp query stays with the tenant's org: with
//! hundreds of cluster vApps (and their finished tasks) in another org, the
//! query CSE makes to check a cluster name in an empty org examines no more
//! vApps and tasks than in an empty world, and a query in the busy org
//! examines its own vApps once each, not every task ever run.
//! (`Sim::work` counts the entities and tasks requests look at.)

use std::sync::Arc;

use vcd_sim::state::vapps::CreateVAppParams;
use vcd_sim::state::{Domain, EntityRef, Id, MetaEntry, MetaType, Sim};
use vcd_sim::world::World;
use vcd_sim::{SimBuilder, SimHandle};

/// The query CSE sends to find a cluster by name (spec §4.4 encoding).
const CLUSTER_QUERY: &str = "/api/query?type=vApp&format=idrecords&page=1&pageSize=128&filterEncoded=true\
    &filter=metadata%3Acse.cluster.id%3D%3DSTRING%3A*%3Bname%3D%3Dnew-cluster\
    &fields=metadata%3Acse.cluster.id%2Cmetadata%3Acse.master.ip";

async fn login(http: &reqwest::Client, sim: &SimHandle, org: &str, user: &str, pw: &str) -> String {
    let response = http
        .post(format!("{}/api/sessions", sim.base_url))
        .basic_auth(format!("{user}@{org}"), Some(pw))
        .header("Accept", "application/*+xml;version=29.0")
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.headers()["x-vcloud-authorization"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn query(http: &reqwest::Client, sim: &SimHandle, token: &str) -> String {
    get(http, sim, token, CLUSTER_QUERY).await
}

/// The text of `path`, a query the tenant with `token` may make.
async fn get(http: &reqwest::Client, sim: &SimHandle, token: &str, path: &str) -> String {
    let response = http
        .get(format!("{}{path}", sim.base_url))
        .header("Accept", "application/*+xml;version=29.0")
        .header("x-vcloud-authorization", token)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.text().await.unwrap()
}

/// The user who seeds `org` (its first): id and name, and the org's first VDC.
fn seeding_user(sim: &Arc<Sim>, org: &str) -> (Id, String, Id) {
    let g = sim.read();
    let org = g.orgs.values().find(|o| o.name == org).unwrap().id;
    let user = g.users.values().find(|u| u.org == org).unwrap();
    let vdc = g.vdcs.values().find(|v| v.org == org).unwrap().id;
    (user.id, user.name.clone(), vdc)
}

/// `count` vApps in the first VDC of `org`, each with a `cse.cluster.id`, as
/// the org's first user: two tasks each (compose, metadata), all finished.
fn seed_clusters(sim: &Arc<Sim>, org: &str, count: usize) {
    let (user, _, vdc) = seeding_user(sim, org);
    let caller = sim.read().caller_for(user).unwrap();
    for i in 0..count {
        let params = CreateVAppParams {
            name: format!("seeded-{i}"),
            description: format!("cluster seeded-{i}"),
            ..CreateVAppParams::default()
        };
        let (vapp, _task) = sim.create_vapp(&caller, vdc, params).unwrap();
        sim.set_metadata(
            &caller,
            EntityRef::VApp(vapp),
            vec![MetaEntry {
                domain: Domain::General,
                visibility: "READWRITE".into(),
                key: "cse.cluster.id".into(),
                kind: MetaType::String,
                value: format!("id-{i}"),
            }],
        )
        .unwrap();
    }
}

/// A vCD of five generated orgs.
async fn start() -> SimHandle {
    SimBuilder::new()
        .world(World::generated(5, 3))
        .start_vcd()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tenant_query_costs_the_same_however_many_vapps_other_orgs_have() {
    let sim = start().await;
    let info = sim.info();
    let busy = &info.tenants[0];
    let quiet = info.tenants.iter().find(|t| t.org != busy.org).unwrap();
    assert_ne!(busy.org, quiet.org);
    let http = reqwest::Client::new();
    let quiet_token = login(&http, &sim, &quiet.org, &quiet.user, &quiet.password).await;
    let busy_token = login(&http, &sim, &busy.org, &busy.user, &busy.password).await;

    let before = sim.state().work();
    let empty_world = query(&http, &sim, &quiet_token).await;
    let empty_world_work = sim.state().work() - before;

    seed_clusters(sim.state(), &busy.org, 400);

    let before = sim.state().work();
    let crowded_world = query(&http, &sim, &quiet_token).await;
    let crowded_world_work = sim.state().work() - before;
    assert_eq!(crowded_world_work, empty_world_work);
    assert_eq!(crowded_world, empty_world);
    assert!(crowded_world.contains("total=\"0\""), "{crowded_world}");

    // In the busy org: each of its vApps once, and no finished task at all.
    let before = sim.state().work();
    let own = query(&http, &sim, &busy_token).await;
    let own_work = sim.state().work() - before;
    assert!(own.contains("total=\"0\""), "the name is not taken: {own}");
    assert_eq!(own_work.entities_examined, 400);
    assert_eq!(own_work.tasks_examined, 0);
    sim.shutdown().await;
}

/// `fields` naming attributes: each record carries those (and its id) only,
/// while the filter and the sort still see the attributes they name.
#[tokio::test]
async fn named_fields_limit_the_records_but_not_the_filter_or_the_sort() {
    let sim = start().await;
    let info = sim.info();
    let tenant = &info.tenants[0];
    seed_clusters(sim.state(), &tenant.org, 3);
    let (_, owner, _) = seeding_user(sim.state(), &tenant.org);
    let http = reqwest::Client::new();
    let token = login(&http, &sim, &tenant.org, &tenant.user, &tenant.password).await;
    let path = format!(
        "/api/query?type=vApp&format=idrecords&page=1&filterEncoded=true\
         &filter=metadata%3Acse.cluster.id%3D%3DSTRING%3Aid-1%3BownerName%3D%3D{owner}\
         &fields=name,metadata%3Acse.cluster.id&sortDesc=creationDate"
    );
    let page = get(&http, &sim, &token, &path).await;
    assert!(page.contains("total=\"1\""), "{page}");
    assert!(page.contains("name=\"seeded-1\""), "{page}");
    assert!(page.contains("<Value>id-1</Value>"), "{page}");
    for absent in ["ownerName=", "creationDate=", "vdcName=", "status="] {
        assert!(!page.contains(absent), "{absent} in {page}");
    }
    sim.shutdown().await;
}
