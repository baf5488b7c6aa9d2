//! An organization's security policy (issue 14): what it is, where each
//! value comes from, and the pure rule checks that every sign-in path, every
//! request, the simulator and the sign-in trace share, so the explanation
//! can never disagree with the decision.
//!
//! Three layers make the policy an organization lives under:
//! 1. the built-in values (`SecurityPolicy::builtin`), which take the
//!    installation's `NEOSC_SESSION_*`, `NEOSC_PASSWORD_MIN_LENGTH` and
//!    `NEOSC_API_TOKEN_MAX_DAYS`;
//! 2. the installation defaults a platform admin sets (`PolicyOverrides`
//!    over the built-in values) and the fields they lock;
//! 3. the organization's own `PolicyOverrides`.
//!
//! A field the organization does not set takes the default. A locked field
//! can only be tightened: an override looser than the locked default is
//! refused when saved, and if the default is tightened later the effective
//! value is the tighter of the two, so a lock holds at once.
//!
//! Changes are JSON merge patches (RFC 7396) over the stored overrides: a
//! PATCH names only the groups and fields it changes, and `null` resets a
//! field (or a whole group) to the default.

use std::collections::BTreeMap;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Cidr, UserId, ValidationError};

/// How a rule acts. `Monitor` evaluates it and records what it would have
/// refused (an audit event with outcome `denied` and `monitor: true`)
/// without refusing, so admins see the impact before enforcing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    Off,
    Monitor,
    #[default]
    Enforce,
}

impl RuleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Off => "off",
            RuleMode::Monitor => "monitor",
            RuleMode::Enforce => "enforce",
        }
    }

    fn rank(self) -> u8 {
        match self {
            RuleMode::Off => 0,
            RuleMode::Monitor => 1,
            RuleMode::Enforce => 2,
        }
    }
}

/// Where the IP allowlist applies: the browser console (cookie sessions and
/// server functions) and the REST API (bearer tokens) separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IpScope {
    Console,
    Api,
}

impl IpScope {
    pub fn as_str(self) -> &'static str {
        match self {
            IpScope::Console => "console",
            IpScope::Api => "api",
        }
    }
}

/// A way to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    Sso,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::Sso => "sso",
        }
    }
}

