//! XML namespace URIs used by vCD, OVF and the vCD extension API (spec vcd-rest §11).
//!
//! Prefixes are free on the wire; these URIs are not. Every `Link` lives in [`VCLOUD`].

/// vCloud core namespace: nearly all elements, every `Link`, `vcloud:href`/`vcloud:ipAddress`.
pub const VCLOUD: &str = "http://www.vmware.com/vcloud/v1.5";
/// `SupportedVersions` document namespace.
pub const VERSIONS: &str = "http://www.vmware.com/vcloud/versions";
/// vCD extension namespace (`vmext:`): services, AMQP settings, vCenter references, VM vim info.
pub const VMEXT: &str = "http://www.vmware.com/vcloud/extension/v1.5";
/// OVF envelope namespace (`ovf:`): `Info`, `VirtualHardwareSection`, `Item`, `ovf:required`.
pub const OVF: &str = "http://schemas.dmtf.org/ovf/envelope/1";
/// OVF environment namespace (`ovfenv:Environment`).
pub const OVFENV: &str = "http://schemas.dmtf.org/ovf/environment/1";
/// VMware OVF environment extension (`ve:vCenterId`).
pub const VE: &str = "http://www.vmware.com/schema/ovfenv";
/// CIM resource allocation setting data (`rasd:` children of hardware items).
pub const RASD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
/// CIM virtual system setting data (`vssd:`).
pub const VSSD: &str =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData";
/// VMware OVF extensions (`vmw:CoresPerSocket`).
pub const VMW: &str = "http://www.vmware.com/schema/ovf";
/// XML Schema instance (`xsi:type` on `TypedValue`).
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// XML Schema.
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";
/// lxml objectify artefact attributes (`py:pytype`) that pyvcloud clients send; ignored.
pub const PYTYPE: &str = "http://codespeak.net/lxml/objectify/pytype";
