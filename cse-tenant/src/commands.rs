//! What each `vcd-cse` command does: build the request (bodies from `cse_core::api` with every
//! key present and unused ones `null`), call vCD, and print a table or JSON.

use cse_core::api::{
    Cluster, ClusterTaskReply, CreateClusterBody, CreateClusterReply, CreateNodesBody,
    DeleteNodesBody, MessageBody, NodeInfo, SystemInfo, SystemUpdateBody, TemplateEntry,
};
use cse_core::config::Secret;
use cse_vcd::vcd::{ApiVersion, SessionToken, TokenKind};
use reqwest::Method;
use serde::Serialize;

use super::args::{
    Cli, ClusterCommand, ClusterCreateArgs, Command, LoginArgs, NodeCommand, NodeCreateArgs,
    NodeDeleteArgs, SystemCommand, TemplateCommand, VmArgs,
};
use super::errors::TenantError;
use super::http::{VcdEndpoint, VcdSession, base_url, json_body};
use super::profile::{Profile, ProfileStore, TokenType};
use super::render::{self, LoginResult};
use super::wait::follow_task;
use super::{Io, Settings};

/// Warning printed when TLS certificates are not verified (vcd-cli's text).
pub const INSECURE_WARNING: &str = "InsecureRequestWarning: Unverified HTTPS request is being made. Adding certificate verification is strongly advised.";

/// Run the parsed command.
pub async fn execute(cli: &Cli, settings: &Settings, io: &mut Io<'_>) -> Result<(), TenantError> {
    let store = ProfileStore::new(&settings.profile_path);
    let mut ctx = CommandContext {
        cli,
        settings,
        store,
        io,
    };
    match &cli.command {
        Command::Login(args) => ctx.login(args).await,
        Command::Logout => ctx.logout().await,
        Command::Version => {
            let info = SystemInfo::base(cse_core::CSE_VERSION);
            ctx.print(&info, render::version_text)
        }
        Command::Cluster(command) => ctx.cluster(command).await,
        Command::Node(command) => ctx.node(command).await,
        Command::Template(TemplateCommand::List) => {
            let (_, http) = ctx.connect()?;
            let templates: Vec<TemplateEntry> = http.cse(Method::GET, &["template"], None).await?;
            ctx.print(&templates, |t| render::templates_table(t))
        }
        Command::System(command) => ctx.system(command).await,
    }
}

/// The request body of `cluster create` (all keys present; unused ones `null`).
pub fn create_cluster_body(
    args: &ClusterCreateArgs,
    vdc: &str,
    ssh_key: Option<String>,
) -> CreateClusterBody {
    CreateClusterBody {
        name: Some(args.name.clone()),
        node_count: Some(i64::from(args.nodes)),
        vdc: Some(vdc.to_owned()),
        cpu: args.vm.cpu.map(i64::from),
        memory: args.vm.memory.map(i64::from),
        network: Some(args.vm.network.clone()),
        storage_profile: args.vm.storage_profile.clone(),
        ssh_key,
        template: args.vm.template.clone(),
        enable_nfs: Some(args.enable_nfs),
        disable_rollback: Some(args.vm.disable_rollback),
    }
}

/// The request body of `node create` (all keys present; unused ones `null`).
pub fn create_nodes_body(
    args: &NodeCreateArgs,
    vdc: Option<&str>,
    ssh_key: Option<String>,
) -> CreateNodesBody {
    CreateNodesBody {
        name: Some(args.name.clone()),
        node_count: Some(i64::from(args.nodes)),
        vdc: vdc.map(str::to_owned),
        cpu: args.vm.cpu.map(i64::from),
        memory: args.vm.memory.map(i64::from),
        network: Some(args.vm.network.clone()),
        storage_profile: args.vm.storage_profile.clone(),
        ssh_key,
        template: args.vm.template.clone(),
        node_type: Some(args.node_type.api_name().to_owned()),
        disable_rollback: Some(args.vm.disable_rollback),
    }
}

