//! The reason vocabulary: every `reason` the operator writes to a condition, in one place.
//!
//! Each reason says what happened and what the admin should do. The strings are API: they appear
//! in `.status`, in `summary.byReason`, in Events and in metrics labels, so they never change once
//! released.

use std::fmt;

/// How a reason counts in the summary and which status its condition carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Nothing is wrong: the condition is `True`.
    Healthy,
    /// Waiting on Teams, a grace period or an approval-free dry run: `False`, no action needed.
    Pending,
    /// Needs an admin's attention or a retry: `False`.
    Failed,
}

/// Where a reason can appear: on a user, on the tenant, or on either.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReasonLevel {
    /// On a user's `Synced` condition.
    User,
    /// On a tenant condition (`Ready`, `AdminConnected`, ...).
    Tenant,
    /// On either.
    Both,
}

macro_rules! reasons {
    ($( $(#[doc = $doc:literal])* $name:ident => $severity:ident, $level:ident, $remedy:literal; )+) => {
        /// Why a condition has its status. See each variant for its meaning and remedy.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Reason {
            $( $(#[doc = $doc])* $name, )+
        }

        impl Reason {
            /// Every reason, in declaration order.
            pub const ALL: &'static [Reason] = &[$(Reason::$name,)+];

            /// The CamelCase string written to `reason`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Reason::$name => stringify!($name),)+ }
            }

            /// Whether the reason is healthy, pending or a failure.
            pub const fn severity(self) -> Severity {
                match self { $(Reason::$name => Severity::$severity,)+ }
            }

            /// Where the reason can appear.
            pub const fn level(self) -> ReasonLevel {
                match self { $(Reason::$name => ReasonLevel::$level,)+ }
            }

            /// What the admin should do about it (empty for healthy reasons).
            pub const fn remedy(self) -> &'static str {
                match self { $(Reason::$name => $remedy,)+ }
            }

            /// What the reason means: the variant's `///` doc, its lines joined by spaces.
            pub const fn meaning(self) -> &'static str {
                match self { $(Reason::$name => concat!($($doc),*).trim_ascii(),)+ }
            }
        }
    };
}