/// One allowed block with the admin's note ("Office VPN").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IpEntry {
    /// `10.0.0.0/8`, `2001:db8::/32` or a single address; stored with the
    /// block's first address.
    pub cidr: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaRule {
    pub mode: RuleMode,
    /// Members must have a second factor.
    pub required: bool,
    /// Members who joined before `required` was turned on may go on without
    /// one for this many days after the change; then they must enrol.
    pub grace_days: u32,
    /// An SSO sign-in whose ID token says (`amr`) the provider checked a
    /// second factor counts as one.
    pub trust_idp_mfa: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordRule {
    pub mode: RuleMode,
    pub min_length: u32,
    /// How many of the four classes (lower, upper, digit, other) a new
    /// password must mix.
    pub require_classes: u32,
    /// A new password may not be one of the last N.
    pub history: u32,
    /// A password older than this must be changed at the next sign-in;
    /// none: never.
    pub max_age_days: Option<u32>,
    /// The person is warned this many days before it expires.
    pub expiry_warning_days: u32,
    /// Refuse passwords found in the breached/common list.
    pub check_breached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionRule {
    pub mode: RuleMode,
    /// A session unused this long ends.
    pub idle_minutes: u32,
    /// A session ends this long after sign-in, however busy.
    pub max_hours: u32,
    /// Signing in again beyond this ends the oldest session; none: no limit.
    pub max_sessions_per_user: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LockoutRule {
    pub mode: RuleMode,
    /// Wrong passwords for one account before it must wait.
    pub max_password_attempts: u32,
    /// Wrong one-time codes for one sign-in before it must wait.
    pub max_otp_attempts: u32,
    /// How long it waits.
    pub lockout_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IpAllowlistRule {
    pub mode: RuleMode,
    /// Empty: every address is allowed (the rule has nothing to check).
    pub entries: Vec<IpEntry>,
    pub scopes: Vec<IpScope>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignInRule {
    pub mode: RuleMode,
    pub methods: Vec<SignInMethod>,
    /// Members must sign in through SSO, except those on `break_glass`.
    pub sso_enforced: bool,
    /// Local admins who may still sign in with a password when SSO is
    /// enforced (so an outage of the identity provider locks nobody out).
    #[cfg_attr(feature = "ssr", schema(value_type = Vec<String>))]
    pub break_glass: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiTokenRule {
    pub mode: RuleMode,
    /// Members may create and use personal API tokens.
    pub allowed: bool,
    /// The longest lifetime of a new token.
    pub max_days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InvitationRule {
    pub mode: RuleMode,
    /// Members who are not admins may invite people.
    pub members_can_invite: bool,
}

/// The policy in force: every field has a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SecurityPolicy {
    pub mfa: MfaRule,
    pub password: PasswordRule,
    pub sessions: SessionRule,
    pub lockout: LockoutRule,
    pub ip_allowlist: IpAllowlistRule,
    pub sign_in: SignInRule,
    pub api_tokens: ApiTokenRule,
    pub invitations: InvitationRule,
}

/// The installation values the built-in policy starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstallationLimits {
    pub session_idle_minutes: u32,
    pub session_max_hours: u32,
    pub password_min_length: u32,
    pub api_token_max_days: u32,
}

impl SecurityPolicy {
    /// What applies when nobody set anything: today's behaviour, so
    /// introducing policies changes nothing for anyone.
    pub fn builtin(limits: InstallationLimits) -> Self {
        SecurityPolicy {
            mfa: MfaRule { mode: RuleMode::Enforce, required: false, grace_days: 0, trust_idp_mfa: true },
            password: PasswordRule {
                mode: RuleMode::Enforce,
                min_length: limits.password_min_length,
                require_classes: 0,
                history: 0,
                max_age_days: None,
                expiry_warning_days: 14,
                check_breached: true,
            },
            sessions: SessionRule {
                mode: RuleMode::Enforce,
                idle_minutes: limits.session_idle_minutes,
                max_hours: limits.session_max_hours,
                max_sessions_per_user: None,
            },
            lockout: LockoutRule { mode: RuleMode::Enforce, max_password_attempts: 5, max_otp_attempts: 5, lockout_minutes: 15 },
            ip_allowlist: IpAllowlistRule { mode: RuleMode::Off, entries: Vec::new(), scopes: vec![IpScope::Console, IpScope::Api] },
            sign_in: SignInRule {
                mode: RuleMode::Enforce,
                methods: vec![SignInMethod::Password, SignInMethod::Sso],
                sso_enforced: false,
                break_glass: Vec::new(),
            },
            api_tokens: ApiTokenRule { mode: RuleMode::Enforce, allowed: true, max_days: limits.api_token_max_days },
            invitations: InvitationRule { mode: RuleMode::Enforce, members_can_invite: false },
        }
    }
}

macro_rules! overrides {
    ($(#[$meta:meta])* $name:ident { $($field:ident: $ty:ty),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }
    };
}

overrides!(MfaOverrides { mode: RuleMode, required: bool, grace_days: u32, trust_idp_mfa: bool });
overrides!(PasswordOverrides {
    mode: RuleMode,
    min_length: u32,
    require_classes: u32,
    history: u32,
    max_age_days: u32,
    expiry_warning_days: u32,
    check_breached: bool,
});
overrides!(SessionOverrides { mode: RuleMode, idle_minutes: u32, max_hours: u32, max_sessions_per_user: u32 });
overrides!(LockoutOverrides { mode: RuleMode, max_password_attempts: u32, max_otp_attempts: u32, lockout_minutes: u32 });
overrides!(IpAllowlistOverrides { mode: RuleMode, entries: Vec<IpEntry>, scopes: Vec<IpScope> });
/// Written out rather than by `overrides!`: the ids need their schema named.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RuleMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<SignInMethod>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso_enforced: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Option<Vec<String>>))]
    pub break_glass: Option<Vec<UserId>>,
}
overrides!(ApiTokenOverrides { mode: RuleMode, allowed: bool, max_days: u32 });
overrides!(InvitationOverrides { mode: RuleMode, members_can_invite: bool });

/// What one layer sets; everything else comes from the layer beneath. This
/// is what is stored (organizations and the installation defaults) and what
/// a PATCH merges into. `password.max_age_days` and
/// `sessions.max_sessions_per_user` are "never"/"no limit" in the layer
/// beneath when absent there; a layer cannot set them back to "never" other
/// than by resetting (`null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lockout: Option<LockoutOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_allowlist: Option<IpAllowlistOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_in: Option<SignInOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_tokens: Option<ApiTokenOverrides>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitations: Option<InvitationOverrides>,
}

/// Where a field's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The installation's default (the organization sets nothing).
    Default,
    /// The organization's own value.
    Organization,
    /// The organization's value is looser than a locked default, which
    /// applies instead.
    Locked,
}

/// Every field's dotted path (`group.field`), in form order, with whether a
/// platform admin can lock it. The break-glass list names one
/// organization's people, so it has no installation-wide meaning.
pub const FIELDS: &[(&str, bool)] = &[
    ("mfa.mode", true),
    ("mfa.required", true),
    ("mfa.grace_days", true),
    ("mfa.trust_idp_mfa", true),
    ("password.mode", true),
    ("password.min_length", true),
    ("password.require_classes", true),
    ("password.history", true),
    ("password.max_age_days", true),
    ("password.expiry_warning_days", true),
    ("password.check_breached", true),
    ("sessions.mode", true),
    ("sessions.idle_minutes", true),
    ("sessions.max_hours", true),
    ("sessions.max_sessions_per_user", true),
    ("lockout.mode", true),
    ("lockout.max_password_attempts", true),
    ("lockout.max_otp_attempts", true),
    ("lockout.lockout_minutes", true),
    ("ip_allowlist.mode", true),
    ("ip_allowlist.entries", true),
    ("ip_allowlist.scopes", true),
    ("sign_in.mode", true),
    ("sign_in.methods", true),
    ("sign_in.sso_enforced", true),
    ("sign_in.break_glass", false),
    ("api_tokens.mode", true),
    ("api_tokens.allowed", true),
    ("api_tokens.max_days", true),
    ("invitations.mode", true),
    ("invitations.members_can_invite", true),
];

/// The policy in force for one organization, each field with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResolvedPolicy {
    pub policy: SecurityPolicy,
    /// `group.field` → where its value comes from; every field of `FIELDS`.
    pub sources: BTreeMap<String, Source>,
}

/// Whether `a` is at least as strict as `b`, field by field. Every
/// comparison has the one shape `fn(&T, &T) -> bool` that `Resolver::pick`
/// takes, so the list fields take `&Vec<_>`, not slices.
#[allow(clippy::ptr_arg)]
mod tighter {
    use super::*;

    pub fn mode(a: &RuleMode, b: &RuleMode) -> bool {
        a.rank() >= b.rank()
    }
    pub fn when_true(a: &bool, b: &bool) -> bool {
        *a || !*b
    }
    pub fn when_false(a: &bool, b: &bool) -> bool {
        !*a || *b
    }
    pub fn higher(a: &u32, b: &u32) -> bool {
        a >= b
    }
    pub fn lower(a: &u32, b: &u32) -> bool {
        a <= b
    }
    /// None is "no limit", the loosest.
    pub fn lower_or_unlimited(a: &Option<u32>, b: &Option<u32>) -> bool {
        match (a, b) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(a), Some(b)) => a <= b,
        }
    }
    /// Every block of `a` lies inside a block of `b`; an empty `b` allows
    /// every address, an empty `a` (under a non-empty `b`) too.
    pub fn entries(a: &Vec<IpEntry>, b: &Vec<IpEntry>) -> bool {
        if b.is_empty() {
            return true;
        }
        let outer: Vec<Cidr> = b.iter().filter_map(|e| Cidr::parse(&e.cidr)).collect();
        !a.is_empty() && a.iter().all(|e| Cidr::parse(&e.cidr).is_some_and(|inner| outer.iter().any(|o| o.covers(&inner))))
    }
    pub fn more_scopes(a: &Vec<IpScope>, b: &Vec<IpScope>) -> bool {
        b.iter().all(|s| a.contains(s))
    }
    pub fn fewer_methods(a: &Vec<SignInMethod>, b: &Vec<SignInMethod>) -> bool {
        a.iter().all(|m| b.contains(m))
    }
    pub fn any<T>(_: &T, _: &T) -> bool {
        true
    }
}

/// Fields a layer tried to loosen past a lock, by path.
pub type LoosenedLocks = Vec<&'static str>;

struct Resolver<'a> {
    locks: &'a [String],
    sources: BTreeMap<String, Source>,
    loosened: LoosenedLocks,
}