/// The request body of `node delete`.
pub fn delete_nodes_body(args: &NodeDeleteArgs, vdc: Option<&str>) -> DeleteNodesBody {
    DeleteNodesBody {
        name: Some(args.name.clone()),
        vdc: vdc.map(str::to_owned),
        nodes: Some(args.node_names.clone()),
        force: Some(args.force),
    }
}

/// The contents of an `--ssh-key` file (trailing whitespace removed).
pub fn read_ssh_key(vm: &VmArgs) -> Result<Option<String>, TenantError> {
    let Some(path) = &vm.ssh_key else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|e| TenantError::SshKey {
        path: path.clone(),
        cause: e.to_string(),
    })?;
    let key = text.trim_end().to_owned();
    if key.is_empty() {
        return Err(TenantError::SshKey {
            path: path.clone(),
            cause: "the file is empty".to_owned(),
        });
    }
    Ok(Some(key))
}

/// An API version given by the user (`-V`) or stored in the profile.
fn parse_version(text: &str) -> Result<ApiVersion, TenantError> {
    ApiVersion::parse(text).ok_or_else(|| TenantError::InvalidApiVersion(text.trim().to_owned()))
}

/// The JSON of `cluster config`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterConfigOutput {
    /// Cluster name.
    pub name: String,
    /// Kubeconfig YAML text.
    pub config: String,
}

struct CommandContext<'c, 'io, 'w> {
    cli: &'c Cli,
    settings: &'c Settings,
    store: ProfileStore,
    io: &'io mut Io<'w>,
}