reasons! {
    // ---- user reasons: the seed's causes 1-4 ----
    /// The user's number is assigned in Teams as desired.
    InSync => Healthy, User, "";
    /// The Dialpad user has no email address, so no Teams user can be matched (seed cause 1).
    EmailMissing => Failed, User, "Add the user's work email address in Dialpad.";
    /// The Dialpad user has no phone number (seed cause 2).
    PhoneNumberMissing => Failed, User, "Assign a Dialpad number to the user in Dialpad.";
    /// No enabled or disabled Teams user has this email as mail, UPN or proxy address (seed cause 3).
    TeamsUserNotFound => Failed, User, "Create the user in Microsoft 365, or make the Dialpad email match the user's mail or UPN.";
    /// The email belongs to more than one Teams user (as mail, UPN or proxy address; the message names them), so none is chosen.
    TeamsUserAmbiguous => Failed, User, "Keep the address on one Microsoft 365 user only: remove it from the others' mail, UPN or proxy addresses.";
    /// The Teams user lacks Phone System (Teams Phone), so no number can be assigned (seed cause 4).
    PhoneSystemLicenseMissing => Failed, User, "Assign a licence that includes Teams Phone (Phone System) to the user in Microsoft 365.";
    /// The Teams user has a Microsoft Calling Plan, which conflicts with Direct Routing (seed cause 4).
    CallingPlanAssigned => Failed, User, "Turn off the Calling Plan service plan inside the user's licence when that licence also carries Phone System (the message names it), or remove the Calling Plan add-on licence.";
    // ---- beyond the seed ----
    /// The source's number is not a valid E.164 number even after normalisation.
    InvalidPhoneNumber => Failed, User, "Correct the number in the source to E.164 form, e.g. +14155550100.";
    /// Two or more source users share this email; none of them is synced.
    DuplicateEmail => Failed, User, "Give each user a unique email address in the source.";
    /// The number is held by another Teams user, or this Teams user holds a number this resource may not replace: one the source does not own, or one it owns that this resource did not assign to the user.
    NumberConflict => Failed, User, "Unassign the conflicting number in Teams; or set spec.removal.adoptExisting to take over a number the source owns, or spec.safety.overwriteForeignNumbers to replace any number.";
    /// Teams does not know the number for the configured number type in this tenant (the message quotes Teams).
    NumberNotInTenant => Failed, User, "Check spec.assignment.numberType (Dialpad's numbers are DirectRouting); a Calling Plan or Operator Connect number must first be in the tenant's number inventory.";
    /// The Teams user's account is disabled; numbers cannot be assigned to it.
    TeamsUserDisabled => Failed, User, "Enable the user's account in Microsoft Entra ID, or remove the user from the source.";
    /// A policy the resource names for the user (spec.assignment or the user's office: voiceRoutingPolicy, dialPlan or callingPolicy) does not exist in the tenant under that name and type.
    PolicyNotFound => Failed, User, "Create the policy in the Teams admin center (Voice > Voice routing policies, Dial plans, Calling policies), or correct its name in spec.assignment or the office's entry.";
    /// Teams does not accept the policy type the operator uses for that spec field (UNCONFIRMED names: see --policy-type).
    PolicyTypeUnsupported => Failed, User, "Remove the field from spec.assignment, or start the operator with --policy-type FIELD=TYPE naming the type Teams accepts (the message quotes Teams).";
    /// The user's policy of that kind comes from a group assignment, which this resource leaves alone.
    PolicyHeldByGroup => Failed, User, "Change the group's policy assignment in Teams, remove the user from the group, or set spec.assignment.overrideGroupPolicies to give the user this resource's policy directly.";
    /// Teams refused a policy assignment (the message quotes Teams); it is retried with back-off.
    PolicyAssignmentFailed => Failed, User, "Read Teams' message; check the policy and the user in the Teams admin center.";
    /// Teams refused the number because the emergency location (spec.assignment.emergencyLocationId or the office's) does not exist.
    EmergencyLocationNotFound => Failed, User, "Create the emergency location in the Teams admin center (Locations > Emergency addresses) and put its ID in spec.assignment or the office's entry.";
    /// Teams accepted the assignment and is still activating it; this can take minutes to hours.
    AssignmentPending => Pending, Both, "Nothing; the next sync checks again.";
    /// The user left the source; the number is unassigned once the grace period has passed.
    RemovalPending => Pending, User, "Nothing, unless the user should keep the number: add them back to the source.";
    /// The plan would take more numbers off users (departed users' unassignments and synced users' replacements together) than spec.safety.maxUnassignmentsPerSync allows; none were taken off.
    BlockedBySafetyLimit => Failed, User, "Check the planned removals and replacements; if intended, raise spec.safety.maxUnassignmentsPerSync for one sync.";
    /// spec.mode is DryRun: the message says what would be done; nothing was changed.
    DryRun => Pending, Both, "Set spec.mode to Enforce to apply the plan.";
    /// The tenant cannot sign in; the message carries the tenant's reason (seed cause 5).
    AdminNotConnected => Failed, User, "Fix the AdminConnected condition of the resource.";
    /// The admin lacks the required roles or permissions; the message names them (seed cause 6).
    AdminRolesMissing => Failed, User, "Fix the AdminAuthorized condition of the resource.";
    // ---- tenant sign-in (seed cause 5) ----
    /// Sign-in to Microsoft works.
    SignedIn => Healthy, Tenant, "";
    /// The user name, password or client secret was rejected.
    CredentialsInvalid => Failed, Tenant, "Update the Secret with the account's current password or the app's current client secret.";
    /// Sign-in requires multi-factor authentication, which password sign-in cannot do.
    MfaRequired => Failed, Tenant, "Exclude the admin account from MFA (security defaults or Conditional Access), or use spec.credentials.application.";
    /// A Conditional Access policy (often a location rule) blocked the sign-in.
    SignInBlocked => Failed, Tenant, "Exclude the admin account, or the operator's egress IPs, from the Conditional Access policy.";
    /// The admin account is disabled or locked.
    AccountDisabled => Failed, Tenant, "Enable or unlock the admin account in Microsoft Entra ID.";
    /// The admin account's password has expired.
    PasswordExpired => Failed, Tenant, "Set a new password for the admin account, set it not to expire, and update the Secret.";
    /// The tenant ID or domain is not a known Microsoft tenant.
    TenantNotFound => Failed, Tenant, "Correct spec.tenant.tenantId to the tenant's GUID or verified domain.";
    /// The app registration has no admin consent for the permissions the operator needs.
    ConsentMissing => Failed, Tenant, "Grant admin consent to the app registration for the listed permissions.";
    /// The app registration (client id) is not registered in, or consented to by, this tenant.
    AppNotFound => Failed, Tenant, "Check the client id in the Secret and spec.tenant.tenantId: the app must be registered in this tenant, or consented to by an admin of it.";
    /// The app registration or its enterprise application is disabled in this tenant.
    AppDisabled => Failed, Tenant, "Enable the enterprise application for sign-in in Microsoft Entra ID (Enterprise applications, the app, Properties, 'Enabled for users to sign-in').";
    /// The app requires user assignment and the admin account is not assigned to it.
    AccountNotAssigned => Failed, Tenant, "Assign the admin account to the enterprise application (Users and groups), or set its 'Assignment required' to No.";
    /// The admin's sign-in name is not dialpad-msteams-admin@<spec.tenant.domain>.
    AccountNameInvalid => Failed, Tenant, "Use the account dialpad-msteams-admin@<spec.tenant.domain> in the Secret.";
    /// A referenced Secret or key is missing or empty.
    SecretInvalid => Failed, Tenant, "Create the Secret named in the message in this resource's namespace, with the named key.";
    /// Microsoft Entra rejected the signature of the certificate's client assertion: the
    /// certificate is not registered on the app registration, or the key is not the certificate's.
    CertificateRejected => Failed, Tenant, "Upload the certificate of the Secret (tls.crt) to the app registration (Certificates & secrets, Certificates), or put the key pair of a registered certificate in the Secret.";
    /// The client assertion or ServiceAccount token was outside its valid time range: a wrong
    /// clock on the operator's node, or a projected token file that was not renewed.
    AssertionExpired => Failed, Tenant, "Synchronise the clock of the operator's node (NTP); with workload identity, check that the kubelet renews the projected token file.";
    /// The app registration has no federated credential for the operator's ServiceAccount token.
    FederatedCredentialMissing => Failed, Tenant, "Add a federated credential to the app registration with the issuer, subject and audience the message names (Certificates & secrets, Federated credentials).";
    /// A federated credential of the app registration does not match the token's issuer,
    /// subject or audience; the message says which and what the token carries.
    FederatedCredentialMismatch => Failed, Tenant, "Correct the app registration's federated credential to the value the message names: issuer the cluster's service account issuer, subject system:serviceaccount:<namespace>:<name> of the operator, audience api://AzureADTokenExchange.";
    /// Microsoft Entra could not fetch the service account issuer's discovery document or signing
    /// keys to check the ServiceAccount token (workload identity with a self-hosted issuer).
    FederatedIssuerUnreachable => Failed, Tenant, "Serve the cluster's service account issuer discovery document (<issuer>/.well-known/openid-configuration) and the keys it names (jwks_uri) publicly over HTTPS without authentication, so that Microsoft Entra can fetch them; the issuer must be the exact URL in the token and in the federated credential.";
    /// No ServiceAccount token can be had for workload identity: the named ServiceAccount does not
    /// exist or the operator may not mint tokens for it, or the resource asks for the operator's
    /// own token in a namespace a platform admin did not allow it for.
    FederatedTokenUnavailable => Failed, Tenant, "Set spec.credentials.application.workloadIdentity.serviceAccountName to a ServiceAccount of this namespace (create it if the message says it is missing); the operator's own token needs a platform admin to list this namespace with --operator-token-namespace.";
    /// A spec.endpoints URL is a Microsoft national cloud's (US Government, China), where Teams'
    /// telephone number APIs are not offered; nothing was sent.
    CloudNotSupported => Failed, Tenant, "Remove spec.endpoints.login and spec.endpoints.graph to use Microsoft's global service; Teams' telephone number APIs are not offered in the US Government or China clouds.";
    /// A spec.endpoints URL is neither the vendor's public endpoint nor one a platform admin
    /// allowed; no credential or request was sent to it.
    EndpointNotAllowed => Failed, Tenant, "Remove the spec.endpoints field the message names (the vendor's public endpoint is the default), or ask a platform admin to allow the URL with --allowed-endpoint (chart value allowedEndpoints).";
    // ---- tenant authorization (seed cause 6) ----
    /// The admin holds every required role, or the app every required permission.
    Authorized => Healthy, Tenant, "";
    /// The admin lacks Teams Administrator or Skype for Business Administrator, or the app a permission.
    RolesMissing => Failed, Tenant, "Assign the roles or grant the permissions named in the message.";
    // ---- tenant source and summary ----
    /// The desired state was read from the source.
    SourceRead => Healthy, Tenant, "";
    /// Dialpad rejected the API key.
    // Dialpad's OpenAPI description (vendor/dialpad-openapi.json) marks the company number
    // list as needing a company-admin API key.
    SourceCredentialsInvalid => Failed, Tenant, "Put a current API key of a Dialpad company admin in the Secret: a user's own key cannot read the company's numbers (GET /api/v2/numbers requires a company-admin key).";
    /// The Dialpad API key belongs to another company than spec.source.dialpad.companyId names;
    /// nothing was read or changed.
    // The key's company is Dialpad's answer to GET /api/v2/company (operationId company.get,
    // vendor/dialpad-openapi.json), read before any user.
    SourceWrongCompany => Failed, Tenant, "Put an API key of the Dialpad company spec.source.dialpad.companyId names in the Secret, or correct companyId.";
    // ---- change events (spec.source.dialpad.changeEvents) ----
    /// Dialpad's change-log events arrive over the operator's WebSocket: a change in Dialpad
    /// re-syncs the users it names within seconds, and full syncs run every
    /// spec.fullSyncInterval.
    ChangeEventsConnected => Healthy, Tenant, "";
    /// The operator is setting up or re-opening the WebSocket for the company's change-log events;
    /// meanwhile syncs run every spec.syncInterval.
    ChangeEventsConnecting => Pending, Tenant, "Nothing; it connects on its own. If it stays, the message says what it waits for.";
    /// Dialpad refused the change-log subscription: the API key lacks the `change_log` scope (or is
    /// not a company admin's). Syncs run every spec.syncInterval.
    // `POST /api/v2/subscriptions/changelog` "Requires a company admin API key" and "scope:
    // change_log" (vendor/dialpad-openapi.json, webhook_change_log_event_subscription.create).
    ChangeLogScopeMissing => Failed, Tenant, "Create a Dialpad API key of a company admin with the additional scope change_log (Admin Settings, My Company, Authentication, API Keys) and put it in the Secret; or set spec.source.dialpad.changeEvents.enabled to false.";
    /// Change-log events cannot be received (the message says why: Dialpad refused a call, the
    /// WebSocket cannot be reached, the event secret cannot be stored); syncs run every
    /// spec.syncInterval and it is retried with backoff.
    ChangeEventsUnavailable => Failed, Tenant, "See the message; it is retried on its own. Set spec.source.dialpad.changeEvents.enabled to false to stop trying.";
    /// Every desired user is in sync.
    AllUsersInSync => Healthy, Tenant, "";
    /// Some users are not in sync; summary.byReason and users say which and why.
    UsersNotInSync => Failed, Tenant, "See status.users for each user's reason and remedy.";
    /// The last sync completed and every desired user is in sync (departed users may be waiting
    /// for their grace period).
    Synced => Healthy, Tenant, "";
    /// spec.suspend is true; nothing is read or changed.
    Suspended => Pending, Tenant, "Set spec.suspend to false to resume syncing.";
    /// Another TeamsTenantSync already syncs this Microsoft tenant (the message names it); this one
    /// changes nothing and takes over when that one is deleted.
    DuplicateTenant => Failed, Tenant, "Keep one TeamsTenantSync per Microsoft tenant: delete this one, or the one the message names (this one then takes over).";
    /// The resource breaks a rule of the installed CRD (it was written before the CRD was
    /// upgraded, or by a client that skipped validation); the message names the field. Nothing is
    /// read or changed until it is corrected.
    InvalidSpec => Failed, Tenant, "Correct the field named in the message (kubectl explain teamstenantsync.spec shows its format) and apply the resource again.";
    /// A sync is running; the message says how far it is.
    Syncing => Pending, Tenant, "Nothing; the status is complete when the sync finishes.";
    // ---- either (seed causes 7 and 8) ----
    /// A temporary upstream failure (timeout, throttling, 5xx); it is retried with backoff.
    TransientError => Failed, Both, "Nothing, unless it persists: the message gives the attempt count and next retry.";
    /// Anything else; the message carries the upstream error code and request id.
    UnknownError => Failed, Both, "Look up the error code in the message; report it with the request id if it persists.";
}