impl Resolver<'_> {
    fn pick<T: Clone>(&mut self, path: &'static str, beneath: &T, set: Option<&T>, tighter: fn(&T, &T) -> bool) -> T {
        let locked = self.locks.iter().any(|l| l == path);
        let (value, source) = match set {
            None => (beneath.clone(), Source::Default),
            Some(v) if locked && !tighter(v, beneath) => {
                self.loosened.push(path);
                (beneath.clone(), Source::Locked)
            }
            Some(v) => (v.clone(), Source::Organization),
        };
        self.sources.insert(path.to_owned(), source);
        value
    }

    fn pick_opt(&mut self, path: &'static str, beneath: &Option<u32>, set: Option<&u32>) -> Option<u32> {
        let set = set.map(|v| Some(*v));
        self.pick(path, beneath, set.as_ref(), tighter::lower_or_unlimited)
    }
}

impl PolicyOverrides {
    /// This layer over `beneath` (the defaults), honouring `locks`.
    pub fn resolve(&self, beneath: &SecurityPolicy, locks: &[String]) -> ResolvedPolicy {
        self.resolve_checked(beneath, locks).0
    }

    /// The fields this layer sets looser than a locked value beneath: saving
    /// such a layer is refused, naming them.
    pub fn loosened_locks(&self, beneath: &SecurityPolicy, locks: &[String]) -> LoosenedLocks {
        self.resolve_checked(beneath, locks).1
    }

    fn resolve_checked(&self, d: &SecurityPolicy, locks: &[String]) -> (ResolvedPolicy, LoosenedLocks) {
        let mut r = Resolver { locks, sources: BTreeMap::new(), loosened: Vec::new() };
        let mfa = self.mfa.clone().unwrap_or_default();
        let pw = self.password.clone().unwrap_or_default();
        let se = self.sessions.clone().unwrap_or_default();
        let lo = self.lockout.clone().unwrap_or_default();
        let ip = self.ip_allowlist.clone().unwrap_or_default();
        let si = self.sign_in.clone().unwrap_or_default();
        let at = self.api_tokens.clone().unwrap_or_default();
        let inv = self.invitations.clone().unwrap_or_default();
        let policy = SecurityPolicy {
            mfa: MfaRule {
                mode: r.pick("mfa.mode", &d.mfa.mode, mfa.mode.as_ref(), tighter::mode),
                required: r.pick("mfa.required", &d.mfa.required, mfa.required.as_ref(), tighter::when_true),
                grace_days: r.pick("mfa.grace_days", &d.mfa.grace_days, mfa.grace_days.as_ref(), tighter::lower),
                trust_idp_mfa: r.pick("mfa.trust_idp_mfa", &d.mfa.trust_idp_mfa, mfa.trust_idp_mfa.as_ref(), tighter::when_false),
            },
            password: PasswordRule {
                mode: r.pick("password.mode", &d.password.mode, pw.mode.as_ref(), tighter::mode),
                min_length: r.pick("password.min_length", &d.password.min_length, pw.min_length.as_ref(), tighter::higher),
                require_classes: r.pick(
                    "password.require_classes",
                    &d.password.require_classes,
                    pw.require_classes.as_ref(),
                    tighter::higher,
                ),
                history: r.pick("password.history", &d.password.history, pw.history.as_ref(), tighter::higher),
                max_age_days: r.pick_opt("password.max_age_days", &d.password.max_age_days, pw.max_age_days.as_ref()),
                expiry_warning_days: r.pick(
                    "password.expiry_warning_days",
                    &d.password.expiry_warning_days,
                    pw.expiry_warning_days.as_ref(),
                    tighter::any,
                ),
                check_breached: r.pick(
                    "password.check_breached",
                    &d.password.check_breached,
                    pw.check_breached.as_ref(),
                    tighter::when_true,
                ),
            },
            sessions: SessionRule {
                mode: r.pick("sessions.mode", &d.sessions.mode, se.mode.as_ref(), tighter::mode),
                idle_minutes: r.pick("sessions.idle_minutes", &d.sessions.idle_minutes, se.idle_minutes.as_ref(), tighter::lower),
                max_hours: r.pick("sessions.max_hours", &d.sessions.max_hours, se.max_hours.as_ref(), tighter::lower),
                max_sessions_per_user: r.pick_opt(
                    "sessions.max_sessions_per_user",
                    &d.sessions.max_sessions_per_user,
                    se.max_sessions_per_user.as_ref(),
                ),
            },
            lockout: LockoutRule {
                mode: r.pick("lockout.mode", &d.lockout.mode, lo.mode.as_ref(), tighter::mode),
                max_password_attempts: r.pick(
                    "lockout.max_password_attempts",
                    &d.lockout.max_password_attempts,
                    lo.max_password_attempts.as_ref(),
                    tighter::lower,
                ),
                max_otp_attempts: r.pick(
                    "lockout.max_otp_attempts",
                    &d.lockout.max_otp_attempts,
                    lo.max_otp_attempts.as_ref(),
                    tighter::lower,
                ),
                lockout_minutes: r.pick(
                    "lockout.lockout_minutes",
                    &d.lockout.lockout_minutes,
                    lo.lockout_minutes.as_ref(),
                    tighter::higher,
                ),
            },
            ip_allowlist: IpAllowlistRule {
                mode: r.pick("ip_allowlist.mode", &d.ip_allowlist.mode, ip.mode.as_ref(), tighter::mode),
                entries: r.pick("ip_allowlist.entries", &d.ip_allowlist.entries, ip.entries.as_ref(), tighter::entries),
                scopes: r.pick("ip_allowlist.scopes", &d.ip_allowlist.scopes, ip.scopes.as_ref(), tighter::more_scopes),
            },
            sign_in: SignInRule {
                mode: r.pick("sign_in.mode", &d.sign_in.mode, si.mode.as_ref(), tighter::mode),
                methods: r.pick("sign_in.methods", &d.sign_in.methods, si.methods.as_ref(), tighter::fewer_methods),
                sso_enforced: r.pick("sign_in.sso_enforced", &d.sign_in.sso_enforced, si.sso_enforced.as_ref(), tighter::when_true),
                break_glass: r.pick("sign_in.break_glass", &d.sign_in.break_glass, si.break_glass.as_ref(), tighter::any),
            },
            api_tokens: ApiTokenRule {
                mode: r.pick("api_tokens.mode", &d.api_tokens.mode, at.mode.as_ref(), tighter::mode),
                allowed: r.pick("api_tokens.allowed", &d.api_tokens.allowed, at.allowed.as_ref(), tighter::when_false),
                max_days: r.pick("api_tokens.max_days", &d.api_tokens.max_days, at.max_days.as_ref(), tighter::lower),
            },
            invitations: InvitationRule {
                mode: r.pick("invitations.mode", &d.invitations.mode, inv.mode.as_ref(), tighter::mode),
                members_can_invite: r.pick(
                    "invitations.members_can_invite",
                    &d.invitations.members_can_invite,
                    inv.members_can_invite.as_ref(),
                    tighter::when_false,
                ),
            },
        };
        (ResolvedPolicy { policy, sources: r.sources }, r.loosened)
    }
}

