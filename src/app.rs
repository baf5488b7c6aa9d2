//! The HTML shell and the router. Every page is rendered on the server and
//! hydrated in the browser from this same tree.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

use crate::components::CurrentUserProvider;
use crate::pages::{
    paths, AccountPage, CheckInboxPage, ConfirmEmailPage, InvitePage, LoginPage, MfaRequiredPage, MfaStepPage, NotFound, OrgDetailPage,
    OrganizationsPage, PasswordRequiredPage, RegisterPage, VerifyEmailPage, WorkspaceDetailPage, WorkspacesPage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::web::set_page_csp();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="dark">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                // Under its content-hashed name when the build made one
                // (hash.txt next to the binary; see src/server/assets.rs).
                <HashedStylesheet id="leptos" options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-background text-foreground antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: the mark tells
    // tests (and curious admins) that the page is now interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| format!("{page} · NeoSC")/>
        <Router>
            // The signed-in user, loaded here once and shared by every page.
            // Route paths must match src/pages/paths.rs (a test checks).
            <CurrentUserProvider>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=|| view! { <Redirect path=paths::ORGANIZATIONS/> }/>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/login/mfa") view=MfaStepPage/>
                <Route path=path!("/account") view=AccountPage/>
                <Route path=path!("/account/mfa") view=MfaRequiredPage/>
                <Route path=path!("/account/password") view=PasswordRequiredPage/>
                <Route path=path!("/register") view=RegisterPage/>
                <Route path=path!("/organizations") view=OrganizationsPage/>
                <Route path=path!("/organizations/:id") view=OrgDetailPage/>
                <Route path=path!("/organizations/:id/audit") view=OrgDetailPage/>
                <Route path=path!("/workspaces") view=WorkspacesPage/>
                // Rendered whole before it is sent, so a workspace the caller
                // may not see answers with the server function's 404 status.
                <Route path=path!("/workspaces/:id") view=WorkspaceDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/invite/:token") view=InvitePage/>
                <Route path=path!("/verify-email") view=CheckInboxPage/>
                <Route path=path!("/verify-email/:token") view=VerifyEmailPage/>
                <Route path=path!("/confirm-email/:token") view=ConfirmEmailPage/>
            </Routes>
            </CurrentUserProvider>
        </Router>
    }
}
