//! Generated OVF/OVA appliances for tests and demos: a one-VM OVF descriptor
//! (Photon or Ubuntu, the OS hint the guest model uses to pick the base disk)
//! and an OVA, i.e. a tar holding that descriptor first and then its disk.

use std::io;

/// The guest OS an appliance claims; the simulator's guest model picks the
/// base disk from the descriptor's OS section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestOs {
    /// VMware Photon OS 2.0 (`photon2-temp`, `photon-disk1.vmdk`).
    Photon,
    /// Ubuntu 16.04 LTS (`ubuntu1604-temp`, `ubuntu-disk1.vmdk`).
    Ubuntu,
}

impl GuestOs {
    /// The `<Description>` of the descriptor's OperatingSystemSection.
    pub fn description(self) -> &'static str {
        match self {
            GuestOs::Photon => "VMware Photon OS 2.0",
            GuestOs::Ubuntu => "Ubuntu 16.04 LTS",
        }
    }

    /// The `vmw:osType` of the descriptor's OperatingSystemSection.
    pub fn vmware_os_type(self) -> &'static str {
        match self {
            GuestOs::Photon => "other3xLinux64Guest",
            GuestOs::Ubuntu => "ubuntu64Guest",
        }
    }

    /// The name of the appliance's VM (CSE's template VM name).
    pub fn vm_name(self) -> &'static str {
        match self {
            GuestOs::Photon => "photon2-temp",
            GuestOs::Ubuntu => "ubuntu1604-temp",
        }
    }

    /// The stem of the member names (`<stem>.ovf`, `<stem>-disk1.vmdk`).
    pub fn file_stem(self) -> &'static str {
        match self {
            GuestOs::Photon => "photon",
            GuestOs::Ubuntu => "ubuntu",
        }
    }
}

/// What to generate: one VM with one disk file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OvaSpec {
    /// The OS the descriptor names.
    pub os: GuestOs,
    /// The VM's name (`<VirtualSystem ovf:id>` and `<Name>`).
    pub vm_name: String,
    /// The descriptor's member name in the OVA.
    pub descriptor_file: String,
    /// The disk's member name in the OVA (and the `<File ovf:href>`).
    pub disk_file: String,
    /// The disk file's size in bytes (`<File ovf:size>`).
    pub disk_size: usize,
    /// The disk's capacity in GiB (`<Disk ovf:capacity>`).
    pub disk_capacity_gib: u32,
    /// Virtual CPUs.
    pub cpus: u32,
    /// Memory in MiB.
    pub memory_mb: u32,
}

impl OvaSpec {
    /// An appliance of `os` with its usual names, 2 CPUs, 2048 MiB, a 16 GiB
    /// disk and a disk file of `disk_size` bytes.
    pub fn new(os: GuestOs, disk_size: usize) -> Self {
        OvaSpec {
            os,
            vm_name: os.vm_name().to_owned(),
            descriptor_file: format!("{}.ovf", os.file_stem()),
            disk_file: format!("{}-disk1.vmdk", os.file_stem()),
            disk_size,
            disk_capacity_gib: 16,
            cpus: 2,
            memory_mb: 2048,
        }
    }

    /// The Photon OS 2.0 appliance CSE's default template is built from.
    pub fn photon(disk_size: usize) -> Self {
        OvaSpec::new(GuestOs::Photon, disk_size)
    }

    /// The Ubuntu 16.04 appliance.
    pub fn ubuntu(disk_size: usize) -> Self {
        OvaSpec::new(GuestOs::Ubuntu, disk_size)
    }
}

impl Default for OvaSpec {
    /// A Photon appliance with a 1000-byte disk file.
    fn default() -> Self {
        OvaSpec::photon(1000)
    }
}

/// Why an OVA could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum OvaError {
    /// A member could not be written (e.g. an absolute or `..` member name).
    #[error("cannot add {member:?} to the OVA: {source}")]
    Write {
        /// The member's name.
        member: String,
        /// What the tar writer reported.
        source: io::Error,
    },
    /// The bytes are not a readable tar archive.
    #[error("cannot read the OVA: {0}")]
    Read(#[source] io::Error),
}

/// The OVF descriptor of the appliance `spec` describes.
pub fn ovf_descriptor(spec: &OvaSpec) -> String {
    use quick_xml::escape::escape;
    let disk_file = escape(spec.disk_file.as_str());
    let disk_size = spec.disk_size;
    let capacity = spec.disk_capacity_gib;
    let vm = escape(spec.vm_name.as_str());
    let os_type = spec.os.vmware_os_type();
    let os = spec.os.description();
    let cpus = spec.cpus;
    let memory = spec.memory_mb;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
          xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
          xmlns:vmw="http://www.vmware.com/schema/ovf">
  <References><File ovf:href="{disk_file}" ovf:id="file1" ovf:size="{disk_size}"/></References>
  <DiskSection><Info>Virtual disk information</Info>
    <Disk ovf:capacity="{capacity}" ovf:capacityAllocationUnits="byte * 2^30" ovf:diskId="vmdisk1" ovf:fileRef="file1"/></DiskSection>
  <NetworkSection><Info>The list of logical networks</Info><Network ovf:name="VM Network"><Description/></Network></NetworkSection>
  <VirtualSystem ovf:id="{vm}"><Info>A virtual machine</Info><Name>{vm}</Name>
    <OperatingSystemSection ovf:id="100" vmw:osType="{os_type}"><Info>OS</Info><Description>{os}</Description></OperatingSystemSection>
    <VirtualHardwareSection><Info>Virtual hardware requirements</Info>
      <Item><rasd:AllocationUnits>hertz * 10^6</rasd:AllocationUnits><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>{cpus}</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>{memory}</rasd:VirtualQuantity></Item>
      <Item><rasd:AddressOnParent>0</rasd:AddressOnParent><rasd:Connection>VM Network</rasd:Connection><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>"#
    )
}