/// RFC 7396 JSON merge patch: objects merge key by key, `null` removes a
/// key, anything else replaces. Applied to the stored overrides, then the
/// result must parse as `PolicyOverrides` and validate.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    let serde_json::Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = serde_json::Value::Object(serde_json::Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(serde_json::Value::Null), value);
        }
    }
    // A group left with no field is no override at all.
    target.retain(|_, v| !v.as_object().is_some_and(|o| o.is_empty()));
}

fn in_range(errors: &mut Vec<ValidationError>, field: &'static str, value: Option<u32>, min: u32, max: u32, what: &str) {
    if let Some(v) = value.filter(|v| !(min..=max).contains(v)) {
        errors.push(ValidationError::new(field, format!("{what} must be between {min} and {max} (got {v}).")));
    }
}

/// Most allowlist entries one layer may hold.
pub const MAX_IP_ENTRIES: usize = 200;
/// Most break-glass admins.
pub const MAX_BREAK_GLASS: usize = 10;
/// Longest note on an allowlist entry, in characters.
pub const MAX_NOTE_CHARS: usize = 100;

impl PolicyOverrides {
    /// Each value within its range, every block a block, lists not empty
    /// where empty would mean nothing works. Whether the result locks the
    /// saving admin out is the service's question (it needs the request).
    pub fn validate(&self) -> Result<(), Vec<ValidationError>> {
        let mut e = Vec::new();
        if let Some(m) = &self.mfa {
            in_range(&mut e, "mfa.grace_days", m.grace_days, 0, 90, "The grace period (days)");
        }
        if let Some(p) = &self.password {
            in_range(&mut e, "password.min_length", p.min_length, 8, 128, "The minimum length");
            in_range(&mut e, "password.require_classes", p.require_classes, 0, 4, "The number of character classes");
            in_range(&mut e, "password.history", p.history, 0, 24, "The number of remembered passwords");
            in_range(&mut e, "password.max_age_days", p.max_age_days, 1, 3650, "The maximum age (days)");
            in_range(&mut e, "password.expiry_warning_days", p.expiry_warning_days, 0, 90, "The warning period (days)");
        }
        if let Some(s) = &self.sessions {
            in_range(&mut e, "sessions.idle_minutes", s.idle_minutes, 5, 43_200, "The idle timeout (minutes)");
            in_range(&mut e, "sessions.max_hours", s.max_hours, 1, 8_760, "The session lifetime (hours)");
            in_range(&mut e, "sessions.max_sessions_per_user", s.max_sessions_per_user, 1, 100, "The sessions per person");
        }
        if let Some(l) = &self.lockout {
            in_range(&mut e, "lockout.max_password_attempts", l.max_password_attempts, 3, 100, "The password attempts");
            in_range(&mut e, "lockout.max_otp_attempts", l.max_otp_attempts, 3, 100, "The code attempts");
            in_range(&mut e, "lockout.lockout_minutes", l.lockout_minutes, 1, 1_440, "The lockout (minutes)");
        }
        if let Some(ip) = &self.ip_allowlist {
            if let Some(entries) = &ip.entries {
                if entries.len() > MAX_IP_ENTRIES {
                    e.push(ValidationError::new("ip_allowlist.entries", format!("At most {MAX_IP_ENTRIES} entries.")));
                }
                for entry in entries {
                    if Cidr::parse(&entry.cidr).is_none() {
                        e.push(ValidationError::new(
                            "ip_allowlist.entries",
                            format!("\"{}\" is not an address or a block like 10.0.0.0/8 or 2001:db8::/32.", entry.cidr),
                        ));
                    }
                    if entry.note.chars().count() > MAX_NOTE_CHARS || entry.note.chars().any(char::is_control) {
                        e.push(ValidationError::new(
                            "ip_allowlist.entries",
                            format!("The note of {} must be one line of at most {MAX_NOTE_CHARS} characters.", entry.cidr),
                        ));
                    }
                }
            }
            if ip.scopes.as_ref().is_some_and(Vec::is_empty) {
                e.push(ValidationError::new("ip_allowlist.scopes", "Choose where the allowlist applies: console, API or both."));
            }
        }
        if let Some(s) = &self.sign_in {
            if s.methods.as_ref().is_some_and(Vec::is_empty) {
                e.push(ValidationError::new("sign_in.methods", "At least one way to sign in must stay allowed."));
            }
            if s.break_glass.as_ref().is_some_and(|b| b.len() > MAX_BREAK_GLASS) {
                e.push(ValidationError::new("sign_in.break_glass", format!("At most {MAX_BREAK_GLASS} break-glass admins.")));
            }
        }
        if let Some(a) = &self.api_tokens {
            in_range(&mut e, "api_tokens.max_days", a.max_days, 1, 3650, "The token lifetime (days)");
        }
        if e.is_empty() {
            Ok(())
        } else {
            Err(e)
        }
    }

    /// The same overrides with every block written with its first address
    /// and duplicates (same block) removed, keeping the first note.
    pub fn normalized(mut self) -> Self {
        if let Some(entries) = self.ip_allowlist.as_mut().and_then(|ip| ip.entries.as_mut()) {
            let mut seen = Vec::new();
            entries.retain_mut(|entry| match Cidr::parse(&entry.cidr) {
                Some(c) => {
                    let c = c.normalized();
                    entry.cidr = c.to_string();
                    entry.note = entry.note.trim().to_owned();
                    let fresh = !seen.contains(&c);
                    seen.push(c);
                    fresh
                }
                None => true,
            });
        }
        for list in [self.ip_allowlist.as_mut().and_then(|ip| ip.scopes.as_mut())].into_iter().flatten() {
            list.sort();
            list.dedup();
        }
        if let Some(methods) = self.sign_in.as_mut().and_then(|s| s.methods.as_mut()) {
            methods.sort();
            methods.dedup();
        }
        if let Some(bg) = self.sign_in.as_mut().and_then(|s| s.break_glass.as_mut()) {
            let mut seen = Vec::new();
            bg.retain(|id| {
                let fresh = !seen.contains(id);
                seen.push(*id);
                fresh
            });
        }
        self
    }
}

