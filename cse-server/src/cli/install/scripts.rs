//! The template scripts shipped with CSE-RS, embedded in the binary: the guest
//! customization script of the temporary vApp (`init`) and the customization run
//! through guest operations (`cust`), per template name.

/// The scripts of one template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateScripts {
    /// Guest customization script of the temp vApp.
    pub init: &'static str,
    /// Customization run as root through guest operations.
    pub cust: &'static str,
}

/// The scripts for template `name` (`photon-v2`, `ubuntu-16.04`).
pub fn for_template(name: &str) -> Option<TemplateScripts> {
    match name {
        "photon-v2" => Some(TemplateScripts {
            init: include_str!("../../../scripts/templates/photon-v2/init.sh"),
            cust: include_str!("../../../scripts/templates/photon-v2/cust.sh"),
        }),
        "ubuntu-16.04" => Some(TemplateScripts {
            init: include_str!("../../../scripts/templates/ubuntu-16.04/init.sh"),
            cust: include_str!("../../../scripts/templates/ubuntu-16.04/cust.sh"),
        }),
        _ => None,
    }
}

/// The init script with lines that authorise `ssh_key` for root appended.
pub fn init_with_key(init: &str, ssh_key: Option<&str>) -> String {
    let mut script = init.to_owned();
    if let Some(key) = ssh_key {
        if !script.ends_with('\n') {
            script.push('\n');
        }
        script.push_str(&format!(
            "mkdir -p /root/.ssh\necho '{}' >> /root/.ssh/authorized_keys\nchmod -R go-rwx /root/.ssh\n",
            key.replace('\'', "")
        ));
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_templates_have_scripts() {
        for name in ["photon-v2", "ubuntu-16.04"] {
            let s = for_template(name).unwrap();
            assert!(
                s.init.starts_with("#!") && s.cust.starts_with("#!"),
                "{name}"
            );
        }
        assert!(for_template("centos").is_none());
    }

    #[test]
    fn ssh_key_is_appended() {
        let s = init_with_key("#!/bin/sh\ntrue", Some("ssh-rsa AAA me"));
        assert!(s.ends_with(
            "echo 'ssh-rsa AAA me' >> /root/.ssh/authorized_keys\nchmod -R go-rwx /root/.ssh\n"
        ));
        assert_eq!(init_with_key("x\n", None), "x\n");
    }
}
