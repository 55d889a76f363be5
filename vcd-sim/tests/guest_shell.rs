//! The guest shell: the bash subset the bootstrap scripts use, with real
//! semantics, and loud failures outside it.

mod guest_common;

use guest_common::{base_vm, creds, execute_script, sh, world};
use vcd_sim::guest::GuestWorld;
use vcd_sim::guest_api::{GuestOps as _, ProgramSpec};

const PW: &str = "Root-pw1";

fn vm() -> GuestWorld {
    let world = world();
    base_vm(&world, "vm-1", "photon-v2", "10.0.0.5", PW);
    world
}

#[tokio::test]
async fn unknown_commands_exit_127() {
    let world = vm();
    let run = sh(&world, "vm-1", PW, "frobnicate --now").await;
    assert_eq!(run.exit_code, 127);
    assert!(
        run.stderr.ends_with("frobnicate: command not found\n"),
        "{:?}",
        run.stderr
    );
}

#[tokio::test]
async fn set_e_stops_at_the_first_unchecked_failure() {
    let world = vm();
    let run = sh(
        &world,
        "vm-1",
        PW,
        "set -e\necho one\nfalse || :\nif false; then echo no; fi\nfalse && echo no\necho two\ncat /nope\necho three",
    )
    .await;
    assert_eq!(run.exit_code, 1);
    assert_eq!(run.stdout, "one\ntwo\n");
    assert_eq!(run.stderr, "cat: /nope: No such file or directory\n");
}

#[tokio::test]
async fn redirections_pipes_and_here_documents() {
    let world = vm();
    let script = r#"name=world
echo "hello $name" > /tmp/a
echo again >> /tmp/a
ls /nope 2> /tmp/err || true
echo both 1>&2 2>/dev/null
cat <<EOF > /tmp/h
home=$HOME sub=$(echo x) tick=`echo y`
EOF
cat <<'EOF' >> /tmp/h
literal $HOME
EOF
cat /tmp/a /tmp/h | grep -v again | tr a-z A-Z
echo -n "$(cat /tmp/err)" | wc -c"#;
    let run = sh(&world, "vm-1", PW, script).await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(
        run.stdout,
        "HELLO WORLD\nHOME=/ROOT SUB=X TICK=Y\nLITERAL $HOME\n52\n"
    );
    assert_eq!(run.stderr, "both\n");
}

#[tokio::test]
async fn control_flow_functions_and_arithmetic() {
    let world = vm();
    let script = r#"count() { local n=0; for x in "$@"; do n=$((n + 1)); done; echo "$n"; }
i=0
while [ "$i" -lt 3 ]; do i=$((i + 1)); done
case "$i" in 3) echo three ;; *) echo other ;; esac
for w in a "b c" d; do printf '%s,' "$w"; done; echo
count x "y z" w
[ -d /tmp ] && [ ! -f /tmp ] && echo dir
v=${UNSET:-default}; echo "$v ${#v} ${v%ult}"
until true; do echo never; done"#;
    let run = sh(&world, "vm-1", PW, script).await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    assert_eq!(run.stdout, "three\na,b c,d,\n3\ndir\ndefault 7 defa\n");
}

#[tokio::test]
async fn unsupported_syntax_fails_loudly() {
    let world = vm();
    for (body, what) in [
        ("sleep 1 &\necho after", "background job"),
        ("[[ -n x ]] && echo yes", "[[ ... ]]"),
        ("a=(1 2)", "array assignment"),
        ("read x", "read"),
    ] {
        let run = sh(&world, "vm-1", PW, body).await;
        assert_eq!(run.exit_code, 2, "{body}: {run:?}");
        assert!(
            run.stderr.contains(what) && run.stderr.contains("not supported"),
            "{body}: {run:?}"
        );
        assert_eq!(run.stdout, "");
    }
    let run = sh(&world, "vm-1", PW, "if true; then echo").await;
    assert_eq!(run.exit_code, 2);
    assert!(run.stderr.contains("syntax error"), "{run:?}");
}