// ---------------------------------------------------------------------------
// Decisions: each check is one rule against one situation, giving one step of
// a trace. Sign-in paths, the per-request guard, the simulator and the stored
// sign-in trace all build their answer from these, so they agree.
// ---------------------------------------------------------------------------

/// What one rule said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The rule allows it.
    Pass,
    /// The rule refuses it (enforce mode).
    Refuse,
    /// The rule would refuse it, but is in monitor mode.
    WouldRefuse,
    /// The rule is off or has nothing to say here.
    Skipped,
}

/// One rule's part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TraceStep {
    /// The policy group: `ip_allowlist`, `sign_in`, `mfa`, `password`, `sessions`, `api_tokens`.
    pub rule: String,
    pub mode: RuleMode,
    pub verdict: Verdict,
    /// Set when the verdict is `refuse` or `would_refuse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// For admins: what was compared ("203.0.113.9 not in Office VPN 10.0.0.0/8").
    pub detail: String,
}

impl TraceStep {
    fn new(rule: &str, mode: RuleMode, refused: Option<&str>, detail: String) -> Self {
        let verdict = match (mode, refused) {
            (RuleMode::Off, _) => Verdict::Skipped,
            (_, None) => Verdict::Pass,
            (RuleMode::Monitor, Some(_)) => Verdict::WouldRefuse,
            (RuleMode::Enforce, Some(_)) => Verdict::Refuse,
        };
        let reason_code = match verdict {
            Verdict::Refuse | Verdict::WouldRefuse => refused.map(str::to_owned),
            _ => None,
        };
        TraceStep { rule: rule.to_owned(), mode, verdict, reason_code, detail }
    }

    fn skipped(rule: &str, mode: RuleMode, detail: impl Into<String>) -> Self {
        TraceStep { rule: rule.to_owned(), mode, verdict: Verdict::Skipped, reason_code: None, detail: detail.into() }
    }
}

/// A whole decision: the steps in the order they were evaluated, and the
/// first refusal, which decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DecisionTrace {
    pub allowed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    pub steps: Vec<TraceStep>,
}

impl DecisionTrace {
    pub fn from_steps(steps: Vec<TraceStep>) -> Self {
        let reason_code = steps.iter().find(|s| s.verdict == Verdict::Refuse).and_then(|s| s.reason_code.clone());
        DecisionTrace { allowed: reason_code.is_none(), reason_code, steps }
    }

    /// The steps that would have refused in monitor mode: each is recorded
    /// as a `denied` audit event with `monitor: true`.
    pub fn monitored(&self) -> impl Iterator<Item = &TraceStep> {
        self.steps.iter().filter(|s| s.verdict == Verdict::WouldRefuse)
    }
}

/// Reason codes the rules give, and the remediation the person is shown.
pub mod reason {
    pub const IP_NOT_ALLOWED: &str = "ip_not_allowed";
    pub const METHOD_NOT_ALLOWED: &str = "sign_in_method_not_allowed";
    pub const SSO_ENFORCED: &str = "sso_enforced";
    pub const MFA_REQUIRED: &str = "mfa_required";
    pub const PASSWORD_EXPIRED: &str = "password_expired";
    pub const SESSION_EXPIRED_IDLE: &str = "session_expired_idle";
    pub const SESSION_EXPIRED_MAX: &str = "session_expired_max";
    pub const API_TOKENS_NOT_ALLOWED: &str = "api_tokens_not_allowed";
    pub const API_TOKEN_TOO_LONG: &str = "api_token_lifetime_exceeded";
    pub const PASSWORD_TOO_WEAK: &str = "password_policy";
    pub const PASSWORD_REUSED: &str = "password_reused";
    pub const INVITE_NOT_ALLOWED: &str = "members_cannot_invite";
    pub const LOCKED_OUT: &str = "locked_out";
}

/// What the person who was refused reads: what happened and what to do,
/// never whether an account exists.
pub fn remediation(reason_code: &str) -> &'static str {
    match reason_code {
        reason::IP_NOT_ALLOWED => {
            "Your organization only allows access from its own networks, and this address is not one of them. Connect through your organization's network or VPN, or ask your administrator to allow this address."
        }
        reason::METHOD_NOT_ALLOWED => "Your organization does not allow this way of signing in. Use the sign-in method your administrator chose.",
        reason::SSO_ENFORCED => "Your organization signs in through single sign-on. Use \"Sign in with SSO\" instead of a password.",
        reason::MFA_REQUIRED => "Your organization requires a second factor. Set up an authenticator app to continue.",
        reason::PASSWORD_EXPIRED => "Your password has expired under your organization's policy. Choose a new one to continue.",
        reason::SESSION_EXPIRED_IDLE => "You were signed out after a period of inactivity set by your organization. Sign in again.",
        reason::SESSION_EXPIRED_MAX => "Your session reached the longest time your organization allows. Sign in again.",
        reason::API_TOKENS_NOT_ALLOWED => "Your organization does not allow personal API tokens.",
        reason::API_TOKEN_TOO_LONG => "Your organization limits how long an API token may live. Choose a shorter lifetime.",
        reason::PASSWORD_TOO_WEAK => "This password does not meet your organization's password policy.",
        reason::PASSWORD_REUSED => "Your organization does not allow reusing a recent password. Choose one you have not used before.",
        reason::INVITE_NOT_ALLOWED => "Only administrators can invite people to this organization.",
        reason::LOCKED_OUT => "Too many failed attempts. Wait a few minutes, then try again.",
        _ => "Access was refused by your organization's security policy. Ask your administrator.",
    }
}

/// Is this address allowed for this scope?
pub fn check_ip(policy: &SecurityPolicy, scope: IpScope, ip: IpAddr) -> TraceStep {
    let rule = &policy.ip_allowlist;
    if rule.mode == RuleMode::Off {
        return TraceStep::skipped("ip_allowlist", rule.mode, "the IP allowlist is off");
    }
    if !rule.scopes.contains(&scope) {
        return TraceStep::skipped("ip_allowlist", rule.mode, format!("the IP allowlist does not apply to the {}", scope.as_str()));
    }
    if rule.entries.is_empty() {
        return TraceStep::skipped("ip_allowlist", rule.mode, "the IP allowlist has no entries");
    }
    let hit = rule.entries.iter().find(|e| Cidr::parse(&e.cidr).is_some_and(|c| c.contains(ip)));
    let ip = ip.to_canonical();
    match hit {
        Some(e) => TraceStep::new("ip_allowlist", rule.mode, None, format!("{ip} is in {}", describe(e))),
        None => {
            let list = rule.entries.iter().map(describe).collect::<Vec<_>>().join(", ");
            TraceStep::new("ip_allowlist", rule.mode, Some(reason::IP_NOT_ALLOWED), format!("{ip} not in {list}"))
        }
    }
}

