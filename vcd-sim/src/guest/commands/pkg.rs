//! Package managers: `tdnf` (Photon) and `apt-get`/`apt` (Ubuntu) with
//! sources, fetched package lists, signing keys (`apt-key`), repositories
//! (`add-apt-repository`), confirmation prompts and version pinning; plus
//! `dpkg-reconfigure` and small `dpkg`/`apt-cache`/`apt-mark` queries.

use crate::guest::catalog::{self, PackageDef};
use crate::guest::disk::{Disk, OsFamily};
use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::fs::Actor;
use crate::guest::internet;

/// Packages to install for `wanted`, dependencies first, skipping installed ones.
fn plan(disk: &Disk, wanted: &[&'static PackageDef], repos: &[String]) -> Vec<&'static PackageDef> {
    let mut out: Vec<&'static PackageDef> = Vec::new();
    fn visit(
        disk: &Disk,
        def: &'static PackageDef,
        wanted: &[&'static PackageDef],
        repos: &[String],
        out: &mut Vec<&'static PackageDef>,
        depth: u32,
    ) {
        if depth > 8 || out.iter().any(|d| d.name == def.name) {
            return;
        }
        for dep in def.depends {
            // An explicitly requested version wins over the newest one.
            let chosen = wanted.iter().copied().find(|w| w.name == *dep);
            if !disk.packages.contains_key(*dep)
                && let Some(d) = chosen.or_else(|| catalog::find(disk.os, dep, None, repos))
            {
                visit(disk, d, wanted, repos, out, depth + 1);
            }
        }
        if disk.packages.get(def.name).map(String::as_str) != Some(def.version) {
            out.push(def);
        }
    }
    for def in wanted {
        visit(disk, def, wanted, repos, &mut out, 0);
    }
    out
}

fn split_flags(args: &[String]) -> (Vec<String>, Vec<String>) {
    let (flags, words): (Vec<String>, Vec<String>) =
        args.iter().cloned().partition(|a| a.starts_with('-'));
    (flags, words)
}

fn has_yes(flags: &[String]) -> bool {
    flags.iter().any(|f| {
        f == "--assumeyes"
            || f == "--yes"
            || f == "--assume-yes"
            || (!f.starts_with("--") && f.contains('y'))
    })
}

pub async fn tdnf(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let (flags, words) = split_flags(args);
    let quiet = flags
        .iter()
        .any(|f| !f.starts_with("--") && f.contains('q'));
    let Some((command, specs)) = words.split_first() else {
        return err_exit(ctx, io, "tdnf: missing command", 1);
    };
    if ctx.uid != 0 {
        return err_exit(
            ctx,
            io,
            "Error(1013) : You have to be root to perform this operation.",
            1,
        );
    }
    let repos = vec!["photon".to_owned()];
    match command.as_str() {
        "install" | "reinstall" => {
            let mut wanted = Vec::new();
            for spec in specs {
                let (name, version) = ctx.vm(|vm, _| catalog::split_rpm_spec(vm.disk.os, spec))?;
                match catalog::find(OsFamily::Photon, &name, version.as_deref(), &repos) {
                    Some(def) => wanted.push(def),
                    None => {
                        return err_exit(
                            ctx,
                            io,
                            &format!("Error(1011) : No matching packages to install: {spec}"),
                            1,
                        );
                    }
                }
            }
            let todo = ctx.vm(|vm, _| plan(&vm.disk, &wanted, &repos))?;
            if todo.is_empty() {
                for def in &wanted {
                    ctx.out(io, format!("Package {} is already installed.\n", def.name));
                }
                ctx.out(io, "Nothing to do.\n");
                return Ok(0);
            }
            if !quiet {
                ctx.out(io, "\nInstalling:\n");
                for def in &todo {
                    ctx.out(io, format!("{} x86_64 {} photon\n", def.name, def.version));
                }
            }
            if !has_yes(&flags) {
                ctx.out(io, "Is this ok [y/N]:");
                if !String::from_utf8_lossy(&io.stdin)
                    .trim_start()
                    .starts_with('y')
                {
                    return err_exit(ctx, io, "Error(1032) : Operation aborted.", 1);
                }
            }
            for def in todo {
                ctx.sleep(ctx.world.timings().package_install).await?;
                ctx.vm(|vm, now| vm.disk.install(def, now))?;
                if !quiet {
                    ctx.out(
                        io,
                        format!("Installing/Updating: {}-{}.x86_64\n", def.name, def.version),
                    );
                }
            }
            if !quiet {
                ctx.out(io, "\nComplete!\n");
            }
            Ok(0)
        }
        "remove" | "erase" => {
            for spec in specs {
                if !ctx.vm(|vm, _| vm.disk.uninstall(spec))? {
                    return err_exit(
                        ctx,
                        io,
                        &format!("Error(1011) : No matching packages to remove: {spec}"),
                        1,
                    );
                }
            }
            Ok(0)
        }
        "makecache" | "clean" | "distro-sync" | "update" | "upgrade" | "check-update" => Ok(0),
        "list" => {
            let installed = ctx.vm(|vm, _| vm.disk.packages.clone())?;
            for (name, version) in installed {
                ctx.out(io, format!("{name}.x86_64 {version} @System\n"));
            }
            Ok(0)
        }
        other => err_exit(
            ctx,
            io,
            &format!("Error(901) : Unknown command: {other}"),
            1,
        ),
    }
}

/// `deb` lines of the apt sources: (url, suite, original line).
fn apt_sources(disk: &Disk) -> Vec<(String, String)> {
    let mut files = vec!["/etc/apt/sources.list".to_owned()];
    files.extend(
        disk.fs
            .children("/etc/apt/sources.list.d")
            .into_iter()
            .filter(|n| n.ends_with(".list"))
            .map(|n| format!("/etc/apt/sources.list.d/{n}")),
    );
    let mut out = Vec::new();
    for file in files {
        for line in disk.fs.read_text(&file).unwrap_or_default().lines() {
            let mut tokens = line.split_whitespace().peekable();
            if tokens.next() != Some("deb") {
                continue;
            }
            if tokens.peek().is_some_and(|t| t.starts_with('[')) {
                for t in tokens.by_ref() {
                    if t.ends_with(']') {
                        break;
                    }
                }
            }
            if let (Some(url), Some(suite)) = (tokens.next(), tokens.next()) {
                out.push((url.to_owned(), suite.to_owned()));
            }
        }
    }
    out
}

fn keyring_ids(disk: &Disk) -> Vec<String> {
    let mut text = disk
        .fs
        .read_text("/etc/apt/trusted.gpg")
        .unwrap_or_default();
    for name in disk.fs.children("/etc/apt/trusted.gpg.d") {
        text.push_str(
            &disk
                .fs
                .read_text(&format!("/etc/apt/trusted.gpg.d/{name}"))
                .unwrap_or_default(),
        );
    }
    internet::key_ids_in(&text)
}

/// Repositories with fetched lists: (repo id, authenticated).
fn fetched_repos(disk: &Disk) -> Vec<(String, bool)> {
    disk.fs
        .children("/var/lib/apt/lists")
        .into_iter()
        .filter_map(|n| disk.fs.read_text(&format!("/var/lib/apt/lists/{n}")))
        .filter_map(|t| {
            let repo = t.lines().find_map(|l| l.strip_prefix("repo="))?.to_owned();
            let auth = t.lines().any(|l| l == "authenticated=true");
            Some((repo, auth))
        })
        .collect()
}

async fn apt_update(ctx: &mut Ctx, io: &Io) -> CmdResult {
    let (sources, has_https, keys) = ctx.vm(|vm, _| {
        (
            apt_sources(&vm.disk),
            vm.disk.fs.exists("/usr/lib/apt/methods/https"),
            keyring_ids(&vm.disk),
        )
    })?;
    let mut lists = Vec::new();
    let mut warnings = String::new();
    let mut errors = String::new();
    for (index, (url, suite)) in sources.iter().enumerate() {
        let n = index + 1;
        if url.starts_with("https://") && !has_https {
            return err_exit(
                ctx,
                io,
                "E: The method driver /usr/lib/apt/methods/https could not be found.\nN: Is the package apt-transport-https installed?",
                100,
            );
        }
        ctx.sleep(ctx.world.timings().package_index_update).await?;
        match internet::apt_repo(url, suite) {
            Some(repo) => {
                let authenticated = keys.iter().any(|k| k == repo.key_id);
                ctx.out(io, format!("Get:{n} {url} {suite} InRelease\n"));
                if !authenticated {
                    warnings.push_str(&format!(
                        "W: GPG error: {url} {suite} InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY {}\nW: The repository '{url} {suite} InRelease' is not signed.\nN: Data from such a repository can't be authenticated and is therefore potentially dangerous to use.\n",
                        repo.key_id
                    ));
                }
                let file = format!(
                    "{}_{suite}_InRelease",
                    url.replace("://", "_").replace('/', "_")
                );
                lists.push((
                    file,
                    format!("repo={}\nauthenticated={authenticated}\n", repo.id),
                ));
            }
            None => match internet::host_of(url) {
                Some(host) if internet::get(url).is_err() => {
                    ctx.out(
                        io,
                        format!("Err:{n} {url} {suite} InRelease\n  Could not resolve '{host}'\n"),
                    );
                    warnings.push_str(&format!("W: Failed to fetch {url}/dists/{suite}/InRelease  Could not resolve '{host}'\nW: Some index files failed to download. They have been ignored, or old ones used instead.\n"));
                }
                _ => errors.push_str(&format!(
                    "E: The repository '{url} {suite} Release' does not have a Release file.\n"
                )),
            },
        }
    }
    ctx.vm(|vm, now| {
        for name in vm.disk.fs.children("/var/lib/apt/lists") {
            let _ = vm
                .disk
                .fs
                .remove(&format!("/var/lib/apt/lists/{name}"), true, Actor::ROOT);
        }
        for (file, content) in &lists {
            let _ = vm.disk.fs.write(
                &format!("/var/lib/apt/lists/{file}"),
                content.clone(),
                Actor::ROOT,
                0o644,
                now,
            );
        }
    })?;
    ctx.out(io, "Reading package lists...\n");
    ctx.err(io, &warnings);
    if !errors.is_empty() {
        return err_exit(ctx, io, errors.trim_end(), 100);
    }
    Ok(0)
}

pub async fn apt_get(ctx: &mut Ctx, program: &str, args: &[String], io: &Io) -> CmdResult {
    let (flags, words) = split_flags(args);
    if program == "apt" {
        ctx.err(
            io,
            "\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n",
        );
    }
    let Some((command, specs)) = words.split_first() else {
        return err_exit(ctx, io, "E: Invalid operation", 100);
    };
    let lock_error = "E: Could not open lock file /var/lib/dpkg/lock - open (13: Permission denied)\nE: Unable to lock the administration directory (/var/lib/dpkg/), are you root?";
    if ctx.uid != 0 {
        return err_exit(ctx, io, lock_error, 100);
    }
    let yes = has_yes(&flags);
    let allow_unauthenticated = flags.iter().any(|f| f == "--allow-unauthenticated");
    match command.as_str() {
        "update" => apt_update(ctx, io).await,
        "install" => {
            let fetched = ctx.vm(|vm, _| fetched_repos(&vm.disk))?;
            let repos: Vec<String> = fetched.iter().map(|(r, _)| r.clone()).collect();
            let mut wanted = Vec::new();
            ctx.out(io, "Reading package lists...\nBuilding dependency tree...\nReading state information...\n");
            for spec in specs {
                let (name, version) = match spec.split_once('=') {
                    Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
                    None => (spec.clone(), None),
                };
                match catalog::find(OsFamily::Ubuntu, &name, version.as_deref(), &repos) {
                    Some(def) => wanted.push(def),
                    None => {
                        let known = catalog::find(OsFamily::Ubuntu, &name, None, &repos).is_some();
                        let message = match version {
                            Some(v) if known => {
                                format!("E: Version '{v}' for '{name}' was not found")
                            }
                            _ => format!("E: Unable to locate package {name}"),
                        };
                        return err_exit(ctx, io, &message, 100);
                    }
                }
            }
            let todo = ctx.vm(|vm, _| plan(&vm.disk, &wanted, &repos))?;
            if todo.is_empty() {
                ctx.out(
                    io,
                    "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n",
                );
                return Ok(0);
            }
            let names: Vec<&str> = todo.iter().map(|d| d.name).collect();
            ctx.out(io, format!("The following NEW packages will be installed:\n  {}\n0 upgraded, {} newly installed, 0 to remove and 0 not upgraded.\n", names.join(" "), todo.len()));
            let unauthenticated: Vec<&str> = todo
                .iter()
                .filter(|d| !fetched.iter().any(|(r, auth)| r == d.repo && *auth))
                .map(|d| d.name)
                .collect();
            if !unauthenticated.is_empty() && !allow_unauthenticated {
                ctx.err(
                    io,
                    format!(
                        "WARNING: The following packages cannot be authenticated!\n  {}\n",
                        unauthenticated.join(" ")
                    ),
                );
                return err_exit(
                    ctx,
                    io,
                    "E: There were unauthenticated packages and -y was used without --allow-unauthenticated",
                    100,
                );
            }
            if !yes {
                ctx.out(io, "Do you want to continue? [Y/n] ");
                if !String::from_utf8_lossy(&io.stdin)
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with('y')
                {
                    ctx.out(io, "Abort.\n");
                    return Ok(1);
                }
            }
            for def in todo {
                ctx.sleep(ctx.world.timings().package_install).await?;
                ctx.vm(|vm, now| vm.disk.install(def, now))?;
                ctx.out(
                    io,
                    format!("Setting up {} ({}) ...\n", def.name, def.version),
                );
            }
            Ok(0)
        }
        "remove" | "purge" => {
            for spec in specs {
                let removed = ctx.vm(|vm, _| vm.disk.uninstall(spec))?;
                if removed {
                    ctx.out(io, format!("Removing {spec} ...\n"));
                } else {
                    ctx.out(
                        io,
                        format!("Package '{spec}' is not installed, so not removed\n"),
                    );
                }
            }
            Ok(0)
        }
        "autoremove" | "upgrade" | "dist-upgrade" | "clean" | "autoclean" => {
            ctx.out(io, "Reading package lists...\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n");
            Ok(0)
        }
        other => err_exit(ctx, io, &format!("E: Invalid operation {other}"), 100),
    }
}

pub fn apt_key(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "ERROR: This command can only be used by root.", 1);
    }
    match args.first().map(String::as_str) {
        Some("add") => {
            let source = args.get(1).map(String::as_str).unwrap_or("-");
            let data = if source == "-" {
                String::from_utf8_lossy(&io.stdin).into_owned()
            } else {
                let path = ctx.path(source);
                match ctx.vm(|vm, _| vm.disk.fs.read_text(&path))? {
                    Some(t) => t,
                    None => {
                        return err_exit(
                            ctx,
                            io,
                            &format!("gpg: can't open '{source}': No such file or directory"),
                            2,
                        );
                    }
                }
            };
            if internet::key_ids_in(&data).is_empty() {
                return err_exit(ctx, io, "gpg: no valid OpenPGP data found.", 2);
            }
            ctx.vm(|vm, now| {
                vm.disk
                    .fs
                    .append("/etc/apt/trusted.gpg", data.as_bytes(), Actor::ROOT, now)
            })?
            .ok();
            ctx.out(io, "OK\n");
            Ok(0)
        }
        Some("list") => {
            let ids = ctx.vm(|vm, _| keyring_ids(&vm.disk))?;
            for id in ids {
                ctx.out(io, format!("pub   rsa4096 {id}\n"));
            }
            Ok(0)
        }
        _ => err_exit(
            ctx,
            io,
            "Usage: apt-key [--keyring file] [command] [arguments]",
            1,
        ),
    }
}

pub fn add_apt_repository(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "Error: must run as root", 1);
    }
    let Some(line) = args.iter().find(|a| !a.starts_with('-')) else {
        return err_exit(ctx, io, "Error: need a repository as argument", 1);
    };
    if !line.starts_with("deb ") {
        return err_exit(
            ctx,
            io,
            &format!(
                "Error: '{line}' invalid (the simulated add-apt-repository takes 'deb ...' lines)"
            ),
            1,
        );
    }
    let text = format!("{line}\n# deb-src {}\n", &line[4..]);
    ctx.vm(|vm, now| {
        vm.disk
            .fs
            .append("/etc/apt/sources.list", text.as_bytes(), Actor::ROOT, now)
    })?
    .ok();
    Ok(0)
}

