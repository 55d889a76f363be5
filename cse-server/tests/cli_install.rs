//! `cse install`, `check -i` and `uninstall` against a fresh full simulator:
//! install from zero, a valid installation, idempotent re-runs, `--update`,
//! a wrong sha256, an interrupted install, and an uninstall that leaves vCD as
//! it was.

mod cli_support;

use cli_support::{CATALOG, Env, TEMPLATE_ITEM};

#[tokio::test]
async fn install_from_zero_then_check_then_second_install_changes_nothing() {
    let env = Env::start().await;
    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_ne!(code, 0, "{out}");
    insta::assert_snapshot!("check_before_install", out);

    let (code, out) = env.cse(&["install", "-a", "config", "-e", "config"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("install_from_zero", out);

    let (code, out) = env.cse(&["check", "-i"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("check_after_install", out);

    let state = env.vcd_state();
    assert!(
        state
            .iter()
            .any(|l| l.starts_with(&format!("template {TEMPLATE_ITEM} ")))
    );
    assert!(
        !state.iter().any(|l| l.starts_with("vapp ")),
        "temp vApp cleaned up: {state:#?}"
    );

    let (code, out) = env.cse(&["install", "--yes"]).await;
    assert_eq!(code, 0, "{out}");
    insta::assert_snapshot!("install_again", out);
    assert_eq!(env.vcd_state(), state, "a second install changes nothing");
    let _ = CATALOG;
}