fn describe(e: &IpEntry) -> String {
    if e.note.is_empty() {
        e.cidr.clone()
    } else {
        format!("{} {}", e.note, e.cidr)
    }
}

/// May this person sign in this way? `user` is checked against the
/// break-glass list when SSO is enforced.
pub fn check_method(policy: &SecurityPolicy, method: SignInMethod, user: Option<UserId>) -> TraceStep {
    let rule = &policy.sign_in;
    if rule.mode == RuleMode::Off {
        return TraceStep::skipped("sign_in", rule.mode, "sign-in method rules are off");
    }
    if !rule.methods.contains(&method) {
        return TraceStep::new(
            "sign_in",
            rule.mode,
            Some(reason::METHOD_NOT_ALLOWED),
            format!("{} is not an allowed sign-in method", method.as_str()),
        );
    }
    if rule.sso_enforced && method == SignInMethod::Password {
        if user.is_some_and(|u| rule.break_glass.contains(&u)) {
            return TraceStep::new("sign_in", rule.mode, None, "SSO is enforced; password allowed for a break-glass admin".into());
        }
        return TraceStep::new("sign_in", rule.mode, Some(reason::SSO_ENFORCED), "SSO is enforced and this is a password sign-in".into());
    }
    TraceStep::new("sign_in", rule.mode, None, format!("{} is allowed", method.as_str()))
}

/// What the MFA rule needs to know about the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaFacts {
    /// They have a confirmed second factor.
    pub enrolled: bool,
    /// This sign-in came through SSO and the ID token's `amr` shows a
    /// second factor.
    pub idp_mfa: bool,
    /// When they became a member.
    pub member_since: DateTime<Utc>,
    /// When the organization's policy started requiring MFA (none: it
    /// does not, or the time is unknown and the grace period counts from
    /// `member_since`).
    pub required_since: Option<DateTime<Utc>>,
}

/// Must this person enrol a second factor before going on?
pub fn check_mfa(policy: &SecurityPolicy, facts: MfaFacts, now: DateTime<Utc>) -> TraceStep {
    let rule = &policy.mfa;
    if rule.mode == RuleMode::Off || !rule.required {
        return TraceStep::skipped("mfa", rule.mode, "a second factor is not required");
    }
    if facts.enrolled {
        return TraceStep::new("mfa", rule.mode, None, "has a second factor".into());
    }
    if facts.idp_mfa && rule.trust_idp_mfa {
        return TraceStep::new("mfa", rule.mode, None, "the identity provider checked a second factor".into());
    }
    // Only members from before the requirement get the grace period.
    let since = facts.required_since.unwrap_or(facts.member_since);
    if facts.member_since <= since && rule.grace_days > 0 {
        let ends = since + Duration::days(i64::from(rule.grace_days));
        if now < ends {
            return TraceStep::new(
                "mfa",
                rule.mode,
                None,
                format!("no second factor; grace period until {}", ends.format("%Y-%m-%d %H:%M UTC")),
            );
        }
    }
    TraceStep::new("mfa", rule.mode, Some(reason::MFA_REQUIRED), "no second factor".into())
}