#[tokio::test]
async fn globs_text_tools_and_ip_route() {
    let world = vm();
    let run = sh(
        &world,
        "vm-1",
        PW,
        "touch /tmp/x.out /tmp/x.err /tmp/y.out\nrm -rf /tmp/x.*\nls /tmp | grep -v '[.]sh$'\necho 'a b c' | awk '{print $NF;exit}'\necho PermitRootLogin yes | sed 's/yes/no/'\nprintf 'abc' | base64\necho YWJj | base64 -d; echo\nip route get 1 | awk '{print $NF;exit}'\nip route get 1",
    )
    .await;
    assert_eq!(run.exit_code, 0, "{run:?}");
    let listing: Vec<&str> = run.stdout.lines().take_while(|l| *l != "c").collect();
    assert!(
        listing.contains(&"y.out") && !listing.iter().any(|l| l.starts_with("x.")),
        "{listing:?}"
    );
    let rest: String = run
        .stdout
        .lines()
        .skip(listing.len())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        rest,
        "c\nPermitRootLogin no\nYWJj\nabc\n10.0.0.5\n1.0.0.0 via 10.0.0.1 dev eth0 src 10.0.0.5 \n    cache \n"
    );
}

#[tokio::test]
async fn passwd_from_a_pipe_and_chpasswd_change_the_guest_login() {
    let world = vm();
    let (code, _, stderr) = world
        .run_as_root("vm-1", "echo -e \"New-pw2\\nNew-pw2\" | passwd root")
        .await
        .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(world.check_access("vm-1", &creds(PW)).is_err());
    world.check_access("vm-1", &creds("New-pw2")).unwrap();
    let (code, _, stderr) = world
        .run_as_root("vm-1", "echo -e 'a\\nb' | passwd root")
        .await
        .unwrap();
    assert_eq!(code, 10);
    assert!(
        stderr.contains("Sorry, passwords do not match."),
        "{stderr}"
    );
    let (code, _, stderr) = world
        .run_as_root(
            "vm-1",
            "echo 'root:Third-pw3' | chpasswd\necho 'ghost:x' | chpasswd",
        )
        .await
        .unwrap();
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("user 'ghost' does not exist"), "{stderr}");
    world.check_access("vm-1", &creds("Third-pw3")).unwrap();
}

#[tokio::test]
async fn a_password_change_inside_a_script_breaks_the_rest_of_the_cse_flow() {
    // The original flow downloads the outputs with the old password afterwards.
    let world = vm();
    let err = execute_script(
        &world,
        "vm-1",
        PW,
        "#!/usr/bin/env bash\necho 'root:Other-pw4' | chpasswd\n",
    )
    .await
    .unwrap_err();
    assert_eq!(err.vim_fault_name(), "InvalidGuestLogin");
}

#[tokio::test]
async fn a_script_without_execute_permission_exits_126() {
    let world = vm();
    world
        .write_file(
            "vm-1",
            &creds(PW),
            "/tmp/s.sh",
            b"#!/usr/bin/env bash\necho hi\n",
            false,
        )
        .unwrap();
    let run = guest_common::run_with_output(&world, "vm-1", &creds(PW), "/tmp/s.sh", "")
        .await
        .unwrap();
    assert_eq!(run.exit_code, 126);
    assert!(
        run.stderr.contains("/tmp/s.sh: Permission denied"),
        "{run:?}"
    );
}