impl CommandContext<'_, '_, '_> {
    fn print<T: Serialize>(
        &mut self,
        value: &T,
        table: impl Fn(&T) -> String,
    ) -> Result<(), TenantError> {
        let text = if self.cli.json {
            render::to_json(value)
        } else {
            table(value)
        };
        writeln!(self.io.stdout, "{text}")?;
        Ok(())
    }

    fn warn(&mut self, text: &str) -> Result<(), TenantError> {
        writeln!(self.io.stderr, "{text}")?;
        Ok(())
    }

    fn confirm(&mut self, yes: bool, question: &str) -> Result<(), TenantError> {
        if yes {
            return Ok(());
        }
        match self.io.prompter.confirm(question) {
            Ok(true) => Ok(()),
            Ok(false) | Err(_) => Err(TenantError::Aborted),
        }
    }

    /// The stored login and a session resumed from its token.
    fn connect(&mut self) -> Result<(Profile, VcdSession), TenantError> {
        let profile = self.store.require_login()?;
        if let Some(warning) = self.store.permission_warning() {
            self.warn(&warning)?;
        }
        let base = base_url(&profile.host)?;
        if !profile.verify && !profile.disable_warnings && base.scheme() == "https" {
            self.warn(INSECURE_WARNING)?;
        }
        let version = parse_version(&profile.api_version)?;
        let session =
            VcdEndpoint::new(base, profile.verify)?.resume(profile.session_token(), version);
        Ok((profile, session))
    }

    async fn login(&mut self, args: &LoginArgs) -> Result<(), TenantError> {
        let result = self.try_login(args).await;
        if result.is_err() {
            // As vcd-cli: a failed login leaves no usable session behind.
            let _ = self.store.clear_token();
        }
        result
    }

    async fn try_login(&mut self, args: &LoginArgs) -> Result<(), TenantError> {
        let base = base_url(&args.host)?;
        let verify = !args.insecure;
        if !verify && !args.disable_warnings && base.scheme() == "https" {
            self.warn(INSECURE_WARNING)?;
        }
        let endpoint = VcdEndpoint::new(base.clone(), verify)?;
        let api_version = match &args.api_version {
            Some(v) => parse_version(v)?,
            None => endpoint.negotiate().await?,
        };
        let session = match &args.session_id {
            Some(id) => {
                endpoint
                    .rehydrate(SessionToken::guess(id), api_version.clone())
                    .await?
            }
            None => {
                let password = match &args.password {
                    Some(p) => Secret::new(p.as_str()),
                    None => Secret::new(
                        self.io
                            .prompter
                            .password("Password: ")
                            .map_err(|e| TenantError::Password(e.to_string()))?,
                    ),
                };
                endpoint
                    .login(&args.org, &args.user, &password, api_version.clone())
                    .await?
            }
        };
        let info = session.info();
        let org_href = info
            .org_href()
            .map_err(|_| TenantError::UnexpectedReply {
                url: session.api_url(&["session"]).to_string(),
                status: 200,
                detail: "the Session has no link to the logged-in organization".to_owned(),
            })?
            .to_owned();
        let org_doc = session.get_xml(&org_href).await?;
        let vdcs = session.vdc_links(&org_doc).await?;
        let vdc = match &args.vdc {
            Some(wanted) => Some(
                vdcs.into_iter()
                    .find(|v| v.name == *wanted)
                    .ok_or_else(|| TenantError::VdcNotFound(wanted.clone()))?,
            ),
            None => vdcs.into_iter().next(),
        };
        let user = Some(info.user)
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| args.user.clone());
        let org = Some(info.org)
            .filter(|o| !o.is_empty())
            .unwrap_or_else(|| args.org.clone());
        let token = session.token();
        let profile = Profile {
            host: base.as_str().trim_end_matches('/').to_owned(),
            org: org.clone(),
            user: user.clone(),
            token: token.secret().clone(),
            token_type: match token.kind() {
                TokenKind::Legacy => TokenType::Legacy,
                TokenKind::Bearer => TokenType::Bearer,
            },
            api_version: api_version.to_string(),
            verify,
            disable_warnings: args.disable_warnings,
            vdc: vdc.as_ref().map(|v| v.name.clone()).unwrap_or_default(),
            vdc_href: vdc.as_ref().map(|v| v.href.clone()).unwrap_or_default(),
            org_href,
        };
        self.store.save(&profile)?;
        let result = LoginResult {
            user,
            org,
            vdc: profile.vdc.clone(),
            logged_in: true,
        };
        self.print(&result, |r| render::login_text(&r.user, &r.org, &r.vdc))
    }

    async fn logout(&mut self) -> Result<(), TenantError> {
        let (profile, http) = self.connect()?;
        // The token is forgotten even if vCD cannot be told (as vcd-cli).
        let _ = http.logout().await;
        self.store.clear_token()?;
        let message = MessageBody::new(format!("{} logged out.", profile.user));
        self.print(&message, |m| render::sanitize(&m.message))
    }

    fn vdc_of<'a>(profile: &'a Profile, wanted: &'a Option<String>) -> Option<&'a str> {
        wanted
            .as_deref()
            .or(Some(profile.vdc.as_str()))
            .filter(|v| !v.trim().is_empty())
    }

    async fn cluster(&mut self, command: &ClusterCommand) -> Result<(), TenantError> {
        match command {
            ClusterCommand::List => {
                let (_, http) = self.connect()?;
                let clusters: Vec<Cluster> = http.cse(Method::GET, &[], None).await?;
                self.print(&clusters, |c| render::clusters_table(c))
            }
            ClusterCommand::Create(args) => {
                let ssh_key = read_ssh_key(&args.vm)?;
                let (profile, http) = self.connect()?;
                let vdc = Self::vdc_of(&profile, &args.vm.vdc).ok_or(TenantError::NoVdc)?;
                let body = create_cluster_body(args, vdc, ssh_key);
                let reply: CreateClusterReply =
                    http.cse(Method::POST, &[], Some(json_body(&body))).await?;
                if self.cli.follow_tasks() {
                    self.follow(&http, &reply.task_href).await
                } else {
                    self.print(&reply, render::create_cluster_reply_table)
                }
            }
            ClusterCommand::Info { name } => {
                let (_, http) = self.connect()?;
                let cluster: Cluster = http.cse(Method::GET, &[name, "info"], None).await?;
                self.print(&cluster, render::cluster_info_table)
            }
            ClusterCommand::Config { name } => {
                let (_, http) = self.connect()?;
                let config = http.cse_config(name).await?;
                if self.cli.json {
                    let output = ClusterConfigOutput {
                        name: name.clone(),
                        config,
                    };
                    writeln!(self.io.stdout, "{}", render::to_json(&output))?;
                } else {
                    write!(self.io.stdout, "{config}")?;
                    if !config.ends_with('\n') {
                        writeln!(self.io.stdout)?;
                    }
                }
                Ok(())
            }
            ClusterCommand::Delete { name, yes } => {
                self.confirm(*yes, "Are you sure you want to delete the cluster?")?;
                let (_, http) = self.connect()?;
                let reply: ClusterTaskReply = http.cse(Method::DELETE, &[name], None).await?;
                self.task_reply(&http, &reply).await
            }
        }
    }

    async fn node(&mut self, command: &NodeCommand) -> Result<(), TenantError> {
        match command {
            NodeCommand::List { name } => {
                let (_, http) = self.connect()?;
                let cluster: Cluster = http.cse(Method::GET, &[name, "info"], None).await?;
                let text = if self.cli.json {
                    render::nodes_json(&cluster)
                } else {
                    render::nodes_table(&cluster)
                };
                writeln!(self.io.stdout, "{text}")?;
                Ok(())
            }
            NodeCommand::Create(args) => {
                let ssh_key = read_ssh_key(&args.vm)?;
                let (profile, http) = self.connect()?;
                let vdc = Self::vdc_of(&profile, &args.vm.vdc);
                let body = create_nodes_body(args, vdc, ssh_key);
                let reply: ClusterTaskReply = http
                    .cse(Method::POST, &[&args.name, "node"], Some(json_body(&body)))
                    .await?;
                self.task_reply(&http, &reply).await
            }
            NodeCommand::Info {
                cluster_name,
                node_name,
            } => {
                let (_, http) = self.connect()?;
                let node: NodeInfo = http
                    .cse(Method::GET, &[cluster_name, node_name, "info"], None)
                    .await?;
                self.print(&node, render::node_info_table)
            }
            NodeCommand::Delete(args) => {
                self.confirm(args.yes, "Are you sure you want to delete the node(s)?")?;
                let (profile, http) = self.connect()?;
                let vdc = Self::vdc_of(&profile, &args.vdc);
                let body = delete_nodes_body(args, vdc);
                let reply: ClusterTaskReply = http
                    .cse(
                        Method::DELETE,
                        &[&args.name, "node"],
                        Some(json_body(&body)),
                    )
                    .await?;
                self.task_reply(&http, &reply).await
            }
        }
    }

    async fn system(&mut self, command: &SystemCommand) -> Result<(), TenantError> {
        let update = match command {
            SystemCommand::Info => {
                let (_, http) = self.connect()?;
                let info: SystemInfo = http.cse(Method::GET, &["system"], None).await?;
                return self.print(&info, render::system_info_table);
            }
            SystemCommand::Enable => SystemUpdateBody::set_enabled(true),
            SystemCommand::Disable => SystemUpdateBody::set_enabled(false),
            SystemCommand::Stop { yes } => {
                self.confirm(*yes, "Are you sure you want to stop the service?")?;
                SystemUpdateBody::stop()
            }
        };
        let (_, http) = self.connect()?;
        let reply: MessageBody = http
            .cse(Method::PUT, &["system"], Some(json_body(&update)))
            .await?;
        self.print(&reply, render::message_table)
    }

    async fn task_reply(
        &mut self,
        http: &VcdSession,
        reply: &ClusterTaskReply,
    ) -> Result<(), TenantError> {
        if self.cli.follow_tasks() {
            self.follow(http, &reply.task_href).await
        } else {
            self.print(reply, render::task_reply_table)
        }
    }

    async fn follow(&mut self, http: &VcdSession, task_href: &str) -> Result<(), TenantError> {
        let state = follow_task(
            http,
            task_href,
            self.settings.poll_interval,
            self.io.progress,
        )
        .await?;
        let text = if self.cli.json {
            render::task_result_json(&state)
        } else {
            render::task_result_text(&state)
        };
        writeln!(self.io.stdout, "{text}")?;
        Ok(())
    }
}