/// Is this password too old? `changed_at` none: never changed since the
/// account was made, and `created_at` counts.
pub fn check_password_age(policy: &SecurityPolicy, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> TraceStep {
    let rule = &policy.password;
    let Some(days) = rule.max_age_days.filter(|_| rule.mode != RuleMode::Off) else {
        return TraceStep::skipped("password", rule.mode, "passwords do not expire");
    };
    let expires = changed_at + Duration::days(i64::from(days));
    if now >= expires {
        return TraceStep::new(
            "password",
            rule.mode,
            Some(reason::PASSWORD_EXPIRED),
            format!("the password expired {} (older than {days} days)", expires.format("%Y-%m-%d")),
        );
    }
    TraceStep::new("password", rule.mode, None, format!("the password expires {}", expires.format("%Y-%m-%d")))
}

/// When the person should be warned that their password expires soon.
pub fn password_expiry_warning(policy: &SecurityPolicy, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let rule = &policy.password;
    let days = rule.max_age_days.filter(|_| rule.mode == RuleMode::Enforce)?;
    let expires = changed_at + Duration::days(i64::from(days));
    (now < expires && now >= expires - Duration::days(i64::from(rule.expiry_warning_days))).then_some(expires)
}

/// Has this session outlived the policy?
pub fn check_session(policy: &SecurityPolicy, created_at: DateTime<Utc>, last_seen_at: DateTime<Utc>, now: DateTime<Utc>) -> TraceStep {
    let rule = &policy.sessions;
    if rule.mode == RuleMode::Off {
        return TraceStep::skipped("sessions", rule.mode, "the organization sets no session limits");
    }
    let idle_end = last_seen_at + Duration::minutes(i64::from(rule.idle_minutes));
    let max_end = created_at + Duration::hours(i64::from(rule.max_hours));
    if now >= max_end {
        return TraceStep::new("sessions", rule.mode, Some(reason::SESSION_EXPIRED_MAX), format!("older than {} hours", rule.max_hours));
    }
    if now >= idle_end {
        return TraceStep::new(
            "sessions",
            rule.mode,
            Some(reason::SESSION_EXPIRED_IDLE),
            format!("unused for more than {} minutes", rule.idle_minutes),
        );
    }
    TraceStep::new("sessions", rule.mode, None, "within the idle and absolute limits".into())
}

/// May this personal API token be used (or made, with `lifetime_days`)?
pub fn check_api_token(policy: &SecurityPolicy, lifetime_days: Option<u32>) -> TraceStep {
    let rule = &policy.api_tokens;
    if rule.mode == RuleMode::Off {
        return TraceStep::skipped("api_tokens", rule.mode, "API token rules are off");
    }
    if !rule.allowed {
        return TraceStep::new("api_tokens", rule.mode, Some(reason::API_TOKENS_NOT_ALLOWED), "personal API tokens are not allowed".into());
    }
    if let Some(days) = lifetime_days.filter(|d| *d > rule.max_days) {
        return TraceStep::new(
            "api_tokens",
            rule.mode,
            Some(reason::API_TOKEN_TOO_LONG),
            format!("{days} days is longer than the {} allowed", rule.max_days),
        );
    }
    TraceStep::new("api_tokens", rule.mode, None, "personal API tokens are allowed".into())
}

/// How many of the four character classes a password mixes.
pub fn character_classes(password: &str) -> u32 {
    let has = |f: &dyn Fn(char) -> bool| u32::from(password.chars().any(f));
    has(&char::is_lowercase) + has(&char::is_uppercase) + has(&|c| c.is_ascii_digit()) + has(&|c| !c.is_alphanumeric())
}

/// Does a new password meet the policy's length and class rules? (Breach
/// and history checks need the server.)
pub fn check_password_strength(policy: &SecurityPolicy, password: &str) -> TraceStep {
    let rule = &policy.password;
    if rule.mode == RuleMode::Off {
        return TraceStep::skipped("password", rule.mode, "password rules are off");
    }
    let chars = u32::try_from(password.chars().count()).unwrap_or(u32::MAX);
    if chars < rule.min_length {
        return TraceStep::new(
            "password",
            rule.mode,
            Some(reason::PASSWORD_TOO_WEAK),
            format!("shorter than {} characters", rule.min_length),
        );
    }
    let classes = character_classes(password);
    if classes < rule.require_classes {
        return TraceStep::new(
            "password",
            rule.mode,
            Some(reason::PASSWORD_TOO_WEAK),
            format!("mixes {classes} of the {} required character classes", rule.require_classes),
        );
    }
    TraceStep::new("password", rule.mode, None, "long enough and mixed enough".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> InstallationLimits {
        InstallationLimits { session_idle_minutes: 30, session_max_hours: 12, password_min_length: 12, api_token_max_days: 365 }
    }

    fn overrides(json: serde_json::Value) -> PolicyOverrides {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn nothing_set_is_the_default_everywhere() {
        let base = SecurityPolicy::builtin(limits());
        let resolved = PolicyOverrides::default().resolve(&base, &[]);
        assert_eq!(resolved.policy, base);
        assert_eq!(resolved.sources.len(), FIELDS.len());
        assert!(resolved.sources.values().all(|s| *s == Source::Default));
        for (path, _) in FIELDS {
            assert!(resolved.sources.contains_key(*path), "{path} has no source");
        }
    }

    #[test]
    fn an_organization_value_wins_and_says_so() {
        let base = SecurityPolicy::builtin(limits());
        let org = overrides(serde_json::json!({"password": {"min_length": 16}, "mfa": {"required": true, "grace_days": 7}}));
        let r = org.resolve(&base, &[]);
        assert_eq!(r.policy.password.min_length, 16);
        assert!(r.policy.mfa.required);
        assert_eq!(r.sources["password.min_length"], Source::Organization);
        assert_eq!(r.sources["password.history"], Source::Default);
    }

    #[test]
    fn a_lock_refuses_loosening_and_allows_tightening() {
        let base = SecurityPolicy::builtin(limits());
        let locks = vec!["password.min_length".to_owned(), "ip_allowlist.entries".to_owned(), "sessions.max_sessions_per_user".to_owned()];
        let mut base = base;
        base.ip_allowlist.entries = vec![IpEntry { cidr: "10.0.0.0/8".into(), note: "Corp".into() }];
        base.sessions.max_sessions_per_user = Some(5);
        let looser = overrides(serde_json::json!({
            "password": {"min_length": 10},
            "ip_allowlist": {"entries": [{"cidr": "0.0.0.0/0"}]},
            "sessions": {"max_sessions_per_user": 8},
        }));
        assert_eq!(
            looser.loosened_locks(&base, &locks),
            vec!["password.min_length", "sessions.max_sessions_per_user", "ip_allowlist.entries"]
        );
        let r = looser.resolve(&base, &locks);
        assert_eq!(r.policy.password.min_length, 12);
        assert_eq!(r.sources["password.min_length"], Source::Locked);
        let tighter = overrides(serde_json::json!({
            "password": {"min_length": 20},
            "ip_allowlist": {"entries": [{"cidr": "10.1.0.0/16", "note": "Office"}]},
            "sessions": {"max_sessions_per_user": 2},
        }));
        assert!(tighter.loosened_locks(&base, &locks).is_empty());
        assert_eq!(tighter.resolve(&base, &locks).policy.password.min_length, 20);
    }

    #[test]
    fn merge_patch_changes_only_what_it_names_and_null_resets() {
        let mut stored = serde_json::json!({"password": {"min_length": 16, "history": 3}, "mfa": {"required": true}});
        merge_patch(&mut stored, &serde_json::json!({"password": {"history": null}, "mfa": null, "sessions": {"idle_minutes": 15}}));
        assert_eq!(stored, serde_json::json!({"password": {"min_length": 16}, "sessions": {"idle_minutes": 15}}));
        merge_patch(&mut stored, &serde_json::json!({"password": {"min_length": null}}));
        assert_eq!(stored, serde_json::json!({"sessions": {"idle_minutes": 15}}));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_by_name() {
        assert!(serde_json::from_value::<PolicyOverrides>(serde_json::json!({"pasword": {}})).is_err());
        assert!(serde_json::from_value::<PolicyOverrides>(serde_json::json!({"mfa": {"requird": true}})).is_err());
        let bad = overrides(serde_json::json!({
            "password": {"min_length": 4},
            "ip_allowlist": {"entries": [{"cidr": "10.0.0.0/33"}], "scopes": []},
            "sign_in": {"methods": []},
        }));
        let fields: Vec<_> = bad.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, vec!["password.min_length", "ip_allowlist.entries", "ip_allowlist.scopes", "sign_in.methods"]);
    }

    #[test]
    fn normalising_writes_blocks_by_their_first_address_once() {
        let o = overrides(serde_json::json!({"ip_allowlist": {"entries": [
            {"cidr": "10.1.2.3/8", "note": " VPN "}, {"cidr": "10.0.0.0/8", "note": "again"}, {"cidr": "192.0.2.1"}
        ], "scopes": ["api", "console", "api"]}}))
        .normalized();
        let ip = o.ip_allowlist.unwrap();
        assert_eq!(
            ip.entries.unwrap(),
            vec![IpEntry { cidr: "10.0.0.0/8".into(), note: "VPN".into() }, IpEntry { cidr: "192.0.2.1/32".into(), note: String::new() }]
        );
        assert_eq!(ip.scopes.unwrap(), vec![IpScope::Console, IpScope::Api]);
    }

    fn with_allowlist(mode: RuleMode) -> SecurityPolicy {
        let mut p = SecurityPolicy::builtin(limits());
        p.ip_allowlist = IpAllowlistRule {
            mode,
            entries: vec![IpEntry { cidr: "10.0.0.0/8".into(), note: "Office VPN".into() }],
            scopes: vec![IpScope::Console],
        };
        p
    }

    #[test]
    fn the_allowlist_refuses_in_enforce_records_in_monitor_and_minds_its_scopes() {
        let outside: IpAddr = "203.0.113.9".parse().unwrap();
        let step = check_ip(&with_allowlist(RuleMode::Enforce), IpScope::Console, outside);
        assert_eq!(step.verdict, Verdict::Refuse);
        assert_eq!(step.reason_code.as_deref(), Some(reason::IP_NOT_ALLOWED));
        assert_eq!(step.detail, "203.0.113.9 not in Office VPN 10.0.0.0/8");
        assert_eq!(check_ip(&with_allowlist(RuleMode::Monitor), IpScope::Console, outside).verdict, Verdict::WouldRefuse);
        assert_eq!(check_ip(&with_allowlist(RuleMode::Off), IpScope::Console, outside).verdict, Verdict::Skipped);
        assert_eq!(check_ip(&with_allowlist(RuleMode::Enforce), IpScope::Api, outside).verdict, Verdict::Skipped);
        assert_eq!(check_ip(&with_allowlist(RuleMode::Enforce), IpScope::Console, "10.9.9.9".parse().unwrap()).verdict, Verdict::Pass);
    }

    #[test]
    fn sso_enforcement_spares_break_glass_admins_only() {
        let mut p = SecurityPolicy::builtin(limits());
        p.sign_in.sso_enforced = true;
        let admin = UserId::new();
        p.sign_in.break_glass = vec![admin];
        assert_eq!(check_method(&p, SignInMethod::Password, Some(admin)).verdict, Verdict::Pass);
        let other = check_method(&p, SignInMethod::Password, Some(UserId::new()));
        assert_eq!(other.reason_code.as_deref(), Some(reason::SSO_ENFORCED));
        assert_eq!(check_method(&p, SignInMethod::Sso, None).verdict, Verdict::Pass);
        p.sign_in.methods = vec![SignInMethod::Password];
        assert_eq!(check_method(&p, SignInMethod::Sso, None).reason_code.as_deref(), Some(reason::METHOD_NOT_ALLOWED));
    }

    #[test]
    fn mfa_grace_counts_from_the_requirement_for_earlier_members_only() {
        let mut p = SecurityPolicy::builtin(limits());
        p.mfa.required = true;
        p.mfa.grace_days = 7;
        let now = Utc::now();
        let required_since = Some(now - Duration::days(2));
        let old_member = MfaFacts { enrolled: false, idp_mfa: false, member_since: now - Duration::days(100), required_since };
        assert_eq!(check_mfa(&p, old_member, now).verdict, Verdict::Pass);
        assert_eq!(check_mfa(&p, old_member, now + Duration::days(4)).verdict, Verdict::Pass);
        assert_eq!(check_mfa(&p, old_member, now + Duration::days(5) + Duration::hours(1)).verdict, Verdict::Refuse);
        let new_member = MfaFacts { member_since: now - Duration::days(1), ..old_member };
        assert_eq!(check_mfa(&p, new_member, now).reason_code.as_deref(), Some(reason::MFA_REQUIRED));
        assert_eq!(check_mfa(&p, MfaFacts { idp_mfa: true, ..new_member }, now).verdict, Verdict::Pass);
        p.mfa.trust_idp_mfa = false;
        assert_eq!(check_mfa(&p, MfaFacts { idp_mfa: true, ..new_member }, now).verdict, Verdict::Refuse);
    }

    #[test]
    fn sessions_end_idle_or_at_their_age_limit() {
        let p = SecurityPolicy::builtin(limits());
        let now = Utc::now();
        assert_eq!(check_session(&p, now - Duration::hours(1), now - Duration::minutes(5), now).verdict, Verdict::Pass);
        assert_eq!(
            check_session(&p, now - Duration::hours(1), now - Duration::minutes(31), now).reason_code.as_deref(),
            Some(reason::SESSION_EXPIRED_IDLE)
        );
        assert_eq!(check_session(&p, now - Duration::hours(13), now, now).reason_code.as_deref(), Some(reason::SESSION_EXPIRED_MAX));
    }

    #[test]
    fn the_first_enforced_refusal_decides_and_monitored_ones_are_listed() {
        let p = with_allowlist(RuleMode::Monitor);
        let steps = vec![
            check_ip(&p, IpScope::Console, "203.0.113.9".parse().unwrap()),
            check_method(&p, SignInMethod::Password, None),
            check_api_token(&SecurityPolicy { api_tokens: ApiTokenRule { allowed: false, ..p.api_tokens.clone() }, ..p.clone() }, None),
        ];
        let trace = DecisionTrace::from_steps(steps);
        assert!(!trace.allowed);
        assert_eq!(trace.reason_code.as_deref(), Some(reason::API_TOKENS_NOT_ALLOWED));
        assert_eq!(trace.monitored().count(), 1);
    }

    #[test]
    fn passwords_expire_and_warn_before() {
        let mut p = SecurityPolicy::builtin(limits());
        let now = Utc::now();
        assert_eq!(check_password_age(&p, now - Duration::days(1000), now).verdict, Verdict::Skipped);
        p.password.max_age_days = Some(90);
        assert_eq!(check_password_age(&p, now - Duration::days(91), now).reason_code.as_deref(), Some(reason::PASSWORD_EXPIRED));
        assert_eq!(check_password_age(&p, now - Duration::days(10), now).verdict, Verdict::Pass);
        assert!(password_expiry_warning(&p, now - Duration::days(80), now).is_some());
        assert!(password_expiry_warning(&p, now - Duration::days(10), now).is_none());
    }

    #[test]
    fn strength_counts_length_and_classes() {
        let mut p = SecurityPolicy::builtin(limits());
        p.password.require_classes = 3;
        assert_eq!(character_classes("abcDEF123!"), 4);
        assert_eq!(check_password_strength(&p, "short").verdict, Verdict::Refuse);
        assert_eq!(check_password_strength(&p, "alllowercaseletters").verdict, Verdict::Refuse);
        assert_eq!(check_password_strength(&p, "Mixed case and 1 digit").verdict, Verdict::Pass);
    }
}