#[tokio::test]
async fn programs_start_in_the_home_directory_unless_told_otherwise() {
    let world = vm();
    let c = creds(PW);
    let spec = |dir: Option<&str>| ProgramSpec {
        program_path: "/bin/pwd".into(),
        arguments: " > here.txt".into(),
        working_directory: dir.map(str::to_owned),
        env: vec![],
    };
    let pid = world.start_program("vm-1", &c, spec(None)).await.unwrap();
    assert_eq!(
        guest_common::wait_for_exit(&world, "vm-1", &c, pid)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        world.read_file("vm-1", &c, "/root/here.txt").unwrap(),
        b"/root\n"
    );
    let pid = world
        .start_program("vm-1", &c, spec(Some("/tmp")))
        .await
        .unwrap();
    guest_common::wait_for_exit(&world, "vm-1", &c, pid)
        .await
        .unwrap();
    assert_eq!(
        world.read_file("vm-1", &c, "/tmp/here.txt").unwrap(),
        b"/tmp\n"
    );
}

#[tokio::test]
async fn environment_is_complete_when_given() {
    let world = vm();
    let c = creds(PW);
    let spec = ProgramSpec {
        program_path: "/usr/bin/env".into(),
        arguments: " > /tmp/env.txt".into(),
        working_directory: None,
        env: vec!["PATH=/bin:/usr/bin".into(), "GREETING=hi".into()],
    };
    let pid = world.start_program("vm-1", &c, spec).await.unwrap();
    guest_common::wait_for_exit(&world, "vm-1", &c, pid)
        .await
        .unwrap();
    assert_eq!(
        world.read_file("vm-1", &c, "/tmp/env.txt").unwrap(),
        b"GREETING=hi\nPATH=/bin:/usr/bin\n"
    );
    let run = execute_script(
        &world,
        "vm-1",
        PW,
        "#!/usr/bin/env bash\necho $HOME $USER $SHELL\n",
    )
    .await
    .unwrap();
    assert_eq!(run.stdout, "/root root /bin/bash\n");
}

#[tokio::test]
async fn the_cse_script_flow_leaves_no_files_behind() {
    let world = vm();
    let before = world.disk_of("vm-1").unwrap().fs.children("/tmp");
    let run = execute_script(
        &world,
        "vm-1",
        PW,
        "#!/usr/bin/env bash\necho out; echo err >&2; exit 3\n",
    )
    .await
    .unwrap();
    assert_eq!(
        (run.exit_code, run.stdout.as_str(), run.stderr.as_str()),
        (3, "out\n", "err\n")
    );
    assert_eq!(world.disk_of("vm-1").unwrap().fs.children("/tmp"), before);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(crate::fuzz_cases(24)))]
    #[test]
    fn single_quoted_text_round_trips_through_echo_and_base64(text in "[ -~]{0,40}") {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let world = runtime.block_on(async { vm() });
        let quoted = format!("'{}'", text.replace('\'', "'\\''"));
        let script = format!("printf '%s' {quoted} | base64 | base64 -d\necho\necho x{quoted}");
        let (code, stdout, stderr) = runtime.block_on(world.run_as_root("vm-1", &script)).unwrap();
        proptest::prop_assert_eq!(code, 0, "{}", stderr);
        proptest::prop_assert_eq!(stdout, format!("{text}\nx{text}\n"));
    }
}

#[tokio::test]
async fn runaway_recursion_fails_instead_of_crashing() {
    let world = vm();
    let (code, _, stderr) = world
        .run_as_root("vm-1", "f() { f; }\nf\necho unreachable")
        .await
        .unwrap();
    assert_eq!(code, 1);
    assert!(
        stderr.contains("f: maximum nesting level exceeded (32)"),
        "{stderr}"
    );
    let (code, _, stderr) = world
        .run_as_root(
            "vm-1",
            "printf '#!/bin/bash\\n/tmp/r.sh\\n' > /tmp/r.sh\nchmod +x /tmp/r.sh\n/tmp/r.sh",
        )
        .await
        .unwrap();
    assert_ne!(code, 0);
    assert!(
        stderr.contains("maximum nesting level exceeded"),
        "{stderr}"
    );
}

/// Cases per property: this file's own number, or `CSE_FUZZ_CASES` when set (the
/// reliability suite's long form, `scripts/reliability.sh --long`).
fn fuzz_cases(default: u32) -> u32 {
    std::env::var("CSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
