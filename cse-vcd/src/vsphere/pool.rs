//! One logged-in session per vCenter, shared by every operation (the original
//! opened a new session per node per operation and never closed it). Sessions
//! are keyed by the name the vCenter is registered under in vCD; the account and
//! TLS checking come from the config's `vcs[]` entry of that name.

use std::collections::HashMap;
use std::sync::Arc;

use cse_core::config::{Config, VcenterConfig};
use parking_lot::Mutex;

use super::client::{VcenterSession, VcenterSettings};
use super::endpoint::VcenterEndpoint;
use super::error::VsphereError;
use crate::vcd::http::{DEFAULT_MAX_IDLE_PER_HOST, HttpTimeouts, PoolLimits};

/// Sessions by vCenter name.
#[derive(Debug)]
pub struct VcenterPool {
    accounts: Vec<VcenterConfig>,
    settings: VcenterSettings,
    sessions: Mutex<HashMap<String, Arc<VcenterSession>>>,
    /// vCenter URLs read from vCD, by name.
    urls: Mutex<HashMap<String, String>>,
}

impl VcenterPool {
    /// A pool for these accounts.
    pub fn new(accounts: Vec<VcenterConfig>, settings: VcenterSettings) -> Self {
        Self {
            accounts,
            settings,
            sessions: Mutex::new(HashMap::new()),
            urls: Mutex::new(HashMap::new()),
        }
    }

    /// A pool for the config's `vcs` list and time-outs.
    pub fn from_config(config: &Config) -> Self {
        let settings = VcenterSettings {
            http: HttpTimeouts::from_config(&config.timeouts),
            // Guest operations make one call at a time per operation, so the
            // operations running at once (`service.max_operations`) bound the
            // connections in use. As many are kept once idle: fewer would
            // close connections a busy server opens again at its next step,
            // each a new TLS handshake with vCenter.
            pool: PoolLimits::keeping(
                usize::try_from(config.service.max_operations)
                    .unwrap_or(usize::MAX)
                    .max(DEFAULT_MAX_IDLE_PER_HOST),
            ),
            max_download_bytes: config.limits.guest_file_bytes(),
            ..VcenterSettings::default()
        };
        Self::new(config.vcs.clone(), settings)
    }

    /// The session for vCenter `name`, reached at vCD's `VimServer/Url`. Created on
    /// first use (it logs in at its first call); replaced when the registered URL
    /// has changed since.
    pub fn session(
        &self,
        name: &str,
        vim_server_url: &str,
    ) -> Result<Arc<VcenterSession>, VsphereError> {
        let endpoint = VcenterEndpoint::from_vim_server_url(vim_server_url)?;
        let mut sessions = self.sessions.lock();
        if let Some(session) = sessions.get(name)
            && *session.endpoint() == endpoint
        {
            return Ok(session.clone());
        }
        let account = self
            .accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| VsphereError::UnknownVcenter {
                name: name.to_owned(),
            })?;
        let session = Arc::new(VcenterSession::new(
            account,
            vim_server_url,
            &self.settings,
        )?);
        sessions.insert(name.to_owned(), session.clone());
        Ok(session)
    }

    /// The vCenter URL remembered for `name`.
    pub fn cached_url(&self, name: &str) -> Option<String> {
        self.urls.lock().get(name).cloned()
    }

    /// Remembers the URL vCD registers for vCenter `name`.
    pub fn remember_url(&self, name: &str, url: &str) {
        self.urls.lock().insert(name.to_owned(), url.to_owned());
    }

    /// Forgets every remembered URL (after a vCenter was re-registered).
    pub fn forget_urls(&self) {
        self.urls.lock().clear();
    }

    /// The session already open for `name`, if any.
    pub fn existing(&self, name: &str) -> Option<Arc<VcenterSession>> {
        self.sessions.lock().get(name).cloned()
    }

    /// Logs every session out (best effort) and forgets them.
    pub async fn logout_all(&self) {
        let sessions: Vec<_> = self.sessions.lock().drain().map(|(_, s)| s).collect();
        for session in sessions {
            if let Err(error) = session.logout().await {
                tracing::warn!(vcenter = session.name(), "vCenter logout failed: {error}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cse_core::config::Secret;

    fn pool() -> VcenterPool {
        cse_bus::tls::install_crypto_provider();
        VcenterPool::new(
            vec![VcenterConfig {
                name: "vc1".into(),
                password: Secret::new("pw"),
                username: "administrator@vsphere.local".into(),
                verify: false,
            }],
            VcenterSettings::default(),
        )
    }

    #[test]
    fn sessions_are_shared_per_name_and_replaced_when_the_url_changes() {
        let pool = pool();
        let a = pool.session("vc1", "https://127.0.0.1:8989").unwrap();
        let b = pool.session("vc1", "https://127.0.0.1:8989/sdk").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        let c = pool.session("vc1", "https://127.0.0.1:9999").unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        assert!(Arc::ptr_eq(&c, &pool.existing("vc1").unwrap()));
    }

    #[test]
    fn the_config_gives_accounts_and_poll_cadence() {
        cse_bus::tls::install_crypto_provider();
        let config = cse_core::config::sample_model();
        let pool = VcenterPool::from_config(&config);
        let name = &config.vcs[0].name;
        assert!(pool.session(name, "https://10.0.0.5:8989").is_ok());
        assert_eq!(
            pool.settings.pool.max_idle_per_host,
            (config.service.max_operations as usize).max(DEFAULT_MAX_IDLE_PER_HOST),
            "as many idle connections kept as operations may run"
        );
        let poll = crate::vsphere::PollSettings::from_config(&config.timeouts);
        assert_eq!(poll.max, config.timeouts.guest_ops_poll_interval.duration());
        assert!(poll.initial <= poll.max);
    }

    #[test]
    fn unknown_vcenters_and_bad_urls_are_errors() {
        let pool = pool();
        let err = pool.session("vc9", "https://h").unwrap_err();
        assert_eq!(
            err.to_string(),
            "vCenter 'vc9' is registered in vCD but has no entry in the config's vcs list"
        );
        assert!(matches!(
            pool.session("vc1", "ftp://h"),
            Err(VsphereError::InvalidUrl { .. })
        ));
    }
}