impl Reason {
    /// The condition `status` a condition with this reason carries.
    pub const fn condition_status(self) -> &'static str {
        match self.severity() {
            Severity::Healthy => "True",
            Severity::Pending | Severity::Failed => "False",
        }
    }

    /// Parses a reason string as written to a condition.
    pub fn parse(value: &str) -> Option<Reason> {
        Reason::ALL
            .iter()
            .copied()
            .find(|reason| reason.as_str() == value)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_round_trips_through_its_string() {
        for reason in Reason::ALL {
            assert_eq!(Reason::parse(reason.as_str()), Some(*reason));
        }
        assert_eq!(Reason::parse("NoSuchReason"), None);
    }

    #[test]
    fn every_failure_or_pending_reason_tells_the_admin_what_to_do() {
        for reason in Reason::ALL {
            let healthy = reason.severity() == Severity::Healthy;
            assert_eq!(reason.remedy().is_empty(), healthy, "{reason}");
        }
    }

    #[test]
    fn seed_causes_have_their_reasons() {
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        for seed in [
            "EmailMissing",
            "PhoneNumberMissing",
            "TeamsUserNotFound",
            "PhoneSystemLicenseMissing",
            "CallingPlanAssigned",
            "CredentialsInvalid",
            "MfaRequired",
            "SignInBlocked",
            "RolesMissing",
            "TransientError",
            "UnknownError",
        ] {
            assert!(names.contains(&seed), "{seed} missing");
        }
    }

    #[test]
    fn every_reason_means_what_its_doc_says() {
        for reason in Reason::ALL {
            let meaning = reason.meaning();
            assert!(
                !meaning.is_empty() && meaning == meaning.trim(),
                "{reason}: {meaning:?}"
            );
        }
        assert_eq!(
            Reason::Synced.meaning(),
            "The last sync completed and every desired user is in sync (departed users may be waiting \
             for their grace period)."
        );
    }

    #[test]
    fn a_rejected_dialpad_key_says_it_must_be_a_company_admins() {
        let remedy = Reason::SourceCredentialsInvalid.remedy();
        assert!(remedy.contains("company admin"), "{remedy}");
        assert!(remedy.contains("/api/v2/numbers"), "{remedy}");
    }

    #[test]
    fn only_healthy_reasons_make_a_condition_true() {
        assert_eq!(Reason::InSync.condition_status(), "True");
        assert_eq!(Reason::AssignmentPending.condition_status(), "False");
        assert_eq!(Reason::CallingPlanAssigned.condition_status(), "False");
    }
}