pub fn dpkg_reconfigure(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    if ctx.uid != 0 {
        return err_exit(ctx, io, "dpkg-reconfigure must be run as root", 1);
    }
    let Some(package) = args.iter().find(|a| !a.starts_with('-')).cloned() else {
        return err_exit(ctx, io, "Usage: dpkg-reconfigure [options] packages", 1);
    };
    let installed = ctx.vm(|vm, _| vm.disk.packages.contains_key(&package))?;
    if !installed {
        return err_exit(ctx, io, &format!("{package} is not installed"), 1);
    }
    if package == "openssh-server" {
        ctx.vm(|vm, now| {
            for kind in ["rsa", "ecdsa", "ed25519"] {
                let seed = format!("{}-{}-{kind}", vm.moref, now.timestamp_nanos_opt().unwrap_or_default());
                let _ = vm.disk.fs.write(&format!("/etc/ssh/ssh_host_{kind}_key"), format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{seed}\n-----END OPENSSH PRIVATE KEY-----\n"), Actor::ROOT, 0o600, now);
                let _ = vm.disk.fs.write(&format!("/etc/ssh/ssh_host_{kind}_key.pub"), format!("ssh-{kind} {seed} root@{}\n", vm.disk.hostname()), Actor::ROOT, 0o644, now);
            }
        })?;
        ctx.out(io, "Creating SSH2 RSA key; this may take some time ...\nCreating SSH2 ECDSA key; this may take some time ...\nCreating SSH2 ED25519 key; this may take some time ...\n");
    }
    Ok(0)
}

pub fn dpkg_query(ctx: &mut Ctx, program: &str, args: &[String], io: &Io) -> CmdResult {
    let packages = ctx.vm(|vm, _| vm.disk.packages.clone())?;
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    match program {
        "apt-mark" => {
            if let Some((verb, rest)) = names.split_first() {
                for name in rest {
                    ctx.out(io, format!("{name} set on {verb}.\n"));
                }
            }
            Ok(0)
        }
        _ => {
            let mut status = 0;
            for name in names.iter().skip(usize::from(program == "apt-cache")) {
                match packages.get(name.as_str()) {
                    Some(v) => ctx.out(io, format!("ii  {name}  {v}  amd64\n")),
                    None => {
                        ctx.err(
                            io,
                            format!("dpkg-query: no packages found matching {name}\n"),
                        );
                        status = 1;
                    }
                }
            }
            Ok(status)
        }
    }
}
