//! The program table: maps the program an installed executable names to its
//! implementation in the sibling modules. The shell calls [`run`] for every
//! simulated binary it executes.

use super::{accounts, coreutils, docker, kubeadm, kubectl, net, nfs, pkg, system, systemd, text};
use crate::guest::exec::context::{BoxFut, Ctx, DEFAULT_PATH, Flow, Io, err_exit};

/// Runs simulated `program` (installed at `version`) with `argv`.
pub fn run<'a>(
    ctx: &'a mut Ctx,
    program: &'a str,
    version: &'a str,
    argv: Vec<String>,
    io: &'a Io,
) -> BoxFut<'a, Flow> {
    Box::pin(async move {
        if ctx.command_hangs(program) {
            return Err(ctx.hang().await);
        }
        let args = &argv[1..];
        match program {
            "cat" => coreutils::cat(ctx, args, io),
            "echo" => coreutils::echo(ctx, args, io),
            "printf" => coreutils::printf(ctx, args, io),
            "test" | "[" => coreutils::test(ctx, program, args, io),
            "true" => Ok(0),
            "false" => Ok(1),
            "mkdir" => coreutils::mkdir(ctx, args, io),
            "chmod" => coreutils::chmod(ctx, args, io),
            "chown" => coreutils::chown(ctx, args, io),
            "rm" => coreutils::rm(ctx, args, io),
            "cp" | "mv" => coreutils::cp_mv(ctx, program, args, io),
            "touch" => coreutils::touch(ctx, args, io),
            "ls" => coreutils::ls(ctx, args, io),
            "sleep" => coreutils::sleep(ctx, args, io).await,
            "id" => coreutils::id(ctx, args, io),
            "whoami" => coreutils::id(ctx, &["-un".to_owned()], io),
            "pwd" => {
                ctx.out(io, format!("{}\n", ctx.cwd));
                Ok(0)
            }
            "head" | "tail" => coreutils::head_tail(ctx, program, args, io),
            "wc" => coreutils::wc(ctx, args, io),
            "tee" => coreutils::tee(ctx, args, io),
            "basename" | "dirname" => coreutils::basename_dirname(ctx, program, args, io),
            "date" => coreutils::date(ctx, args, io),
            "stat" => coreutils::stat(ctx, args, io),
            "sync" => Ok(0),
            "env" => match coreutils::env(ctx, args, io) {
                Some(result) => result,
                None => run_wrapped(ctx, args, io).await,
            },
            "sed" => text::sed(ctx, args, io),
            "grep" => text::grep(ctx, args, io),
            "awk" | "gawk" | "mawk" => text::awk(ctx, args, io),
            "tr" => text::tr(ctx, args, io),
            "base64" => text::base64(ctx, args, io),
            "sort" => text::sort(ctx, args, io),
            "cut" => text::cut(ctx, args, io),
            "bash" | "sh" => system::bash(ctx, args, io).await,
            "passwd" => accounts::passwd(ctx, args, io),
            "chpasswd" => accounts::chpasswd(ctx, args, io),
            "chage" => accounts::chage(ctx, args, io),
            "useradd" => accounts::useradd(ctx, args, io),
            "sudo" => {
                if args.is_empty() {
                    return err_exit(ctx, io, "usage: sudo command", 1);
                }
                let mut child = ctx.child();
                child.uid = 0;
                child.gid = 0;
                child.user = "root".into();
                child.set_var("PATH", DEFAULT_PATH);
                child.run_external(args.to_vec(), io).await
            }
            "systemctl" => systemd::systemctl(ctx, args, io).await,
            "tdnf" | "yum" => pkg::tdnf(ctx, args, io).await,
            "apt-get" | "apt" => pkg::apt_get(ctx, program, args, io).await,
            "apt-key" => pkg::apt_key(ctx, args, io),
            "apt-cache" | "apt-mark" | "dpkg" => pkg::dpkg_query(ctx, program, args, io),
            "add-apt-repository" => pkg::add_apt_repository(ctx, args, io),
            "dpkg-reconfigure" => pkg::dpkg_reconfigure(ctx, args, io),
            "docker" => docker::docker(ctx, args, io).await,
            "kubeadm" => kubeadm::kubeadm(ctx, version, args, io).await,
            "kubectl" => kubectl::kubectl(ctx, version, args, io),
            "ip" => net::ip(ctx, args, io),
            "wget" => net::wget(ctx, args, io).await,
            "curl" => net::curl(ctx, args, io).await,
            "showmount" => nfs::showmount(ctx, args, io),
            "exportfs" => nfs::exportfs(ctx, args, io),
            "uname" => system::uname(ctx, args, io),
            "hostname" => system::hostname(ctx, args, io),
            "lsb_release" => system::lsb_release(ctx, args, io),
            "resolvconf" => system::resolvconf(ctx, args, io),
            "growpart" => system::growpart(ctx, args, io),
            "resize2fs" => system::resize2fs(ctx, args, io),
            "sysctl" => system::sysctl(ctx, args, io),
            "iptables" => system::iptables(ctx, args, io),
            other => err_exit(
                ctx,
                io,
                &format!("{other}: this program has no behaviour in the simulated guest"),
                1,
            ),
        }
    })
}

async fn run_wrapped(ctx: &mut Ctx, args: &[String], io: &Io) -> Flow {
    let mut child = ctx.child();
    let mut rest = Vec::new();
    for arg in args {
        if rest.is_empty()
            && let Some((k, v)) = arg.split_once('=')
        {
            child.set_var(k, v);
            child.exported.insert(k.to_owned());
            continue;
        }
        rest.push(arg.clone());
    }
    if rest.is_empty() {
        return Ok(0);
    }
    child.run_external(rest, io).await
}
