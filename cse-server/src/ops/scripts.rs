//! The template scripts shipped with the server (photon-v2 and ubuntu-16.04:
//! init, cust, mstr, node, nfsd), embedded at build time, and the small
//! one-liners the operations run in guests.

/// The scripts of one template family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateScripts {
    /// First-boot customization (`init.sh`).
    pub init: &'static str,
    /// Template customization (`cust.sh`).
    pub cust: &'static str,
    /// Master initialization (`mstr.sh`).
    pub mstr: &'static str,
    /// Worker join (`node.sh`, `{token}`/`{ip}` placeholders).
    pub node: &'static str,
    /// NFS server setup (`nfsd.sh`).
    pub nfsd: &'static str,
}

const PHOTON: TemplateScripts = TemplateScripts {
    init: include_str!("../../scripts/templates/photon-v2/init.sh"),
    cust: include_str!("../../scripts/templates/photon-v2/cust.sh"),
    mstr: include_str!("../../scripts/templates/photon-v2/mstr.sh"),
    node: include_str!("../../scripts/templates/photon-v2/node.sh"),
    nfsd: include_str!("../../scripts/templates/photon-v2/nfsd.sh"),
};

const UBUNTU: TemplateScripts = TemplateScripts {
    init: include_str!("../../scripts/templates/ubuntu-16.04/init.sh"),
    cust: include_str!("../../scripts/templates/ubuntu-16.04/cust.sh"),
    mstr: include_str!("../../scripts/templates/ubuntu-16.04/mstr.sh"),
    node: include_str!("../../scripts/templates/ubuntu-16.04/node.sh"),
    nfsd: include_str!("../../scripts/templates/ubuntu-16.04/nfsd.sh"),
};

/// The scripts for a template name: `ubuntu*` → ubuntu-16.04, anything else
/// photon-v2 (the two families 1.2.x shipped).
pub fn for_template(template_name: &str) -> TemplateScripts {
    if template_name.to_ascii_lowercase().starts_with("ubuntu") {
        UBUNTU
    } else {
        PHOTON
    }
}

/// `node.sh` with the join token and master address filled in.
pub fn join_script(scripts: &TemplateScripts, token: &str, ip: &str) -> String {
    scripts.node.replace("{token}", token).replace("{ip}", ip)
}

/// Prints the master's address.
pub const MASTER_IP: &str = "#!/usr/bin/env bash\nip route get 1 | awk '{print $NF;exit}'\n";

/// Prints a fresh join token and the master's address.
pub const TOKEN_AND_IP: &str =
    "#!/usr/bin/env bash\nset -e\nkubeadm token create\nip route get 1 | awk '{print $NF;exit}'\n";

/// Sets root's password (the password is given on stdin-less echo, never logged).
pub fn chpasswd(password: &str) -> String {
    format!("#!/usr/bin/env bash\n/bin/echo 'root:{password}' | chpasswd\n")
}

/// The customization script that installs an ssh key for root.
pub fn ssh_key_customization(key: &str) -> String {
    format!(
        "#!/usr/bin/env bash\nif [ x$1=x\"postcustomization\" ];\nthen\nmkdir -p /root/.ssh\necho '{}' >> /root/.ssh/authorized_keys\nchmod -R go-rwx /root/.ssh\nfi\n",
        key.trim().replace('\'', "")
    )
}

/// `kubectl delete node` for `nodes`.
pub fn kubectl_delete(nodes: &[String]) -> String {
    format!(
        "#!/usr/bin/env bash\nkubectl delete node {}\n",
        nodes.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_chosen_by_template_family_and_filled_in() {
        assert!(for_template("ubuntu-16.04").cust.contains("apt"));
        assert_eq!(for_template("photon-v2"), PHOTON);
        let join = join_script(&PHOTON, "abc.def", "10.0.0.9");
        assert!(join.contains("--token abc.def 10.0.0.9:6443"), "{join}");
        assert!(!join.contains('{'));
        assert_eq!(
            kubectl_delete(&["node-a".into(), "node-b".into()]),
            "#!/usr/bin/env bash\nkubectl delete node node-a node-b\n"
        );
    }
}