/// A disk file of `size` bytes with a recognisable pattern (`i % 251`).
pub fn disk_image(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// The OVA of `spec` with a generated disk ([`disk_image`] of `spec.disk_size`).
pub fn build_ova(spec: &OvaSpec) -> Result<Vec<u8>, OvaError> {
    build_ova_with_disk(spec, &disk_image(spec.disk_size))
}

/// The OVA of `spec` with `disk` as its disk file; the descriptor's file size
/// is `disk.len()` whatever `spec.disk_size` says.
pub fn build_ova_with_disk(spec: &OvaSpec, disk: &[u8]) -> Result<Vec<u8>, OvaError> {
    let spec = OvaSpec {
        disk_size: disk.len(),
        ..spec.clone()
    };
    let descriptor = ovf_descriptor(&spec);
    let mut builder = tar::Builder::new(Vec::new());
    for (member, data) in [
        (spec.descriptor_file.as_str(), descriptor.as_bytes()),
        (spec.disk_file.as_str(), disk),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        builder
            .append_data(&mut header, member, data)
            .map_err(|source| OvaError::Write {
                member: member.to_owned(),
                source,
            })?;
    }
    builder.into_inner().map_err(|source| OvaError::Write {
        member: "end of archive".to_owned(),
        source,
    })
}

/// The members of an OVA in order: (file name, content).
pub fn read_ova(ova: &[u8]) -> Result<Vec<(String, Vec<u8>)>, OvaError> {
    let mut archive = tar::Archive::new(ova);
    let mut members = Vec::new();
    for entry in archive.entries().map_err(OvaError::Read)? {
        let mut entry = entry.map_err(OvaError::Read)?;
        let name = entry
            .path()
            .map_err(OvaError::Read)?
            .to_string_lossy()
            .into_owned();
        let mut data = Vec::new();
        io::Read::read_to_end(&mut entry, &mut data).map_err(OvaError::Read)?;
        members.push((name, data));
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::catalogs as parse;
    use crate::rest::xml::Dom;
    use crate::state::OvfDescriptor;

    fn parsed(text: &str) -> OvfDescriptor {
        parse::ovf(&Dom::parse(text).unwrap()).unwrap()
    }

    #[test]
    fn photon_descriptor_snapshot() {
        insta::assert_snapshot!(ovf_descriptor(&OvaSpec::photon(1000)));
    }

    #[test]
    fn ova_holds_descriptor_first_then_disk() {
        let spec = OvaSpec::photon(700);
        let members = read_ova(&build_ova(&spec).unwrap()).unwrap();
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["photon.ovf", "photon-disk1.vmdk"]);
        assert_eq!(members[0].1, ovf_descriptor(&spec).into_bytes());
        assert_eq!(members[1].1, disk_image(700));
    }

    #[test]
    fn given_disk_sets_the_descriptor_size() {
        let disk = [7u8; 300];
        let members = read_ova(&build_ova_with_disk(&OvaSpec::photon(1), &disk).unwrap()).unwrap();
        let descriptor = String::from_utf8(members[0].1.clone()).unwrap();
        assert!(
            descriptor.contains(r#"ovf:href="photon-disk1.vmdk" ovf:id="file1" ovf:size="300""#)
        );
        assert_eq!(members[1].1, disk);
    }

    #[test]
    fn descriptors_parse_and_name_their_os() {
        for (spec, hint, vm, file) in [
            (
                OvaSpec::photon(10),
                "Photon",
                "photon2-temp",
                "photon-disk1.vmdk",
            ),
            (
                OvaSpec::ubuntu(20),
                "Ubuntu",
                "ubuntu1604-temp",
                "ubuntu-disk1.vmdk",
            ),
        ] {
            let ovf = parsed(&ovf_descriptor(&spec));
            assert_eq!(ovf.vms.len(), 1);
            assert_eq!(ovf.vms[0].name, vm);
            assert!(
                ovf.vms[0].os_hint.contains(hint),
                "{:?}",
                ovf.vms[0].os_hint
            );
            assert_eq!(ovf.files, vec![(file.to_owned(), spec.disk_size as i64)]);
            assert_eq!((ovf.vms[0].cpus, ovf.vms[0].memory_mb), (2, 2048));
        }
    }

    #[test]
    fn hardware_comes_from_the_spec() {
        let spec = OvaSpec {
            cpus: 4,
            memory_mb: 8192,
            vm_name: "a<b".into(),
            ..OvaSpec::ubuntu(5)
        };
        let text = ovf_descriptor(&spec);
        assert!(text.contains("<rasd:VirtualQuantity>4</rasd:VirtualQuantity>"));
        assert!(text.contains("<rasd:VirtualQuantity>8192</rasd:VirtualQuantity>"));
        let ovf = parsed(&text);
        assert_eq!(ovf.vms[0].name, "a<b");
    }

    #[test]
    fn bad_member_names_are_errors_not_panics() {
        let spec = OvaSpec {
            disk_file: "../escape.vmdk".into(),
            ..OvaSpec::photon(3)
        };
        let err = build_ova(&spec).unwrap_err();
        assert!(err.to_string().contains("../escape.vmdk"), "{err}");
        assert!(matches!(read_ova(&[1u8; 512]), Err(OvaError::Read(_))));
    }
}
