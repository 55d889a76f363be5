//! Credentials are unguessable: two fresh simulators built from the same
//! world seed have the same orgs and ids, but hand out different session
//! tokens and upload (transfer) URLs, so nothing one run shows predicts a
//! credential of another.

mod common;

use common::{Session, TestSim, named_link, start};

const CATALOG: &str = "application/vnd.vmware.vcloud.catalog+xml";
const UPLOAD: &str = "application/vnd.vmware.vcloud.uploadVAppTemplateParams+xml";

/// The first five tokens of a fresh simulator, in the order of the logins
/// (the fifth is the system administrator's).
async fn first_tokens(sim: &TestSim) -> Vec<String> {
    let mut tokens = Vec::new();
    for _ in 0..2 {
        tokens.push(sim.alice().await.token);
        tokens.push(sim.bob().await.token);
    }
    tokens.push(sim.admin().await.token);
    tokens
}

/// The descriptor upload URL of a new template item.
async fn upload_url(alice: &Session) -> String {
    let org = alice.doc(&alice.org_href()).await;
    let cat = alice.doc(&named_link(&org, CATALOG, "cse")).await;
    let add = Session::link(&cat, "add", Some(UPLOAD));
    let r = alice
        .post(&add, UPLOAD, r#"<UploadVAppTemplateParams name="probe"/>"#)
        .await;
    let tpl_href = r
        .dom()
        .child("Entity")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string();
    let tpl = alice.doc(&tpl_href).await;
    let file = tpl.child("Files").unwrap().child("File").unwrap();
    file.child("Link")
        .unwrap()
        .attr("href")
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn two_simulators_with_one_seed_hand_out_different_tokens() {
    let (a, b) = (start().await, start().await);
    assert_eq!(
        a.handle.state().read().orgs.keys().collect::<Vec<_>>(),
        b.handle.state().read().orgs.keys().collect::<Vec<_>>(),
        "the seed still makes the same world"
    );
    let (ta, tb) = (first_tokens(&a).await, first_tokens(&b).await);
    for (i, (x, y)) in ta.iter().zip(&tb).enumerate() {
        assert_ne!(x, y, "token {} is the same in both runs", i + 1);
        assert_eq!(x.len(), 32, "128-bit tokens");
    }
    let mut all = ta.clone();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), ta.len(), "no token repeats within a run");

    let (ua, ub) = (
        upload_url(&a.alice().await).await,
        upload_url(&b.alice().await).await,
    );
    let path = |u: &str| {
        u.split_once("/transfer/")
            .map(|(_, p)| p.to_string())
            .unwrap()
    };
    assert_ne!(path(&ua), path(&ub), "transfer URLs are credentials too");
}
