//! `docker pull|images|ps|version|info`: needs an active docker service;
//! pulls only images the simulated registries serve.

use sha2::Digest as _;

use crate::guest::exec::context::{CmdResult, Ctx, Io, err_exit};
use crate::guest::internet;

const NOT_RUNNING: &str = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";

pub async fn docker(ctx: &mut Ctx, args: &[String], io: &Io) -> CmdResult {
    let active = ctx.vm(|vm, _| vm.disk.services.get("docker").is_some_and(|s| s.active))?;
    let Some(verb) = args.first() else {
        return err_exit(ctx, io, "Usage: docker [OPTIONS] COMMAND", 1);
    };
    if !active && verb != "--version" {
        return err_exit(ctx, io, NOT_RUNNING, 1);
    }
    match verb.as_str() {
        "pull" => {
            let Some(reference) = args.get(1) else {
                return err_exit(ctx, io, "\"docker pull\" requires exactly 1 argument.", 1);
            };
            let canonical = internet::canonical_image(reference);
            if !internet::image_exists(&canonical) {
                let name = canonical
                    .rsplit_once(':')
                    .map(|(n, _)| n)
                    .unwrap_or(&canonical);
                return err_exit(
                    ctx,
                    io,
                    &format!(
                        "Error response from daemon: pull access denied for {name}, repository does not exist or may require 'docker login'"
                    ),
                    1,
                );
            }
            ctx.sleep(ctx.world.timings().image_pull).await?;
            ctx.vm(|vm, _| vm.disk.images.insert(canonical.clone()))?;
            let (name, tag) = canonical.rsplit_once(':').unwrap_or((&canonical, "latest"));
            let digest = hex::encode(sha2::Sha256::digest(canonical.as_bytes()));
            ctx.out(io, format!("{tag}: Pulling from {}\n{}: Pull complete\nDigest: sha256:{digest}\nStatus: Downloaded newer image for {reference}\n", name.split_once('/').map(|(_, r)| r).unwrap_or(name), &digest[..12]));
            Ok(0)
        }
        "images" => {
            let images = ctx.vm(|vm, _| vm.disk.images.clone())?;
            let mut out = String::from(
                "REPOSITORY                                 TAG                 IMAGE ID\n",
            );
            for image in images {
                let (name, tag) = image.rsplit_once(':').unwrap_or((&image, ""));
                let id = hex::encode(sha2::Sha256::digest(image.as_bytes()));
                out.push_str(&format!("{name:<42} {tag:<19} {}\n", &id[..12]));
            }
            ctx.out(io, out);
            Ok(0)
        }
        "ps" => {
            ctx.out(io, "CONTAINER ID        IMAGE               COMMAND             CREATED             STATUS              PORTS               NAMES\n");
            Ok(0)
        }
        "version" | "--version" | "info" => {
            let version = ctx.vm(|vm, _| {
                vm.disk
                    .packages
                    .get("docker")
                    .or(vm.disk.packages.get("docker-ce"))
                    .cloned()
                    .unwrap_or_default()
            })?;
            ctx.out(io, format!("Docker version {version}\n"));
            Ok(0)
        }
        other => err_exit(
            ctx,
            io,
            &format!("docker: '{other}' is not a docker command in the simulated guest."),
            1,
        ),
    }
}
